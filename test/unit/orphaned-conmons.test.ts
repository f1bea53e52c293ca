import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { endOrphanedConmons, orphanedConmons } from '../../local/orphaned-conmons';
import { eventually } from '../support/harness';

/**
 * The conmons (and their `runc init`) of containers podman no longer has: which the local mode
 * ends, decided from the process table, and ended for real on processes that only look the part.
 */

const conmon = (pid: number, name: string, bundle: string) => ({
  pid, ppid: 1, argv: ['/usr/bin/conmon', '--api-version', '1', '-c', 'abc', '-u', 'abc', '-r', '/usr/bin/runc', '-b', bundle, '-n', name],
});

describe('orphanedConmons', () => {
  it('picks a Berth container\'s conmon whose bundle is gone, with what it started, and nothing else', () => {
    // Prepare
    const table = [
      conmon(10, 'berth-ns-0b025ca85ca60229', '/storage/gone/userdata'),
      { pid: 11, ppid: 10, argv: ['/usr/bin/runc', 'init'] },
      conmon(20, 'berth-ns-ed284ebfbade7a62', '/storage/here/userdata'),
      { pid: 21, ppid: 20, argv: ['sh', '-c', 'relay'] },
      conmon(30, 'someone-elses', '/storage/gone-too/userdata'),
      { pid: 40, ppid: 1, argv: ['/usr/bin/podman', '-n', 'berth-x', '-b', '/storage/gone/userdata'] },
    ];
    const exists = (path: string) => path === '/storage/here/userdata';

    // Act
    const pids = orphanedConmons(table, exists);

    // Assess
    expect(pids).toEqual([10, 11]);
  });

  it('ends such a process and its child on this machine', async () => {
    // Prepare: a shell named conmon, for a Berth container whose bundle does not exist, holding a child.
    const fake = spawn('sh', ['-c', 'sleep 600 & wait', '-b', '/nonexistent/berth-test/userdata', '-n', `berth-ns-test-${process.pid}`], {
      argv0: '/usr/bin/conmon', stdio: 'ignore',
    });
    const exited = new Promise<string | null>((resolve) => fake.once('exit', (_code, signal) => resolve(signal)));
    const childOf = (ppid: number) => readFileSync(`/proc/${ppid}/task/${ppid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const [child] = await eventually(async () => {
      const children = childOf(fake.pid!);
      return children.length > 0 ? children : undefined;
    }, 5_000, 'the stand-in to start its child');
    const lines: string[] = [];

    // Act
    const ended = endOrphanedConmons((l) => lines.push(l));

    // Assess: both gone, and said.
    expect(await exited).toBe('SIGKILL');
    await eventually(async () => (readStat(child) === undefined ? true : undefined), 5_000, 'the child to end');
    expect(ended).toBeGreaterThanOrEqual(2);
    expect(lines).toEqual([expect.stringMatching(/^ended \d+ process\(es\) of containers podman no longer has/)]);
  });
});

/** The process's state letter, or undefined once it is gone (a zombie counts as gone). */
function readStat(pid: number): string | undefined {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state === 'Z' ? undefined : state;
  } catch {
    return undefined;
  }
}
