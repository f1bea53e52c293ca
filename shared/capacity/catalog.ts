import { CPU_UNITS_PER_VCPU } from '../domain/sizes';
import type { Capacity, InstanceType, Market } from './types';

/**
 * The instance types Berth launches by default, with us-east-1 Linux prices in USD per hour.
 *
 * On-demand prices are the public list prices (each size step doubles vCPU, memory and price).
 * Spot prices float by hour and availability zone: these are a plausible level, about 37–38 % of
 * on-demand, for planning and for the fleet benchmark — a deployment should refresh them.
 *
 * c6i: 2 GiB per vCPU; m6i: 4 GiB per vCPU; r6i: 8 GiB per vCPU; g5.xlarge: one NVIDIA A10G.
 * c7g, m7g, r7g: Graviton3 (arm64), the same shapes for less; the planner opens them only for
 * tasks that run on arm64, and only where the operator allows it (CapacityPolicy.graviton).
 */
export const DEFAULT_CATALOG: InstanceType[] = [
  { name: 'c6i.large', vcpu: 2, memoryGiB: 4, gpus: 0, onDemandPrice: 0.085, spotPrice: 0.032 },
  { name: 'c6i.xlarge', vcpu: 4, memoryGiB: 8, gpus: 0, onDemandPrice: 0.17, spotPrice: 0.064 },
  { name: 'c6i.2xlarge', vcpu: 8, memoryGiB: 16, gpus: 0, onDemandPrice: 0.34, spotPrice: 0.128 },
  { name: 'c6i.4xlarge', vcpu: 16, memoryGiB: 32, gpus: 0, onDemandPrice: 0.68, spotPrice: 0.256 },
  { name: 'm6i.large', vcpu: 2, memoryGiB: 8, gpus: 0, onDemandPrice: 0.096, spotPrice: 0.036 },
  { name: 'm6i.xlarge', vcpu: 4, memoryGiB: 16, gpus: 0, onDemandPrice: 0.192, spotPrice: 0.072 },
  { name: 'm6i.2xlarge', vcpu: 8, memoryGiB: 32, gpus: 0, onDemandPrice: 0.384, spotPrice: 0.144 },
  { name: 'm6i.4xlarge', vcpu: 16, memoryGiB: 64, gpus: 0, onDemandPrice: 0.768, spotPrice: 0.288 },
  { name: 'r6i.large', vcpu: 2, memoryGiB: 16, gpus: 0, onDemandPrice: 0.126, spotPrice: 0.047 },
  { name: 'r6i.xlarge', vcpu: 4, memoryGiB: 32, gpus: 0, onDemandPrice: 0.252, spotPrice: 0.094 },
  { name: 'r6i.2xlarge', vcpu: 8, memoryGiB: 64, gpus: 0, onDemandPrice: 0.504, spotPrice: 0.188 },
  { name: 'r6i.4xlarge', vcpu: 16, memoryGiB: 128, gpus: 0, onDemandPrice: 1.008, spotPrice: 0.376 },
  { name: 'c7g.large', vcpu: 2, memoryGiB: 4, gpus: 0, onDemandPrice: 0.0725, spotPrice: 0.027 },
  { name: 'c7g.xlarge', vcpu: 4, memoryGiB: 8, gpus: 0, onDemandPrice: 0.145, spotPrice: 0.054 },
  { name: 'c7g.2xlarge', vcpu: 8, memoryGiB: 16, gpus: 0, onDemandPrice: 0.29, spotPrice: 0.108 },
  { name: 'c7g.4xlarge', vcpu: 16, memoryGiB: 32, gpus: 0, onDemandPrice: 0.58, spotPrice: 0.216 },
  { name: 'm7g.large', vcpu: 2, memoryGiB: 8, gpus: 0, onDemandPrice: 0.0816, spotPrice: 0.031 },
  { name: 'm7g.xlarge', vcpu: 4, memoryGiB: 16, gpus: 0, onDemandPrice: 0.1632, spotPrice: 0.062 },
  { name: 'm7g.2xlarge', vcpu: 8, memoryGiB: 32, gpus: 0, onDemandPrice: 0.3264, spotPrice: 0.124 },
  { name: 'm7g.4xlarge', vcpu: 16, memoryGiB: 64, gpus: 0, onDemandPrice: 0.6528, spotPrice: 0.248 },
  { name: 'r7g.large', vcpu: 2, memoryGiB: 16, gpus: 0, onDemandPrice: 0.1071, spotPrice: 0.04 },
  { name: 'r7g.xlarge', vcpu: 4, memoryGiB: 32, gpus: 0, onDemandPrice: 0.2142, spotPrice: 0.08 },
  { name: 'r7g.2xlarge', vcpu: 8, memoryGiB: 64, gpus: 0, onDemandPrice: 0.4284, spotPrice: 0.16 },
  { name: 'r7g.4xlarge', vcpu: 16, memoryGiB: 128, gpus: 0, onDemandPrice: 0.8568, spotPrice: 0.32 },
  { name: 'g5.xlarge', vcpu: 4, memoryGiB: 16, gpus: 1, onDemandPrice: 1.006, spotPrice: 0.38 },
];

/** MiB the OS, the container runtime and the Berth agent keep on every host, at the least. */
export const MIN_RESERVED_MEMORY_MIB = 256;
/** …or this share of the host's memory, when that is more (page cache, kernel structures grow with RAM). */
export const RESERVED_MEMORY_SHARE = 0.05;

/**
 * What a host of this type registers for tasks: all its vCPUs (1024 units each; the agent's own
 * cpu use is small and bursty, so none is held back), and its memory less
 * max(256 MiB, 5 % of it), rounded up to whole MiB — the OS and the agent must never be the
 * ones the kernel's OOM killer picks.
 */
export function capacityOf(type: InstanceType): Capacity {
  const memoryMiB = type.memoryGiB * 1024;
  const reserved = Math.max(MIN_RESERVED_MEMORY_MIB, Math.ceil(memoryMiB * RESERVED_MEMORY_SHARE));
  return {
    cpu: type.vcpu * CPU_UNITS_PER_VCPU,
    memory: Math.max(0, memoryMiB - reserved),
  };
}

export function findType(catalog: readonly InstanceType[], name: string): InstanceType | undefined {
  return catalog.find((t) => t.name === name);
}

/** USD per hour for one host of this type in this market. */
export function hourlyPrice(type: InstanceType, market: Market): number {
  return market === 'spot' ? type.spotPrice : type.onDemandPrice;
}
