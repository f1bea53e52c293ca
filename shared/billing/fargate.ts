import type { Market } from '../capacity/types';
import { CPU_UNITS_PER_VCPU, FARGATE_SIZES, fargateMemoryChoices } from '../domain/sizes';
import { type MicroUsd, chargeMicros, nanoUsd } from './money';
import type { Architecture, FargateRates, PriceCatalog } from './prices';

/** Fargate bills at least a minute. */
export const FARGATE_MINIMUM_SECONDS = 60;
/** Every Fargate task has this much ephemeral storage free; more is billed per GB-hour. */
export const FARGATE_FREE_STORAGE_GIB = 20;
/** The most ephemeral storage a Fargate task may have. */
export const FARGATE_MAX_STORAGE_GIB = 200;

export type FargateFit =
  | { fits: true; cpu: number; memory: number }
  | { fits: false; reason: string };

const LARGEST = FARGATE_SIZES[FARGATE_SIZES.length - 1];

/**
 * The smallest Fargate size that holds a task: the lowest cpu of Fargate's combinations at or
 * above the task's, with the least memory of that cpu at or above the task's (Fargate rounds
 * up; a larger cpu never offers less memory). A task Fargate cannot run says why.
 */
export function fargateSizeFor(task: { cpu: number; memory: number; gpus?: number; ephemeralStorageGiB?: number }): FargateFit {
  if ((task.gpus ?? 0) > 0) return { fits: false, reason: 'Fargate has no GPUs' };
  if ((task.ephemeralStorageGiB ?? 0) > FARGATE_MAX_STORAGE_GIB) {
    return { fits: false, reason: `Fargate's ephemeral storage stops at ${FARGATE_MAX_STORAGE_GIB} GiB` };
  }
  for (const row of FARGATE_SIZES) {
    if (row.cpu < task.cpu) continue;
    const memory = fargateMemoryChoices(row.cpu).find((m) => m >= task.memory);
    if (memory !== undefined) return { fits: true, cpu: row.cpu, memory };
  }
  const max = fargateMemoryChoices(LARGEST.cpu).at(-1)!;
  return {
    fits: false,
    reason: `Fargate's largest task is ${LARGEST.cpu / CPU_UNITS_PER_VCPU} vCPU and ${max / 1024} GB; this one needs ${task.cpu} CPU and ${task.memory} MiB`,
  };
}

/** Billed seconds from pullStartedAt to stoppedAt: each started second, and at least a minute. */
export function fargateBilledSeconds(pullStartedAt: number, stoppedAt: number): number {
  return Math.max(FARGATE_MINIMUM_SECONDS, Math.ceil(Math.max(0, stoppedAt - pullStartedAt) / 1000));
}

/**
 * The rates that apply: Fargate Spot's where the task ran on spot, except on arm64, which
 * Fargate Spot does not run (then on-demand's, and `market` says so).
 */
export function fargateRates(prices: PriceCatalog, architecture: Architecture, market: Market): { rates: FargateRates; market: Market } {
  const arch = prices.fargate[architecture];
  if (market === 'spot' && arch.spot) return { rates: arch.spot, market: 'spot' };
  return { rates: arch.onDemand, market: 'on-demand' };
}

/**
 * A Fargate size's rate, in nano-dollars per hour scaled by 1024 (cpu units and MiB are 1/1024
 * of a vCPU and a GB, so the scaled rate is an exact integer).
 */
export function fargateRatePerHour1024(
  size: { cpu: number; memory: number }, rates: FargateRates, storageRate: number, ephemeralStorageGiB = FARGATE_FREE_STORAGE_GIB,
): bigint {
  const extraGiB = Math.max(0, Math.ceil(ephemeralStorageGiB) - FARGATE_FREE_STORAGE_GIB);
  return BigInt(size.cpu) * nanoUsd(rates.vcpuHour) + BigInt(size.memory) * nanoUsd(rates.gbHour) + BigInt(extraGiB * 1024) * nanoUsd(storageRate);
}

/** What Fargate charges for `ms` of a size at a scaled rate, in micro-dollars. */
export const fargateChargeMicros = (ratePerHour1024: bigint, ms: number): MicroUsd => chargeMicros(ratePerHour1024, ms, 1024n);
