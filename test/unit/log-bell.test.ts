import { PassThrough } from 'node:stream';
import { LogBell } from '../../agent/runtime/log-bell';

/** Whether the promise has settled by the time the pending callbacks have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

const LONG = 60_000;

describe('LogBell (a held follow of a log, as the signal to read it)', () => {
  it('rings when the follow carries anything, and not again until more comes after a reset', async () => {
    // Prepare
    const follow = new PassThrough();
    const bell = new LogBell(Promise.resolve(follow));
    await settled(Promise.resolve());
    // It rings as the follow opens: what came before is in neither the last read nor the follow.
    expect(await settled(bell.rung(LONG))).toBe(true);
    bell.reset();
    const quiet = bell.rung(LONG);

    // Act and assess: nothing written, no ring.
    expect(await settled(quiet)).toBe(false);
    follow.write('a line\n');
    expect(await settled(quiet)).toBe(true);
    // A ring before the wait begins is not lost; a reset (the read) forgets it.
    follow.write('another\n');
    await settled(Promise.resolve());
    expect(await settled(bell.rung(LONG))).toBe(true);
    bell.reset();
    expect(await settled(bell.rung(LONG))).toBe(false);
    bell.close();
  });

  it('rings for good once the follow ends, so reads go back to the timer', async () => {
    // Prepare
    const follow = new PassThrough();
    const bell = new LogBell(Promise.resolve(follow));
    await settled(Promise.resolve());

    // Act
    follow.end();
    follow.resume();
    await new Promise((r) => follow.once('end', r));
    bell.reset();

    // Assess
    expect(await settled(bell.rung(LONG))).toBe(true);
  });

  it('rings for good when the follow cannot be opened', async () => {
    // Prepare
    const bell = new LogBell(Promise.reject(new Error('no follow')));
    await settled(Promise.resolve());
    bell.reset();

    // Assess
    expect(await settled(bell.rung(LONG))).toBe(true);
  });

  it('answers after quietMs when the follow says nothing (a follow left hanging)', async () => {
    // Prepare
    jest.useFakeTimers();
    try {
      const bell = new LogBell(new Promise(() => {}));
      const quiet = bell.rung(5_000);

      // Act and assess
      jest.advanceTimersByTime(4_999);
      await Promise.resolve();
      let done = false;
      void quiet.then(() => (done = true));
      await Promise.resolve();
      expect(done).toBe(false);
      jest.advanceTimersByTime(1);
      await quiet;
      bell.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('closes the follow, also one that opens after the close', async () => {
    // Prepare
    const follow = new PassThrough();
    let open!: (s: PassThrough) => void;
    const bell = new LogBell(new Promise((r) => (open = r)));

    // Act
    bell.close();
    open(follow);
    await settled(Promise.resolve());

    // Assess
    expect(follow.destroyed).toBe(true);
  });
});
