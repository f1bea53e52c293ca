import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { InvalidParameterException } from '../../shared/domain/errors';
import { compileExpression } from '../../shared/scheduler/constraints';
import { cpuArchitectureOf, hostAttributes } from '../../shared/scheduler/host-attributes';
import {
  type Demand,
  type HostView,
  type PlacementRules,
  candidates,
  compilePlacement,
  planBatch,
  planPlacement,
  unplacedReason,
} from '../../shared/scheduler/placement';

const TYPES = ['c6i.large', 'm6i.large', 'c6g.large'] as const;
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;

const aHost = (hostId: string, h: Partial<HostView> & { instanceType?: string; zone?: string } = {}): HostView => {
  const { instanceType = 'c6i.large', zone = 'us-east-1a', ...rest } = h;
  return {
    hostId, status: 'ACTIVE', cpu: 4096, memory: 8192, reservedCpu: 0, reservedMemory: 0, taskCount: 0,
    attributes: hostAttributes({ instanceType, availabilityZone: zone }), groupTasks: {}, ...rest,
  };
};

const task = (taskId: string, cpu = 256, memory = 512): Demand => ({ taskId, cpu, memory });

describe('Scheduler', () => {
  describe('host attributes', () => {
    it.each([
      ['c6i.large', 'x86_64'],
      ['m6i.4xlarge', 'x86_64'],
      ['g5.xlarge', 'x86_64'],
      ['c6g.large', 'arm64'],
      ['m7gd.xlarge', 'arm64'],
      ['t4g.micro', 'arm64'],
      ['a1.medium', 'arm64'],
    ])('reads %s as %s', (type, arch) => {
      expect(cpuArchitectureOf(type)).toBe(arch);
    });

    it('shows the ECS attributes a memberOf expression can name', () => {
      expect(hostAttributes({ instanceType: 'c6i.large', availabilityZone: 'us-east-1b', market: 'spot' })).toEqual({
        'ecs.os-type': 'linux',
        'ecs.os-family': 'LINUX',
        'ecs.instance-type': 'c6i.large',
        'ecs.cpu-architecture': 'x86_64',
        'ecs.availability-zone': 'us-east-1b',
        'berth.market': 'spot',
      });
    });
  });

  describe('cluster query language', () => {
    const host = { hostId: 'i-0abc', attributes: { 'ecs.instance-type': 'c6i.large', 'ecs.availability-zone': 'us-east-1a', 'ecs.os-type': 'linux', weight: '10' } };

    it.each([
      ['attribute:ecs.instance-type == c6i.large', true],
      ['attribute:ecs.instance-type equals m6i.large', false],
      ['attribute:ecs.instance-type != m6i.large', true],
      ['attribute:ecs.instance-type =~ c6i.*', true],
      ['attribute:ecs.instance-type =~ c6', false],
      ['attribute:ecs.instance-type !~ m.*', true],
      ['attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', true],
      ['attribute:ecs.availability-zone not_in [us-east-1a]', false],
      ['attribute:ecs.availability-zone !in [us-east-1c]', true],
      ['attribute:ecs.os-type exists', true],
      ['attribute:stack !exists', true],
      ['attribute:stack exists', false],
      ['attribute:stack == prod', false],
      ['attribute:weight > 9', true],
      ['attribute:weight <= 9', false],
      ['ec2InstanceId == i-0abc', true],
      ['ec2InstanceId in [i-0def, i-0abc]', true],
      ["attribute:ecs.instance-type == 'c6i.large'", true],
      ['attribute:ecs.instance-type == c6i.large and attribute:ecs.os-type == linux', true],
      ['attribute:ecs.instance-type == m6i.large || attribute:ecs.availability-zone == us-east-1a', true],
      ['not(attribute:ecs.instance-type == c6i.large)', false],
      ['!(attribute:ecs.instance-type == m6i.large) && attribute:ecs.os-type==linux', true],
      ['(attribute:ecs.instance-type == m6i.large or attribute:ecs.instance-type == c6i.large) and attribute:ecs.availability-zone == us-east-1b', false],
    ])('%s → %s', (expression, expected) => {
      // Act
      const matches = compileExpression(expression)(host);

      // Assess
      expect(matches).toBe(expected);
    });

    it.each([
      ['task:group == service:web', /task:group is not supported/],
      ['runningTasksCount == 0', /runningTasksCount is not supported/],
      ['agentConnected == true', /not supported/],
      ['instanceType == c6i.large', /unknown subject/],
      ['attribute:ecs.instance-type', /missing operator/],
      ['attribute:ecs.instance-type ~= c6i', /unknown operator|unexpected/],
      ['attribute:ecs.instance-type in [a, b', /expected '\]'/],
      ['attribute:ecs.instance-type =~ (', /not a valid pattern|missing argument|unexpected/],
      ['(attribute:ecs.instance-type == a', /expected '\)'/],
      ['attribute:ecs.instance-type == a b', /unexpected 'b'/],
      ['', /empty/],
    ])('refuses %j with InvalidParameterException', (expression, message) => {
      // Act
      const act = () => compileExpression(expression);

      // Assess
      expect(act).toThrow(InvalidParameterException);
      expect(act).toThrow(message);
    });
  });

  describe('compilePlacement', () => {
    it.each<[string, PlacementRules, RegExp]>([
      ['distinctInstance with an expression', { strategies: [], constraints: [{ type: 'distinctInstance', expression: 'x == y' }], group: 'g' }, /distinctInstance expression should not be specified/],
      ['memberOf without an expression', { strategies: [], constraints: [{ type: 'memberOf' }], group: 'g' }, /must have an expression/],
      ['binpack by disk', { strategies: [{ type: 'binpack', field: 'disk' }], constraints: [] }, /Invalid field for binpack/],
      ['spread by nothing known', { strategies: [{ type: 'spread', field: 'rack' }], constraints: [] }, /Invalid field for spread/],
      ['an unknown strategy', { strategies: [{ type: 'cheapest' as 'random' }], constraints: [] }, /Invalid placement strategy type/],
    ])('refuses %s', (_what, rules, message) => {
      expect(() => compilePlacement(rules)).toThrow(InvalidParameterException);
      expect(() => compilePlacement(rules)).toThrow(message);
    });
  });

  describe('strategies', () => {
    it('spread by instanceId counts only the tasks of the same group', () => {
      // Prepare: host-a is busy with another group's tasks, host-b holds one of ours.
      const hosts = [
        aHost('host-a', { taskCount: 6, reservedCpu: 1536, reservedMemory: 3072, groupTasks: { 'family:other': 6 } }),
        aHost('host-b', { taskCount: 1, reservedCpu: 256, reservedMemory: 512, groupTasks: { 'service:web': 1 } }),
      ];
      const rules: PlacementRules = { strategies: [{ type: 'spread', field: 'instanceId' }], constraints: [], group: 'service:web' };

      // Act
      const plan = planPlacement(hosts, task('t'), rules);

      // Assess
      expect(plan).toMatchObject({ hostId: 'host-a', group: 'service:web' });
    });

    it('spread by zone, then binpack by memory, as ECS applies strategies in order', () => {
      // Prepare: zone a already holds a task of the group; in zone b, host-c is the fuller one.
      const hosts = [
        aHost('host-a', { zone: 'us-east-1a', taskCount: 1, reservedMemory: 512, reservedCpu: 256, groupTasks: { 'service:web': 1 } }),
        aHost('host-b', { zone: 'us-east-1b' }),
        aHost('host-c', { zone: 'us-east-1b', taskCount: 2, reservedMemory: 4096, reservedCpu: 512, groupTasks: { 'family:x': 2 } }),
      ];
      const rules: PlacementRules = {
        strategies: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'binpack', field: 'memory' }],
        constraints: [],
        group: 'service:web',
      };

      // Act
      const plan = planPlacement(hosts, task('t'), rules);

      // Assess
      expect(plan?.hostId).toBe('host-c');
    });

    it.each([
      ['cpu', 'host-cpu-full'],
      ['memory', 'host-memory-full'],
    ])('binpack by %s picks the host with least of it left', (field, expected) => {
      // Prepare
      const hosts = [
        aHost('host-cpu-full', { reservedCpu: 3072, reservedMemory: 1024, taskCount: 1 }),
        aHost('host-memory-full', { reservedCpu: 1024, reservedMemory: 6144, taskCount: 1 }),
      ];

      // Act
      const plan = planPlacement(hosts, task('t'), { strategies: [{ type: 'binpack', field }], constraints: [] });

      // Assess
      expect(plan?.hostId).toBe(expected);
    });

    it('random spreads tasks over the hosts, and the same task always gets the same host', () => {
      // Prepare
      const hosts = ['a', 'b', 'c', 'd'].map((h) => aHost(`host-${h}`));
      const rules: PlacementRules = { strategies: [{ type: 'random' }], constraints: [] };

      // Act
      const chosen = Array.from({ length: 40 }, (_, i) => planPlacement(hosts, task(`t${i}`), rules)!.hostId);

      // Assess
      expect(new Set(chosen).size).toBeGreaterThan(2);
      expect(planPlacement(hosts, task('t7'), rules)!.hostId).toBe(chosen[7]);
    });

    it('offers a busy binpack host before an empty one, and empty ones only when no busy one fits', () => {
      // Prepare
      const hosts = [aHost('empty-1'), aHost('busy', { taskCount: 1, reservedCpu: 1024, reservedMemory: 1024 }), aHost('empty-2')];

      // Act
      const withBusy = candidates(hosts, task('t'), 'binpack', 3);
      const fullBusy = candidates(hosts.map((h) => (h.hostId === 'busy' ? { ...h, reservedCpu: 4096 } : h)), task('t'), 'binpack', 3);

      // Assess
      expect(withBusy.map((h) => h.hostId)).toEqual(['busy']);
      expect(fullBusy.map((h) => h.hostId).sort()).toEqual(['empty-1', 'empty-2']);
    });
  });

  describe('constraints', () => {
    it('memberOf keeps tasks to the hosts the expression names, and says so when none has room', () => {
      // Prepare
      const hosts = [aHost('host-c6i', { instanceType: 'c6i.large', reservedCpu: 4096 }), aHost('host-m6i', { instanceType: 'm6i.large' })];
      const rules: PlacementRules = {
        strategies: [], constraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type == c6i.large' }], group: 'family:x',
      };

      // Act
      const plan = planPlacement(hosts, task('t'), rules);

      // Assess
      expect(plan).toBeUndefined();
      expect(unplacedReason(hosts, task('t'), rules)).toBe('MemberOf placement constraint unsatisfied.');
    });

    it('distinctInstance places a batch one task per host and leaves the rest unplaced', () => {
      // Prepare
      const hosts = [aHost('host-a'), aHost('host-b'), aHost('host-c', { groupTasks: { 'service:web': 1 }, taskCount: 1 })];
      const rules: PlacementRules = { strategies: [], constraints: [{ type: 'distinctInstance' }], group: 'service:web' };

      // Act
      const { plans, unplaced } = planBatch(hosts, [task('t1'), task('t2'), task('t3')], rules);

      // Assess
      expect(plans.map((p) => p.hostId).sort()).toEqual(['host-a', 'host-b']);
      expect(plans.every((p) => p.distinctInstance && p.group === 'service:web')).toBe(true);
      expect(unplaced).toHaveLength(1);
      expect(unplacedReason(hosts.map((h) => ({ ...h, groupTasks: { 'service:web': 1 } })), task('t3'), rules))
        .toBe('DistinctInstance placement constraint unsatisfied.');
    });

    const hostsArb = fc.array(
      fc.record({
        type: fc.constantFrom(...TYPES),
        zone: fc.constantFrom(...ZONES),
        cpu: fc.constantFrom(1024, 2048, 4096),
        memory: fc.constantFrom(2048, 4096, 8192),
        used: fc.nat(3),
        mine: fc.nat(2),
      }),
      { minLength: 1, maxLength: 8 },
    ).map((hs) => hs.map((h, i) => aHost(`host-${i}`, {
      instanceType: h.type, zone: h.zone, cpu: h.cpu, memory: h.memory,
      reservedCpu: h.used * 256, reservedMemory: h.used * 512, taskCount: h.used, groupTasks: { 'service:web': Math.min(h.mine, h.used) },
    })));
    const rulesArb: fc.Arbitrary<PlacementRules> = fc.record({
      strategies: fc.array(fc.constantFrom(
        { type: 'spread' as const, field: 'instanceId' },
        { type: 'spread' as const, field: 'attribute:ecs.availability-zone' },
        { type: 'binpack' as const, field: 'memory' },
        { type: 'binpack' as const, field: 'cpu' },
        { type: 'binpack' as const },
        { type: 'random' as const },
      ), { maxLength: 3 }),
      constraints: fc.subarray([
        { type: 'distinctInstance' as const },
        { type: 'memberOf' as const, expression: 'attribute:ecs.instance-type in [c6i.large, c6g.large]' },
        { type: 'memberOf' as const, expression: 'attribute:ecs.availability-zone != us-east-1c' },
      ]),
      group: fc.constant('service:web'),
    });
    const demandsArb = fc.array(fc.record({ cpu: fc.constantFrom(128, 256, 512, 1024), memory: fc.constantFrom(256, 512, 1024, 2048) }), { maxLength: 20 })
      .map((ds) => ds.map((d, i) => ({ taskId: `task-${i}`, ...d })));

    it('a batch never breaks a constraint nor overcommits, and leaves unplaced only what fits nowhere', () => {
      fc.assert(
        fc.property(hostsArb, demandsArb, rulesArb, (hosts, demands, rules) => {
          // Act
          const { plans, unplaced } = planBatch(hosts, demands, rules);

          // Assess
          const c = compilePlacement(rules);
          const byHost = new Map(hosts.map((h) => [h.hostId, { ...h, groupTasks: { ...h.groupTasks } }]));
          for (const p of plans) {
            const h = byHost.get(p.hostId)!;
            for (const f of c.filters) expect(f(h)).toBe(true);
            if (c.distinct) expect(h.groupTasks['service:web'] ?? 0).toBe(0);
            // A task that declares no architecture is x86_64: never on an arm64 host.
            expect(h.attributes?.['ecs.cpu-architecture'] ?? 'x86_64').toBe('x86_64');
            h.reservedCpu += p.cpu;
            h.reservedMemory += p.memory;
            h.taskCount += 1;
            h.groupTasks['service:web'] = (h.groupTasks['service:web'] ?? 0) + 1;
            expect(h.reservedCpu).toBeLessThanOrEqual(h.cpu);
            expect(h.reservedMemory).toBeLessThanOrEqual(h.memory);
          }
          for (const d of unplaced) {
            expect([...byHost.values()].filter((h) =>
              h.reservedCpu + d.cpu <= h.cpu && h.reservedMemory + d.memory <= h.memory && (h.attributes?.['ecs.cpu-architecture'] ?? 'x86_64') === 'x86_64' &&
              c.filters.every((f) => f(h)) && (!c.distinct || (h.groupTasks['service:web'] ?? 0) === 0))).toEqual([]);
          }
          expect(plans.length + unplaced.length).toBe(demands.length);
        }),
        { numRuns: 300 },
      );
    });

    it('spread by instanceId keeps a group within one task of even over identical hosts', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 30 }), (hostCount, n) => {
          // Prepare
          const hosts = Array.from({ length: hostCount }, (_, i) => aHost(`host-${i}`, { cpu: 65536, memory: 131072 }));
          const rules: PlacementRules = { strategies: [{ type: 'spread', field: 'instanceId' }], constraints: [], group: 'service:web' };

          // Act
          const { plans } = planBatch(hosts, Array.from({ length: n }, (_, i) => task(`t${i}`)), rules);

          // Assess
          const counts = hosts.map((h) => plans.filter((p) => p.hostId === h.hostId).length);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }),
      );
    });
  });
});
