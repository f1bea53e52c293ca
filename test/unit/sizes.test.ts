import { describe, expect, it } from '@jest/globals';
import { ClientException } from '../../shared/domain/errors';
import {
  FARGATE_SIZES,
  assertFargateSize,
  fargateMemoryChoices,
  isFargateSize,
  parseCpu,
  parseMemory,
} from '../../shared/domain/sizes';
import { caught } from '../support/caught';

/**
 * Fargate's task sizes, written out from the AWS documentation rather than read from
 * FARGATE_SIZES, so a typo there cannot hide behind the same typo here.
 */
const range = (min: number, max: number, step: number): number[] =>
  Array.from({ length: (max - min) / step + 1 }, (_, i) => min + i * step);

const FARGATE_TABLE: ReadonlyArray<{ cpu: number; memory: number[]; step: number }> = [
  { cpu: 256, memory: [512, 1024, 2048], step: 512 },
  { cpu: 512, memory: range(1024, 4096, 1024), step: 1024 },
  { cpu: 1024, memory: range(2048, 8192, 1024), step: 1024 },
  { cpu: 2048, memory: range(4096, 16384, 1024), step: 1024 },
  { cpu: 4096, memory: range(8192, 30720, 1024), step: 1024 },
  { cpu: 8192, memory: range(16384, 61440, 4096), step: 4096 },
  { cpu: 16384, memory: range(32768, 122880, 8192), step: 8192 },
];

const isValidPair = (cpu: number, memory: number): boolean =>
  FARGATE_TABLE.some((r) => r.cpu === cpu && r.memory.includes(memory));

const VALID_PAIRS: Array<[number, number]> = FARGATE_TABLE.flatMap((r) =>
  r.memory.map((m): [number, number] => [r.cpu, m]),
);

type Neighbour = { cpu: number; memory: number; of: string; names: 'cpu' | 'memory' };

/** Every pair one step away from a valid one (memory ±1, memory ±step, cpu ±1) that is not itself valid. */
const NEIGHBOURS: Neighbour[] = (() => {
  const seen = new Set<string>();
  const out: Neighbour[] = [];
  for (const r of FARGATE_TABLE) {
    for (const m of r.memory) {
      const candidates: Array<[number, number, 'cpu' | 'memory']> = [
        [r.cpu, m - 1, 'memory'],
        [r.cpu, m + 1, 'memory'],
        [r.cpu, m - r.step, 'memory'],
        [r.cpu, m + r.step, 'memory'],
        [r.cpu - 1, m, 'cpu'],
        [r.cpu + 1, m, 'cpu'],
      ];
      for (const [cpu, memory, names] of candidates) {
        const key = `${cpu}/${memory}`;
        if (isValidPair(cpu, memory) || seen.has(key)) continue;
        seen.add(key);
        out.push({ cpu, memory, of: `${r.cpu}/${m}`, names });
      }
    }
  }
  return out;
})();


