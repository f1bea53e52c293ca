import { findOrphans } from '../../shared/capacity/orphans';

describe('findOrphans', () => {
  const now = 1_000_000;
  const grace = 300;
  const old = now - grace * 1000;

  it.each([
    ['a host no record tracks, past its grace', { hostId: 'i-stray', launchedAt: old }, ['i-stray']],
    ['one still within its grace', { hostId: 'i-new', launchedAt: old + 1 }, []],
    ['one a live record tracks by host id', { hostId: 'i-live', launchedAt: old }, []],
    ['one a live record tracks by instance id', { hostId: 'i-by-instance', launchedAt: old }, []],
    ['one of a launch still in doubt', { hostId: 'i-doubt', launchedAt: old, clientToken: 'launch-1' }, []],
    ['one of a launch no longer in doubt', { hostId: 'i-done', launchedAt: old, clientToken: 'launch-2' }, ['i-done']],
    ['one whose record was written off but whose machine runs', { hostId: 'i-lost', launchedAt: old }, ['i-lost']],
  ])('%s', (_what, host, expected) => {
    // Prepare: the live records (i-lost's is not among them: LOST is not live) and one launch in doubt.
    const live = [{ hostId: 'i-live' }, { hostId: 'h-1', instanceId: 'i-by-instance' }];

    // Act
    const orphans = findOrphans({ running: [host], live, pending: [{ launchId: 'launch-1' }], now, graceSeconds: grace });

    // Assess
    expect(orphans).toEqual(expected);
  });
});
