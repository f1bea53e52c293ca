import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { join } from 'node:path';
import { localDynamoClient } from './dynalite';
import type { BerthFor } from '../shared/aws-protocol/handler';
import { type ServedRegions, servedRegion } from '../shared/auth/regions';
import { AWS_REGION_PATTERN } from '../shared/config/variables';
import type { Berth } from '../shared/context';
import { DEFAULT_TABLE_PREFIX, TABLES, type TableNames, tableNames } from '../shared/store/tables';

/**
 * Where a region's own tables live: the home region keeps the plain prefix (so a data directory
 * made before regions keeps its state), every other region a prefix of its own.
 */
export const regionTablePrefix = (region: string, home: string): string =>
  region === home ? DEFAULT_TABLE_PREFIX : `${DEFAULT_TABLE_PREFIX}${region}-`;

/** Where a region keeps its files (its agents' and its load balancer's): the home region in the data directory itself. */
export const regionDataDir = (dataDir: string, region: string, home: string): string =>
  region === home ? dataDir : join(dataDir, 'regions', region);

/**
 * A region's tables. Access keys are the account's, as IAM's are global: every region reads the
 * home region's table, so one key signs calls to all of them.
 */
export function regionTables(region: string, home: string): TableNames {
  return { ...tableNames(regionTablePrefix(region, home)), accessKeys: tableNames(DEFAULT_TABLE_PREFIX).accessKeys };
}

/** The regions other than `home` whose tables an earlier run of the data directory made. */
export async function regionsWithTables(endpoint: string, home: string): Promise<string[]> {
  const client = localDynamoClient(endpoint);
  try {
    const names: string[] = [];
    let start: string | undefined;
    do {
      const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      names.push(...(page.TableNames ?? []));
      start = page.LastEvaluatedTableName;
    } while (start);
    const suffix = `-${TABLES.clusters.suffix}`;
    return names
      .filter((n) => n.startsWith(DEFAULT_TABLE_PREFIX) && n.endsWith(suffix))
      .map((n) => n.slice(DEFAULT_TABLE_PREFIX.length, -suffix.length))
      .filter((r) => r !== home && AWS_REGION_PATTERN.test(r))
      .sort();
  } finally {
    client.destroy();
  }
}

/**
 * The local endpoint's regions. ECS is regional: each region the callers name gets a control
 * plane and fleet of its own (its tables, workflows, service scheduler, capacity manager and
 * agents), started at its first call, as a deployed stack serves one region. The home region is
 * the one the local mode starts with; an unsigned call is served there.
 */
export class LocalRegions<S extends { berth: Berth }> {
  private readonly stacks = new Map<string, Promise<S>>();

  constructor(
    readonly home: string,
    private readonly homeBerth: Berth,
    readonly served: ServedRegions,
    private readonly start: (region: string) => Promise<S>,
  ) {}

  /** The Berth a call is served by: its signature's region, started if need be; AWS's error for one not served. */
  readonly berthFor: BerthFor = async (scope) => {
    const region = servedRegion(scope, this.home, this.served);
    return region === this.home ? this.homeBerth : (await this.stack(region)).berth;
  };

  /** Another region's stack, started once. */
  stack(region: string): Promise<S> {
    let stack = this.stacks.get(region);
    if (!stack) {
      stack = this.start(region);
      this.stacks.set(region, stack);
      // A start that failed is tried again by the next call.
      stack.catch(() => this.stacks.delete(region));
    }
    return stack;
  }

  /** The regions besides home started so far. */
  started(): string[] {
    return [...this.stacks.keys()].sort();
  }
}
