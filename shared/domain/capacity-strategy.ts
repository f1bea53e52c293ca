import type { Market } from '../capacity/types';
import { InvalidParameterException } from './errors';
import { type Json, isObject, optInt, reqString } from './fields';

/** The providers every cluster has, as in ECS, and the market each one runs its tasks in. */
export const FARGATE_PROVIDERS = { FARGATE: 'on-demand', FARGATE_SPOT: 'spot' } as const satisfies Record<string, Market>;
export type CapacityProviderName = keyof typeof FARGATE_PROVIDERS;
export const CAPACITY_PROVIDER_NAMES = Object.keys(FARGATE_PROVIDERS) as CapacityProviderName[];

export const isCapacityProviderName = (s: string): s is CapacityProviderName =>
  (CAPACITY_PROVIDER_NAMES as string[]).includes(s);

/** The market of a Fargate provider's tasks; a custom provider's is its pool's (capacity-provider.ts). */
export const marketOf = (provider: CapacityProviderName): Market => FARGATE_PROVIDERS[provider];

/** The provider a task that names none runs under: the operator's market decides. */
export const providerForMarket = (market: Market): CapacityProviderName => (market === 'spot' ? 'FARGATE_SPOT' : 'FARGATE');

export interface CapacityProviderStrategyItem {
  /** FARGATE, FARGATE_SPOT or a custom provider associated with the cluster. */
  capacityProvider: string;
  base: number;
  weight: number;
}
export type CapacityProviderStrategy = readonly CapacityProviderStrategyItem[];

const NOT_ASSOCIATED =
  'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. '
  + 'Associate the capacity provider with the cluster or specify a valid capacity provider and try again.';

export const MAX_STRATEGY_ITEMS = 6;
export const MAX_BASE = 100_000;
export const MAX_WEIGHT = 1000;

/** Where a strategy came from changes ECS's wording of the weight error. */
export type StrategySource = 'request' | 'default';

/**
 * Reads and validates `capacityProviderStrategy` (or `defaultCapacityProviderStrategy`) as ECS
 * does: each item's provider must be one the cluster has, base 0–100000 on at most one item,
 * weight 0–1000 with at least one above zero, no provider twice, at most six items. Undefined
 * when the member is absent; an empty list counts as absent for a request (ECS ignores it) but is
 * a valid default (it clears the cluster's default).
 */
export function readCapacityProviderStrategy(body: Json, key: string, source: StrategySource): CapacityProviderStrategyItem[] | undefined {
  const raw = body[key];
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new InvalidParameterException(`${key} must be a list.`);
  if (raw.length > MAX_STRATEGY_ITEMS) {
    throw new InvalidParameterException(`The specified capacity provider strategy cannot contain more than ${MAX_STRATEGY_ITEMS} capacity providers.`);
  }
  const items = raw.map((item, i) => {
    const path = `${key}[${i}]`;
    if (!isObject(item)) throw new InvalidParameterException(`${path} must be an object.`);
    const capacityProvider = reqString(item, 'capacityProvider', `${path}.capacityProvider`, 255);
    return {
      capacityProvider,
      base: optInt(item, 'base', `${path}.base`, { min: 0, max: MAX_BASE }) ?? 0,
      weight: optInt(item, 'weight', `${path}.weight`, { min: 0, max: MAX_WEIGHT }) ?? 0,
    };
  });
  return validateStrategy(items, source);
}

/** The rules on a parsed strategy, apart from its JSON shape. */
export function validateStrategy(
  items: readonly { capacityProvider: string; base: number; weight: number }[],
  source: StrategySource,
): CapacityProviderStrategyItem[] {
  if (items.length === 0) return [];
  const seen = new Set<string>();
  for (const { capacityProvider } of items) {
    // Which providers exist is the cluster's to say (requireAssociated); a name no provider can have is refused here.
    if (!/^[a-zA-Z0-9_-]{1,255}$/.test(capacityProvider)) throw new InvalidParameterException(NOT_ASSOCIATED);
    if (seen.has(capacityProvider)) {
      throw new InvalidParameterException(`The specified capacity provider strategy cannot contain duplicate capacity providers: ${capacityProvider}.`);
    }
    seen.add(capacityProvider);
  }
  if (items.filter((i) => i.base > 0).length > 1) {
    throw new InvalidParameterException('The specified capacity provider strategy cannot specify a base value for more than one capacity provider.');
  }
  if (!items.some((i) => i.weight > 0)) {
    throw new InvalidParameterException(source === 'default'
      ? 'There are no capacity providers with a weight value greater than zero defined in the default capacity provider strategy. '
        + 'At least one capacity provider must have a weight value greater than zero specified. '
        + "Update the cluster's default capacity provider strategy or specify a valid capacity provider strategy and try again."
      : 'There are no capacity providers with a weight value greater than zero defined in the capacity provider strategy. '
        + 'At least one capacity provider must have a weight value greater than zero specified.');
  }
  return items.map((i) => ({ capacityProvider: i.capacityProvider, base: i.base, weight: i.weight }));
}

/** A strategy may name only providers associated with its cluster. */
export function requireAssociated(strategy: CapacityProviderStrategy, associated: readonly string[]): void {
  if (strategy.some((i) => !associated.includes(i.capacityProvider))) throw new InvalidParameterException(NOT_ASSOCIATED);
}

