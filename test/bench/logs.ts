/**
 * `npm run bench:logs`: the awslogs path for 10,000 lines. The agent's shipper sends them
 * through @aws-sdk/client-cloudwatch-logs to the local Logs slice on dynalite, and the AWS SDK
 * pages them back with GetLogEvents. Baseline, in the same run: the same lines appended to a
 * file one by one, as the agent writes a container's output without awslogs.
 */
import { CreateLogGroupCommand, CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CloudWatchLogSink } from '../../agent/logs/cloudwatch-log-sink';
import { LogShipper } from '../../agent/logs/log-shipper';
import { TEST_CREDENTIALS } from '../support/harness';
import { readStream, startLogsSlice } from '../support/logs-slice';
import { formatTable, ms, perSecond, ratio } from './support/table';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const LINES = 10_000;
const ROUNDS = 3;

async function main(): Promise<void> {
  const slice = await startLogsSlice();
  const sink = new CloudWatchLogSink({ region: 'us-east-1', endpoint: slice.url, credentials: async () => TEST_CREDENTIALS });
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-logs-'));
  const lines = Array.from({ length: LINES }, (_, i) => `line ${i + 1} of the container's output`);
  const best = { ship: Infinity, read: Infinity, file: Infinity };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const s = { logGroupName: `/bench/${round}`, logStreamName: 'bench/app/task' };
      await slice.logs.send(new CreateLogGroupCommand({ logGroupName: s.logGroupName }));
      await slice.logs.send(new CreateLogStreamCommand(s));

      let t = performance.now();
      const shipper = new LogShipper(sink, s.logGroupName, s.logStreamName);
      for (const line of lines) shipper.push(line);
      await shipper.close();
      best.ship = Math.min(best.ship, performance.now() - t);

      t = performance.now();
      const events = await readStream(slice.logs, s.logGroupName, s.logStreamName);
      best.read = Math.min(best.read, performance.now() - t);
      if (events.length !== LINES) throw new Error(`read back ${events.length} of ${LINES} lines`);

      t = performance.now();
      const file = join(dir, `${round}.log`);
      for (const line of lines) appendFileSync(file, `${line}\n`);
      best.file = Math.min(best.file, performance.now() - t);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    sink.destroy();
    await slice.close();
  }
  console.log(`\n${LINES.toLocaleString('en-US')} lines, best of ${ROUNDS} (each figure beside its baseline, measured in this run)\n`);
  console.log(formatTable(['measure', 'figure', 'baseline', 'ratio'], [
    ['ship (PutLogEvents to the slice)', ms(best.ship), `${ms(best.file)} to a file`, ratio(best.ship, best.file)],
    ['read back (GetLogEvents pages)', ms(best.read), `${ms(best.file)} to a file`, ratio(best.read, best.file)],
    ['ship + read back, lines per second', perSecond(LINES / ((best.ship + best.read) / 1000)), perSecond(LINES / (best.file / 1000)), ratio(best.ship + best.read, best.file)],
  ]));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
