import { RequestCounter, targetGroupOfLabel } from '../../shared/autoscaling/request-counts';

describe('RequestCounter', () => {
  it('counts the requests of a window from running totals', () => {
    // Prepare
    const c = new RequestCounter();
    c.record('tg', 1000, 50);
    c.record('tg', 2000, 80);

    // Act / Assess
    expect(c.countBetween('tg', 1000, 2000)).toBe(30);
    expect(c.countBetween('tg', 1100, 2000)).toBe(30);
  });

  it('has no datapoint before a second reading, nor for a key never read', () => {
    const c = new RequestCounter();
    c.record('tg', 1000, 50);
    expect(c.countBetween('tg', 0, 1000)).toBeUndefined();
    expect(c.countBetween('other', 0, 1000)).toBeUndefined();
  });

  it('takes a lower total as a counter started afresh (a reload), never a negative count', () => {
    // Prepare
    const c = new RequestCounter();
    c.record('tg', 1000, 500);
    c.record('tg', 2000, 20);

    // Act / Assess
    expect(c.countBetween('tg', 1000, 2000)).toBe(20);
  });

  it('reads the window from the reading nearest its start when passes run a little early', () => {
    const c = new RequestCounter();
    c.record('tg', 1000, 10);
    c.record('tg', 1990, 40);
    expect(c.countBetween('tg', 990, 1990)).toBe(30);
  });
});

describe('targetGroupOfLabel', () => {
  it.each([
    ['app/web/0123abcd/targetgroup/web/4567ef01', { loadBalancer: 'app/web/0123abcd', targetGroup: 'targetgroup/web/4567ef01' }],
    ['web/targetgroup', undefined],
    ['app/web/1/targetgroup/web', undefined],
  ])('reads %s', (label, expected) => {
    expect(targetGroupOfLabel(label)).toEqual(expected);
  });
});
