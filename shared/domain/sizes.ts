import { ClientException } from './errors';

/** ECS cpu units: 1024 per vCPU. */
export const CPU_UNITS_PER_VCPU = 1024;

/**
 * Any size a host holds is allowed, but no host holds more than these (1,024 vCPU, 24 TiB):
 * the bounds keep every size a 32-bit integer, as ECS's own fields are.
 */
export const MAX_TASK_CPU = 1024 * CPU_UNITS_PER_VCPU;
export const MAX_TASK_MEMORY_MIB = 24 * 1024 * 1024;

/**
 * Task cpu in either of ECS's notations: "1024" (units) or "1 vCPU" / "0.25 vcpu".
 * Returns cpu units.
 */
export function parseCpu(value: string, field = 'cpu'): number {
  const text = value.trim();
  const vcpu = /^(\d+(?:\.\d+)?)\s*vcpu$/i.exec(text);
  const units = vcpu ? Number(vcpu[1]) * CPU_UNITS_PER_VCPU : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(units) || units <= 0 || units > MAX_TASK_CPU) {
    throw new ClientException(`Invalid '${field}' setting for task. The value must be a number of CPU units or vCPU, such as '1024' or '1 vCPU', up to ${MAX_TASK_CPU}.`);
  }
  return units;
}

/** Task memory in either notation: "2048" (MiB) or "2 GB" / "2GB". Returns MiB. */
export function parseMemory(value: string, field = 'memory'): number {
  const text = value.trim();
  const gb = /^(\d+(?:\.\d+)?)\s*gb$/i.exec(text);
  const mib = gb ? Number(gb[1]) * 1024 : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(mib) || mib <= 0 || mib > MAX_TASK_MEMORY_MIB) {
    throw new ClientException(`Invalid '${field}' setting for task. The value must be a number of MiB or GB, such as '2048' or '2 GB', up to ${MAX_TASK_MEMORY_MIB}.`);
  }
  return mib;
}

/** Fargate's task sizes: for each cpu, the memory range (MiB) and its step. */
export const FARGATE_SIZES = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, min: 1024, max: 4096, step: 1024 },
  { cpu: 1024, min: 2048, max: 8192, step: 1024 },
  { cpu: 2048, min: 4096, max: 16384, step: 1024 },
  { cpu: 4096, min: 8192, max: 30720, step: 1024 },
  { cpu: 8192, min: 16384, max: 61440, step: 4096 },
  { cpu: 16384, min: 32768, max: 122880, step: 8192 },
] as const;

/** Every memory value Fargate accepts with this cpu, ascending; empty when the cpu is not one. */
export function fargateMemoryChoices(cpu: number): number[] {
  const row = FARGATE_SIZES.find((r) => r.cpu === cpu);
  if (!row) return [];
  if ('memory' in row) return [...row.memory];
  const out: number[] = [];
  for (let m = row.min; m <= row.max; m += row.step) out.push(m);
  return out;
}

export function isFargateSize(cpu: number, memory: number): boolean {
  return fargateMemoryChoices(cpu).includes(memory);
}

/**
 * Refuses a task size Fargate has no configuration for, in ECS's own words: a cpu that is none
 * of Fargate's, then a memory that cpu does not come with (FARGATE_SIZES lists the valid pairs).
 */
export function assertFargateSize(cpu: number, memory: number): void {
  if (!FARGATE_SIZES.some((r) => r.cpu === cpu)) throw new ClientException("Invalid 'cpu' setting for task.");
  if (!isFargateSize(cpu, memory)) throw new ClientException('No Fargate configuration exists for given values.');
}