/**
 * What a task of this provider asks of the capacity manager: hosts of a Fargate provider's
 * market, or hosts of a custom provider's pool (whose market the pool's description gives).
 */
export const demandOf = (provider: string): { market: Market } | { capacityProvider: string } =>
  (isCapacityProviderName(provider) ? { market: marketOf(provider) } : { capacityProvider: provider });

/** The host attribute that names the pool (custom capacity provider) a host was launched for. */
export const POOL_ATTRIBUTE = 'berth.capacity-provider';

/**
 * The placement rule a provider implies. A Fargate provider's tasks run only on hosts of its
 * market that belong to no pool; a host that records no market (one that joined on its own)
 * counts as on-demand, as the capacity manager counts it. A custom provider's tasks run only on
 * its pool's hosts.
 */
export function providerConstraint(provider: string): { type: 'memberOf'; expression: string } {
  if (!isCapacityProviderName(provider)) return { type: 'memberOf', expression: `attribute:${POOL_ATTRIBUTE} == ${provider}` };
  const noPool = `attribute:${POOL_ATTRIBUTE} !exists`;
  return marketOf(provider) === 'spot'
    ? { type: 'memberOf', expression: `attribute:berth.market == spot and ${noPool}` }
    : { type: 'memberOf', expression: `attribute:berth.market != spot and ${noPool}` };
}

export const LAUNCH_TYPE_AND_STRATEGY =
  'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.';

/** RunTask, CreateService and UpdateService take a launch type or a strategy, never both. */
export function refuseLaunchTypeWithStrategy(launchType: unknown, strategy: CapacityProviderStrategy | undefined): void {
  if (launchType !== undefined && strategy !== undefined && strategy.length > 0) {
    throw new InvalidParameterException(LAUNCH_TYPE_AND_STRATEGY);
  }
}

/** How many tasks each provider runs now (a service's live tasks; none for a RunTask). */
export type ProviderCounts = Partial<Record<string, number>>;

/** Adds each task to its provider's count. */
export function addProviders(counts: Record<string, number>, tasks: readonly { capacityProviderName?: string }[]): void {
  for (const t of tasks) if (t.capacityProviderName) counts[t.capacityProviderName] = (counts[t.capacityProviderName] ?? 0) + 1;
}

/**
 * The provider the next task goes to, as ECS splits: first any provider still short of its base,
 * then the weighted provider furthest behind its share. A provider's share counts only the tasks
 * beyond its base, so the base is never part of the weighted split. Ties go to the earlier item.
 */
export function nextProvider(strategy: CapacityProviderStrategy, counts: ProviderCounts): string {
  const count = (p: string) => counts[p] ?? 0;
  const short = strategy.find((i) => count(i.capacityProvider) < i.base);
  if (short) return short.capacityProvider;
  const weighted = strategy.filter((i) => i.weight > 0);
  const totalWeight = weighted.reduce((s, i) => s + i.weight, 0);
  const beyondBase = (i: CapacityProviderStrategyItem) => count(i.capacityProvider) - i.base;
  const weightedTasks = weighted.reduce((s, i) => s + beyondBase(i), 0) + 1;
  let best = weighted[0];
  let bestDeficit = -Infinity;
  for (const i of weighted) {
    const deficit = (weightedTasks * i.weight) / totalWeight - beyondBase(i);
    if (deficit > bestDeficit) {
      best = i;
      bestDeficit = deficit;
    }
  }
  return best.capacityProvider;
}

/** The providers of `n` new tasks, in order, given what already runs. */
export function splitTasks(strategy: CapacityProviderStrategy, n: number, existing: ProviderCounts = {}): string[] {
  const counts: Record<string, number> = { ...existing } as Record<string, number>;
  const out: string[] = [];
  for (let k = 0; k < n; k += 1) {
    const p = nextProvider(strategy, counts);
    counts[p] = (counts[p] ?? 0) + 1;
    out.push(p);
  }
  return out;
}

/**
 * The provider whose task to stop when a service scales in, keeping the split: first tasks on a
 * provider the strategy no longer names or weighs, then the weighted provider furthest above its
 * share, never taking a base provider below its base while another task could go instead.
 */
export function providerToStop(strategy: CapacityProviderStrategy, counts: ProviderCounts): string | undefined {
  const count = (p: string) => counts[p] ?? 0;
  const item = new Map(strategy.map((i) => [i.capacityProvider as string, i]));
  const running = Object.keys(counts).filter((p) => count(p) > 0).sort();
  const stray = running.find((p) => !item.has(p) || (item.get(p)!.weight === 0 && count(p) > item.get(p)!.base));
  if (stray) return stray;
  const weighted = strategy.filter((i) => i.weight > 0);
  const aboveBase = weighted.filter((i) => count(i.capacityProvider) > i.base);
  if (aboveBase.length > 0) {
    const totalWeight = weighted.reduce((s, i) => s + i.weight, 0);
    const weightedTasks = weighted.reduce((s, i) => s + Math.max(0, count(i.capacityProvider) - i.base), 0) - 1;
    let best = aboveBase[0];
    let bestExcess = -Infinity;
    for (const i of aboveBase) {
      const excess = count(i.capacityProvider) - i.base - (weightedTasks * i.weight) / totalWeight;
      if (excess > bestExcess) {
        best = i;
        bestExcess = excess;
      }
    }
    return best.capacityProvider;
  }
  return running[0];
}
