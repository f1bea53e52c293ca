import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logShowsOomKill, readKernelLog } from '../../agent/runtime/oom-kills';
import { DEFAULT_TASK_PIDS_LIMIT, MIN_MEMORY_MIB, containerLimits, share } from '../../agent/task-limits';
import { ClientException } from '../../shared/domain/errors';
import type { Json } from '../../shared/domain/fields';
import { checkContainersFit, readRegisterRequest } from '../../shared/domain/task-definition';
import { caught } from '../support/caught';

const NANO = 1e9 / 1024;
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('Task limits', () => {
  describe('share', () => {
    it.each([
      [512, [0], [512]],
      [512, [128, 0], [320, 192]],
      [10, [0, 0, 0], [4, 3, 3]],
      [256, [256, 0], [256, 0]],
    ])('shares %i among own amounts %j as %j', (total, own, expected) => {
      expect(share(total, own)).toEqual(expected);
    });

    it('adds up to the total whenever the own amounts fit, and never gives a container less than its own', () => {
      fc.assert(fc.property(fc.array(fc.nat(1000), { minLength: 1, maxLength: 10 }), fc.nat(20_000), (own, extra) => {
        const total = sum(own) + extra;
        const parts = share(total, own);
        expect(sum(parts)).toBe(total);
        parts.forEach((p, i) => expect(p).toBeGreaterThanOrEqual(own[i]));
      }));
    });
  });

  describe('containerLimits', () => {
    it('bounds a 256/512 task whose only container names no size at the task: 0.25 cpu, 512 MiB, no swap beyond, the pids limit', () => {
      // Act
      const [limits] = containerLimits([{}], { cpu: 256, memory: 512 });

      // Assess
      expect(limits).toEqual({
        cpuShares: undefined, nanoCpus: 250_000_000, memoryMiB: 512, memoryReservationMiB: undefined, pidsLimit: DEFAULT_TASK_PIDS_LIMIT,
      });
    });

    it('keeps a container\'s own memory as its hard limit and gives the rest to the others, their reservations first', () => {
      // Act
      const limits = containerLimits(
        [{ memory: 128 }, { memoryReservation: 64 }, {}],
        { cpu: 1024, memory: 512 },
      );

      // Assess: 512 - 128 hard = 384; 64 reserved, the 320 left shared by two.
      expect(limits.map((l) => l.memoryMiB)).toEqual([128, 64 + 160, 160]);
      expect(limits.map((l) => l.memoryReservationMiB)).toEqual([undefined, 64, undefined]);
    });

    it('gives each container its cpu units as a weight and as a quota, plus an equal share of what is left of the task', () => {
      // Act
      const limits = containerLimits([{ cpu: 128 }, { cpu: 0 }, {}], { cpu: 1024, memory: 2048 });

      // Assess: 1024 - 128 = 896 shared by three.
      expect(limits.map((l) => l.cpuShares)).toEqual([128, 0, undefined]);
      expect(limits.map((l) => l.nanoCpus)).toEqual([128 + 299, 299, 298].map((u) => Math.round(u * NANO)));
    });

    it('sets no cpu quota for a task without cpu (an EC2 definition whose containers name none), as on ECS', () => {
      const limits = containerLimits([{ memory: 256 }, { memoryReservation: 128 }], { cpu: 0, memory: 384 });
      expect(limits.map((l) => l.nanoCpus)).toEqual([undefined, undefined]);
      expect(limits.map((l) => l.memoryMiB)).toEqual([256, 128]);
    });

    it('splits the operator\'s per-task process limit among the containers', () => {
      const limits = containerLimits([{}, {}, {}], { cpu: 256, memory: 512 }, 100);
      expect(limits.map((l) => l.pidsLimit)).toEqual([33, 33, 33]);
    });

    it('never lets a task\'s containers together hold more than the task, for any definition RegisterTaskDefinition accepts', () => {
      const container = fc.record({
        cpu: fc.option(fc.nat(512), { nil: undefined }),
        memory: fc.option(fc.integer({ min: 6, max: 1024 }), { nil: undefined }),
        memoryReservation: fc.option(fc.integer({ min: 6, max: 512 }), { nil: undefined }),
      });
      fc.assert(fc.property(
        fc.array(container, { minLength: 1, maxLength: 10 }),
        fc.constantFrom(256, 512, 1024, 2048, 4096),
        fc.integer({ min: 512, max: 8192 }),
        fc.integer({ min: 64, max: 10_000 }),
        (containers, cpu, memory, pids) => {
          // Prepare: only what registration accepts.
          const defs = containers.map((c, i) => ({ name: `c${i}`, image: 'busybox', essential: true, ...dropUndefined(c) }));
          fc.pre(defs.every((c) => c.memory === undefined || c.memoryReservation === undefined || c.memoryReservation <= c.memory));
          try {
            checkContainersFit(defs, cpu, memory);
          } catch {
            fc.pre(false);
          }

          // Act
          const limits = containerLimits(defs, { cpu, memory }, pids);

          // Assess: the only ways past the task's size are the floors (6 MiB, 0.01 cpu) and a
          // container whose hard limit is above the reservation ECS counts for it (the others'
          // hard limits cannot go below their reservations).
          const open = defs.filter((c) => c.memory === undefined).length;
          const aboveReserved = sum(defs.map((c) => (c.memory !== undefined && c.memoryReservation !== undefined ? c.memory - c.memoryReservation : 0)));
          const memorySum = sum(limits.map((l) => l.memoryMiB!));
          expect(memorySum).toBeLessThanOrEqual(memory + MIN_MEMORY_MIB * open + aboveReserved);
          // Without either, a task with a container of no memory of its own is filled exactly.
          if (open > 0 && aboveReserved === 0 && limits.every((l) => l.memoryMiB! > MIN_MEMORY_MIB)) expect(memorySum).toBe(memory);
          expect(sum(limits.map((l) => l.nanoCpus!))).toBeLessThanOrEqual(cpu * NANO + defs.length * 1e7 + defs.length);
          expect(sum(limits.map((l) => l.pidsLimit!))).toBeLessThanOrEqual(pids);
          limits.forEach((l, i) => {
            if (defs[i].memoryReservation !== undefined) expect(l.memoryMiB).toBeGreaterThanOrEqual(defs[i].memoryReservation!);
            if (defs[i].memory !== undefined) expect(l.memoryMiB).toBe(defs[i].memory);
          });
        },
      ));
    });
  });

  describe('RegisterTaskDefinition refuses sizes the task cannot hold, in ECS\'s words', () => {
    const fargate = (containerDefinitions: Json[]): Json => ({
      family: 'sized', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions,
    });
    const c = (name: string, size: Json) => ({ name, image: 'busybox', ...size });

    it.each([
      ['a container\'s memory above the task\'s', [c('app', { memory: 1024 })],
        "The 'memory' setting for container 'app' is greater than for the task."],
      ['a container\'s memoryReservation above the task\'s memory', [c('app', { memoryReservation: 600 })],
        "The 'memoryReservation' setting for container 'app' is greater than for the task."],
      ['the containers\' memory summing above the task\'s', [c('a', { memory: 300 }), c('b', { memory: 300 })],
        "The sum of all container 'memory' values cannot be greater than the value of the task 'memory'."],
      ['the containers\' reservations summing above the task\'s memory', [c('a', { memoryReservation: 300 }), c('b', { memory: 300 })],
        "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'."],
      ['the containers\' cpu summing above the task\'s', [c('a', { cpu: 200 }), c('b', { cpu: 100 })],
        "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'."],
      ['memoryReservation above memory', [c('app', { memory: 128, memoryReservation: 256 })],
        "Invalid setting for container 'app'. 'memory' must be greater than or equal to 'memoryReservation'."],
    ])('refuses %s', (_case, containers, message) => {
      const e = caught(() => readRegisterRequest(fargate(containers as Json[])));
      expect(e).toBeInstanceOf(ClientException);
      expect((e as Error).message).toBe(message);
    });

    it('accepts containers that fill the task exactly', () => {
      expect(() => readRegisterRequest(fargate([c('a', { cpu: 128, memory: 256 }), c('b', { cpu: 128, memoryReservation: 256 })]))).not.toThrow();
    });
  });
});

