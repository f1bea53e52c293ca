/**
 * `npm run bench`: runs every benchmark in turn, each in its own process (so one's JIT state,
 * heap and open handles never colour another's figures), streaming its output as it goes.
 * `npm run bench -- placement` runs only the named ones. Exits 1 if any benchmark failed.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** In the order they run. A new benchmark is a file in test/bench and a line here. */
const BENCHMARKS = [
  'placement.ts',
  'service.ts',
  'fleet.ts',
  'launch.ts',
  'logs.ts',
  'batch.ts',
  'control-plane.ts',
  'schedules.ts',
] as const;

interface Outcome {
  file: string;
  exitCode: number;
  seconds: number;
}

const tsxCli = require.resolve('tsx/cli');

function runBenchmark(file: string): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsxCli, path.join(__dirname, file)], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({
      file,
      exitCode: code ?? (signal ? 128 : 1),
      seconds: (performance.now() - started) / 1000,
    }));
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const selected = wanted.length === 0
    ? [...BENCHMARKS]
    : BENCHMARKS.filter((b) => wanted.some((w) => b === w || b === `${w}.ts`));
  const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b === w || b === `${w}.ts`));
  if (unknown.length > 0) {
    console.error(`No such benchmark: ${unknown.join(', ')} (have: ${BENCHMARKS.join(', ')})`);
    process.exitCode = 2;
    return;
  }

  const outcomes: Outcome[] = [];
  for (const file of selected) {
    console.log(`\n=== bench ${file} ===\n`);
    outcomes.push(await runBenchmark(file));
  }

  console.log('\n=== benchmarks ===');
  for (const o of outcomes) {
    console.log(`${o.exitCode === 0 ? 'ok    ' : 'FAILED'} ${o.file} (${o.seconds.toFixed(1)} s${o.exitCode === 0 ? '' : `, exit ${o.exitCode}`})`);
  }
  if (outcomes.some((o) => o.exitCode !== 0)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error('bench runner crashed:', e);
  process.exitCode = 1;
});
