import { CRASH_POINTS, UnknownCrashPointError, crashHook, parseCrashPlan } from '../../local/crash-points';
import { LIFECYCLE_STEP_NAMES } from '../../shared/lifecycle/steps';

/** The crash suite's fault injection: which points exist, and when the hook kills. */
describe('Crash points', () => {
  describe('CRASH_POINTS', () => {
    it('has a point before and after every lifecycle step', () => {
      for (const step of LIFECYCLE_STEP_NAMES) {
        expect(CRASH_POINTS).toEqual(expect.arrayContaining([`${step}:before`, `${step}:after`]));
      }
    });
  });

  describe('parseCrashPlan', () => {
    it('reads one point or several, each for any task or for one startedBy', () => {
      expect(parseCrashPlan(undefined)).toBeUndefined();
      expect(parseCrashPlan('place:after')).toEqual([{ point: 'place:after', startedBy: undefined }]);
      expect(parseCrashPlan('place:after@a,release:before@b')).toEqual([
        { point: 'place:after', startedBy: 'a' }, { point: 'release:before', startedBy: 'b' },
      ]);
    });

    it('reads the capacity manager\'s launch points, and a hook armed at one dies there with no task', async () => {
      const deaths: number[] = [];
      const hook = crashHook(parseCrashPlan('launch:returned')!, async () => undefined, () => {}, () => deaths.push(1));
      void hook('launch:recorded', undefined);
      void hook('launch:returned', undefined);
      await new Promise((r) => setImmediate(r));
      expect(deaths).toEqual([1]);
    });

    it('refuses a point the code does not have', () => {
      expect(() => parseCrashPlan('place:during')).toThrow(UnknownCrashPointError);
    });
  });

  describe('crashHook', () => {
    const flush = () => new Promise((r) => setImmediate(r));
    const task = (taskId: string) => ({ cluster: 'default', taskId });
    const startedBy = async (t: { taskId: string }) => `by-${t.taskId}`;

    it('holds a task at its point and dies once every point holds one', async () => {
      // Prepare
      const deaths: number[] = [];
      const hook = crashHook(parseCrashPlan('place:after@by-1,start:before@by-2')!, startedBy, () => {}, () => deaths.push(1));
      const passed: string[] = [];

      // Act
      await hook('place:after', task('2')).then(() => passed.push('2 at place:after'));
      void hook('place:after', task('1')).then(() => passed.push('1 at place:after'));
      await flush();
      const deathsWithOne = deaths.length;
      void hook('start:before', task('2')).then(() => passed.push('2 at start:before'));
      await flush();

      // Assess: only the task a point names is held there; the rest go by.
      expect(deathsWithOne).toBe(0);
      expect(deaths).toHaveLength(1);
      expect(passed).toEqual(['2 at place:after']);
    });

    it('with no startedBy, dies at the first task to reach the point', async () => {
      const deaths: number[] = [];
      const hook = crashHook(parseCrashPlan('release:after')!, startedBy, () => {}, () => deaths.push(1));
      await hook('release:before', task('1'));
      void hook('release:after', task('1'));
      await flush();
      expect(deaths).toHaveLength(1);
    });
  });
});
