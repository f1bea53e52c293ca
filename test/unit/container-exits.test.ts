import { PassThrough } from 'node:stream';
import { ContainerExits, ContainerGoneError, type Looked, exitOf } from '../../agent/runtime/container-exits';

/** An engine whose event streams the test writes to, one per open, with the `since` each was asked for. */
function fakeEngine() {
  const streams: PassThrough[] = [];
  const since: (number | undefined)[] = [];
  return {
    streams,
    since,
    open: async (s?: number) => {
      since.push(s);
      const stream = new PassThrough();
      streams.push(stream);
      return stream;
    },
  };
}

const died = (id: string, exitCode: number, time = 1_700_000_000) =>
  `${JSON.stringify({ Type: 'container', Action: 'died', time, Actor: { ID: id, Attributes: { exitCode: String(exitCode) } } })}\n`;

/** The slow path: an engine whose containers' states the test sets, and which counts each look. */
function engineState() {
  const states = new Map<string, Looked | 'running'>();
  const looks: string[][] = [];
  return {
    states,
    looks,
    look: async (ids: readonly string[]) => {
      looks.push([...ids]);
      const out = new Map<string, Looked>();
      for (const id of ids) {
        const s = states.get(id) ?? 'gone';
        if (s !== 'running') out.set(id, s);
      }
      return out;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
/** Waits (in 5 ms steps, at most a second) for what the code under test does on its own timers. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

describe('ContainerExits', () => {
  describe('exitOf', () => {
    it.each([
      ['Docker', { Type: 'container', Action: 'die', Actor: { ID: 'c1', Attributes: { exitCode: '3' } } }, { id: 'c1', exitCode: 3 }],
      ['podman', { Type: 'container', status: 'died', id: 'c1', Actor: { ID: 'c1', Attributes: { containerExitCode: '0' } } }, { id: 'c1', exitCode: 0 }],
      ['a start', { Type: 'container', Action: 'start', Actor: { ID: 'c1', Attributes: {} } }, undefined],
      ['a network event', { Type: 'network', Action: 'die', Actor: { ID: 'n1', Attributes: { exitCode: '0' } } }, undefined],
      ['an exit without a code', { Type: 'container', Action: 'die', Actor: { ID: 'c1', Attributes: {} } }, undefined],
    ])('reads %s', (_what, event, expected) => {
      expect(exitOf(event)).toEqual(expected);
    });
  });

  it('answers a wait with the exit event, without looking', async () => {
    // Prepare
    const engine = fakeEngine();
    const state = engineState();
    state.states.set('c1', 'running');
    const exits = new ContainerExits({ open: engine.open, look: state.look, lookIntervalMs: 60_000 });
    await exits.watch();

    // Act
    const waited = exits.wait('c1');
    engine.streams[0].write(died('c2', 1));
    engine.streams[0].write(died('c1', 42).slice(0, 20));
    engine.streams[0].write(died('c1', 42).slice(20));

    // Assess
    await expect(waited).resolves.toBe(42);
    exits.close();
  });

  it('answers at once a wait that asks after the exit was announced', async () => {
    // Prepare: a container that exits as it starts, before anyone waits.
    const engine = fakeEngine();
    const state = engineState();
    const exits = new ContainerExits({ open: engine.open, look: state.look, lookIntervalMs: 60_000 });
    await exits.watch();
    engine.streams[0].write(died('c1', 7));
    await tick();

    // Act
    const code = await exits.wait('c1');

    // Assess
    expect(code).toBe(7);
    expect(state.looks).toEqual([]);
    exits.close();
  });

  it('answers, by looking, a wait on a container that exited before the stream was open', async () => {
    // Prepare: it exited while no stream was open (the agent was restarting).
    const engine = fakeEngine();
    const state = engineState();
    state.states.set('c1', { exitCode: 3 });
    const exits = new ContainerExits({ open: engine.open, look: state.look, lookIntervalMs: 60_000 });

    // Act
    const code = await exits.wait('c1');

    // Assess
    expect(code).toBe(3);
    exits.close();
  });

  it('falls back to looking every lookIntervalMs for an exit the stream never announces', async () => {
    // Prepare
    const engine = fakeEngine();
    const state = engineState();
    state.states.set('c1', 'running');
    const exits = new ContainerExits({ open: engine.open, look: state.look, lookIntervalMs: 20 });
    const waited = exits.wait('c1');
    await tick();

    // Act: it exits; the event is lost.
    state.states.set('c1', { exitCode: 137 });

    // Assess
    await expect(waited).resolves.toBe(137);
    expect(state.looks.length).toBeGreaterThanOrEqual(2);
    exits.close();
  });

  it('falls back to looking when the engine cannot stream its events at all, and says so once', async () => {
    // Prepare
    const log: string[] = [];
    const state = engineState();
    state.states.set('c1', 'running');
    const exits = new ContainerExits({
      open: () => Promise.reject(new Error('no events here')), look: state.look, log: (m) => log.push(m), reopenDelayMs: 5, lookIntervalMs: 20,
    });
    const waited = exits.wait('c1');
    await until(() => log.length > 0, 'the stream\'s failure to be said');

    // Act
    state.states.set('c1', { exitCode: 0 });

    // Assess
    await expect(waited).resolves.toBe(0);
    expect(log).toEqual([expect.stringContaining('no events here')]);
    exits.close();
  });

  it('rejects a wait on a container that is gone', async () => {
    // Prepare
    const engine = fakeEngine();
    const exits = new ContainerExits({ open: engine.open, look: engineState().look, lookIntervalMs: 60_000 });

    // Act, assess
    await expect(exits.wait('c9')).rejects.toBeInstanceOf(ContainerGoneError);
    exits.close();
  });

  it('reopens a stream that ended, replaying from its last event, so an exit sent meanwhile still answers', async () => {
    // Prepare
    const engine = fakeEngine();
    const state = engineState();
    state.states.set('c1', 'running');
    const exits = new ContainerExits({ open: engine.open, look: state.look, reopenDelayMs: 1, lookIntervalMs: 60_000 });
    await exits.watch();
    engine.streams[0].write(died('c0', 0, 1_700_000_100));
    const waited = exits.wait('c1');

    // Act: the engine drops the stream; c1 exits before it is opened again.
    engine.streams[0].end();
    await until(() => engine.streams.length >= 2, 'the stream to be opened again');
    engine.streams[1].write(died('c1', 9, 1_700_000_101));

    // Assess
    await expect(waited).resolves.toBe(9);
    expect(engine.since).toEqual([undefined, 1_700_000_100]);
    exits.close();
  });
});
