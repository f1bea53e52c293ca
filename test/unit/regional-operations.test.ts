import { describe, expect, it } from '@jest/globals';
import type { Berth } from '../../shared/context';
import { regionalOperations, regionalTable } from '../../local/services/regional';

const berthIn = (region: string) => ({ partition: { region, accountId: '000000000000' } }) as Berth;

describe('regionalOperations', () => {
  it('answers each call with the slice of its Berth\'s region, built once per region over that region\'s tables', async () => {
    // Prepare
    const builds: string[] = [];
    const { operations } = await regionalOperations(berthIn('us-east-1'), async (b, tablePrefix) => {
      builds.push(`${b.partition.region}:${tablePrefix}`);
      return { Where: async () => ({ region: b.partition.region, tablePrefix }) };
    });

    // Act
    const answers = [
      await operations.Where(berthIn('eu-west-1'), {}, {}),
      await operations.Where(berthIn('us-east-1'), {}, {}),
      await operations.Where(berthIn('eu-west-1'), {}, {}),
    ];

    // Assess
    expect(answers).toEqual([
      { region: 'eu-west-1', tablePrefix: 'berth-eu-west-1-' },
      { region: 'us-east-1', tablePrefix: 'berth-' },
      { region: 'eu-west-1', tablePrefix: 'berth-eu-west-1-' },
    ]);
    expect(builds).toEqual(['us-east-1:berth-', 'eu-west-1:berth-eu-west-1-']);
  });

  it('keeps the home region\'s own prefix when given one', async () => {
    // Act
    const { operations } = await regionalOperations(berthIn('us-east-1'), async (_b, tablePrefix) => ({ Prefix: async () => ({ tablePrefix }) }), 'test-');

    // Assess
    expect(await operations.Prefix(berthIn('us-east-1'), {}, {})).toEqual({ tablePrefix: 'test-' });
  });

  it('builds a region again after a build that failed', async () => {
    // Prepare
    let failing = true;
    const { operations } = await regionalOperations(berthIn('us-east-1'), async (b) => {
      if (b.partition.region !== 'us-east-1' && failing) throw new Error('no tables yet');
      return { Ping: async () => ({ ok: true }) };
    });

    // Act
    const first = await operations.Ping(berthIn('eu-west-1'), {}, {}).catch((e: Error) => e.message);
    failing = false;
    const second = await operations.Ping(berthIn('eu-west-1'), {}, {});

    // Assess
    expect([first, second]).toEqual(['no tables yet', { ok: true }]);
  });
});

describe('regionalTable', () => {
  it('names a slice\'s table with the region\'s prefix in place of the default one', () => {
    expect(regionalTable({ name: 'berth-local-secrets', hashKey: 'name' }, 'berth-eu-west-1-')).toEqual({ name: 'berth-eu-west-1-local-secrets', hashKey: 'name' });
  });
});
