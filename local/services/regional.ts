import type { Operation } from '../../shared/aws-protocol/operation';
import type { Berth } from '../../shared/context';
import type { TableSpec } from '../dynalite';
import { DEFAULT_TABLE_PREFIX } from '../../shared/store/tables';
import { regionTablePrefix } from '../regions';

/** Builds one region's slice: its operations over tables named with `tablePrefix`, bound to that region's Berth. */
export type BuildSlice = (b: Berth, tablePrefix: string) => Promise<Record<string, Operation>>;

export interface RegionalOperations {
  /** Every operation, each answered by the slice of the region its call's Berth serves. */
  operations: Record<string, Operation>;
  /** A region's slice, built at its first use (the local mode builds it when the region starts). */
  inRegion(b: Berth): Promise<Record<string, Operation>>;
}

/**
 * A local stand-in served per region, as AWS serves each service: a region's slice is built once,
 * from that region's Berth (its partition for ARNs, its clock, its ECS) and over tables of its
 * own, the way the region's ECS tables are named (local/regions.ts). Which region answers a call
 * is the handler's BerthFor's choice, by the signature's scope, as for ECS. The home region's
 * slice is built now, so a bad table or key fails the start; `homePrefix` is its tables' prefix.
 */
export async function regionalOperations(home: Berth, build: BuildSlice, homePrefix?: string): Promise<RegionalOperations> {
  const homeRegion = home.partition.region;
  const built = new Map<string, Promise<Record<string, Operation>>>();
  const inRegion = (b: Berth) => {
    const region = b.partition.region;
    let slice = built.get(region);
    if (!slice) {
      slice = build(b, region === homeRegion && homePrefix !== undefined ? homePrefix : regionTablePrefix(region, homeRegion));
      built.set(region, slice);
      // A build that failed is tried again by the next call.
      slice.catch(() => built.delete(region));
    }
    return slice;
  };
  const names = Object.keys(await inRegion(home));
  const operations: Record<string, Operation> = Object.fromEntries(names.map((name) => [
    name, (async (b, body, caller) => (await inRegion(b))[name](b, body, caller)) satisfies Operation,
  ]));
  return { operations, inRegion };
}

/** A slice's table (named with the default prefix) as a region names it: that region's prefix in its place. */
export const regionalTable = (t: TableSpec, tablePrefix: string): TableSpec => ({ ...t, name: `${tablePrefix}${t.name.slice(DEFAULT_TABLE_PREFIX.length)}` });