describe('OOM kills in the kernel\'s log', () => {
  const id = 'ec4ea8cac1084bd411bd6d3d6ba92d0e5369db4b8ac06cf42637d9e239b06425';
  const other = '5fb212dc956c88e8b6bcbe7535a7d62dbe7cefa9cb7135fd22966612c633cb7d';
  const record = (memcg: string) =>
    `3,8411,19771182985,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=x,mems_allowed=0,oom_memcg=/berth,task_memcg=${memcg},task=dd,pid=21383,uid=0`;

  it.each([
    ['podman, cgroupfs', `/libpod_parent/libpod-${id}`],
    ['Docker, cgroupfs', `/docker/${id}`],
    ['Docker, systemd', `/system.slice/docker-${id}.scope`],
  ])('finds the kill of a process in the container\'s cgroup (%s)', (_engine, memcg) => {
    expect(logShowsOomKill(['6,1,1,-;eth0: link up', record(memcg)], id)).toBe(true);
  });

  it('does not take another container\'s kill, nor the OOM killer\'s other lines, for this one\'s', () => {
    const lines = [
      record(`/libpod_parent/libpod-${other}`),
      `4,8400,19771182602,-;dd invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0 libpod-${id}`,
      `6,8412,19771183001,-;Memory cgroup out of memory: Killed process 21383 (dd) libpod-${id}`,
    ];
    expect(logShowsOomKill(lines, id)).toBe(false);
  });

  it('reads a log line by line, and says undefined for a log it cannot open', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'berth-kmsg-'));
    const file = join(dir, 'kmsg');
    writeFileSync(file, `6,1,1,-;hello\n${record(`/docker/${id}`)}\n`.repeat(1000));

    // Act
    const lines = readKernelLog(file);

    // Assess
    expect(lines?.filter((l) => l === '6,1,1,-;hello')).toHaveLength(1000);
    expect(logShowsOomKill(lines!, id)).toBe(true);
    expect(readKernelLog(join(dir, 'missing'))).toBeUndefined();
  });
});

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