describe('sizes', () => {
  describe('parseCpu', () => {
    it.each([
      ['256', 256],
      ['1024', 1024],
      ['16384', 16384],
      [' 2048 ', 2048],
      ['1 vCPU', 1024],
      ['1vCPU', 1024],
      ['0.25 vCPU', 256],
      ['0.5 vcpu', 512],
      ['2 VCPU', 2048],
      ['16 vCPU', 16384],
    ])('reads %j as %i cpu units', (text, units) => {
      // Act
      const result = parseCpu(text);

      // Assess
      expect(result).toBe(units);
    });

    it.each(['', '0', '-1', 'abc', '1.5', '1 GB', '0.1 vCPU', 'vCPU', '1 vCPU extra', '0 vCPU'])(
      'rejects %j with a ClientException naming the field',
      (text) => {
        // Act
        const error = caught(() => parseCpu(text));

        // Assess
        expect(error).toBeInstanceOf(ClientException);
        expect((error as Error).message).toContain("'cpu'");
      },
    );

    it('names the field it was given', () => {
      // Act
      const error = caught(() => parseCpu('lots', 'containerDefinitions[0].cpu'));

      // Assess
      expect(error).toBeInstanceOf(ClientException);
      expect((error as Error).message).toContain('containerDefinitions[0].cpu');
    });
  });

  describe('parseMemory', () => {
    it.each([
      ['512', 512],
      ['2048', 2048],
      [' 4096 ', 4096],
      ['2 GB', 2048],
      ['2GB', 2048],
      ['2 gb', 2048],
      ['0.5 GB', 512],
      ['30 GB', 30720],
      ['120GB', 122880],
    ])('reads %j as %i MiB', (text, mib) => {
      // Act
      const result = parseMemory(text);

      // Assess
      expect(result).toBe(mib);
    });

    it.each(['', '0', '-512', 'lots', '1.5', '2 MB', '0.001 GB', 'GB', '0 GB'])(
      'rejects %j with a ClientException naming the field',
      (text) => {
        // Act
        const error = caught(() => parseMemory(text));

        // Assess
        expect(error).toBeInstanceOf(ClientException);
        expect((error as Error).message).toContain("'memory'");
      },
    );
  });

  describe('FARGATE_SIZES', () => {
    it('lists exactly the cpu values Fargate offers, ascending', () => {
      // Act
      const cpus = FARGATE_SIZES.map((r) => r.cpu);

      // Assess
      expect(cpus).toEqual(FARGATE_TABLE.map((r) => r.cpu));
    });
  });

  describe('fargateMemoryChoices', () => {
    it.each(FARGATE_TABLE.map((r) => [r.cpu, r.memory] as const))(
      'lists every memory Fargate accepts with %i cpu',
      (cpu, memory) => {
        // Act
        const choices = fargateMemoryChoices(cpu);

        // Assess
        expect(choices).toEqual(memory);
      },
    );

    it.each([0, 128, 255, 257, 1000, 3072, 32768])('is empty for %i cpu, which Fargate does not offer', (cpu) => {
      // Act
      const choices = fargateMemoryChoices(cpu);

      // Assess
      expect(choices).toEqual([]);
    });

    it('returns a fresh list each call, so a caller cannot change the table', () => {
      // Prepare
      fargateMemoryChoices(256).push(999_999);

      // Act
      const choices = fargateMemoryChoices(256);

      // Assess
      expect(choices).toEqual([512, 1024, 2048]);
    });
  });

  describe('isFargateSize', () => {
    it('counts 74 valid combinations in the table', () => {
      // Assess: a guard on the hand-written table itself.
      expect(VALID_PAIRS).toHaveLength(74);
    });

    it.each(VALID_PAIRS)('accepts %i cpu with %i MiB', (cpu, memory) => {
      // Act
      const result = isFargateSize(cpu, memory);

      // Assess
      expect(result).toBe(true);
    });

    it.each(NEIGHBOURS.map((n) => [n.cpu, n.memory, n.of] as const))(
      'rejects %i cpu with %i MiB (next to %s)',
      (cpu, memory) => {
        // Act
        const result = isFargateSize(cpu, memory);

        // Assess
        expect(result).toBe(false);
      },
    );
  });

  describe('assertFargateSize', () => {
    it.each(VALID_PAIRS)('accepts %i cpu with %i MiB', (cpu, memory) => {
      // Act
      const error = caught(() => assertFargateSize(cpu, memory));

      // Assess
      expect(error).toBeUndefined();
    });

    it.each(NEIGHBOURS.map((n) => [n.cpu, n.memory, n.of, n.names] as const))(
      'rejects %i cpu with %i MiB (next to %s) in ECS\'s words for a wrong %s',
      (cpu, memory, _of, names) => {
        // Act
        const error = caught(() => assertFargateSize(cpu, memory));

        // Assess
        expect(error).toBeInstanceOf(ClientException);
        expect((error as Error).message).toBe(names === 'cpu' ? "Invalid 'cpu' setting for task." : 'No Fargate configuration exists for given values.');
      },
    );
  });
});
