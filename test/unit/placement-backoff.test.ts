import { MAX_PLACEMENT_BACKOFF_SECONDS, placementBackoffSeconds } from '../../shared/lifecycle/steps';

/** The waits of a launch that never finds room, placement taking no time: each ends in a placement. */
function waitsUntilDeadline(deadlineSeconds: number, baseSeconds: number): number[] {
  const waits: number[] = [];
  let at = 0;
  while (at < deadlineSeconds) {
    const wait = placementBackoffSeconds(at * 1000, (deadlineSeconds - at) * 1000, baseSeconds);
    waits.push(wait);
    at += wait;
  }
  return waits;
}

describe('placementBackoffSeconds', () => {
  it('costs at most 1 state transition per 10 s of waiting over the default 300 s deadline (3 a round)', () => {
    const waits = waitsUntilDeadline(300, 1);
    expect(waits.reduce((a, b) => a + b)).toBe(300);
    expect((3 * waits.length) / (300 / 10)).toBeLessThanOrEqual(1);
  });

  it('doubles from the base, caps at the maximum, and never waits past the deadline', () => {
    expect(waitsUntilDeadline(300, 1)).toEqual([1, 2, 6, 18, 54, MAX_PLACEMENT_BACKOFF_SECONDS, 60, 60, 39]);
    expect(waitsUntilDeadline(2, 1)).toEqual([1, 1]);
    expect(placementBackoffSeconds(0, 300_000, 60)).toBe(60);
  });

  it('waits at least a second, as TimeoutSecondsPath requires', () => {
    expect(placementBackoffSeconds(10_000, 1, 1)).toBe(1);
    expect(placementBackoffSeconds(10_000, -5, 1)).toBe(1);
  });
});
