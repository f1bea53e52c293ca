import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_CATALOG } from '../../shared/capacity/catalog';
import { decideCapacity, DEFAULT_CAPACITY_POLICY } from '../../shared/capacity/planner';
import type { FleetHost, PendingDemand } from '../../shared/capacity/types';
import {
  checkProviderName, poolInstanceTypes, poolOf, readManagedInstancesProvider,
} from '../../shared/domain/capacity-provider';
import { providerConstraint, requireAssociated } from '../../shared/domain/capacity-strategy';
import { ClientException, InvalidParameterException } from '../../shared/domain/errors';
import { compileExpression } from '../../shared/scheduler/constraints';

const NOW = Date.UTC(2025, 0, 1, 12);

const provider = (template: Record<string, unknown> = {}) => ({
  managedInstancesProvider: {
    infrastructureRoleArn: 'arn:aws:iam::000000000000:role/ecsInfrastructureRole',
    instanceLaunchTemplate: {
      ec2InstanceProfileArn: 'arn:aws:iam::000000000000:instance-profile/ecsInstanceRole',
      networkConfiguration: { subnets: ['subnet-1'] },
      ...template,
    },
  },
});

describe('custom capacity providers', () => {
  describe('checkProviderName', () => {
    it.each(['pool-a', 'Pool_1', 'x'])('accepts %s', (name) => {
      expect(checkProviderName(name)).toBe(name);
    });
    it.each(['FARGATE', 'fargate-pool', 'ecs-pool', 'aws1', 'has space', '', 'a'.repeat(256)])('refuses %j', (name) => {
      expect(() => checkProviderName(name)).toThrow(InvalidParameterException);
    });
  });

  describe('readManagedInstancesProvider', () => {
    it('reads the requirements and defaults the capacity option to ON_DEMAND', () => {
      const p = readManagedInstancesProvider(provider({
        instanceRequirements: { vCpuCount: { min: 2, max: 2 }, memoryMiB: { min: 8192 }, allowedInstanceTypes: ['m6i.*', 'r6i.large'] },
      }));
      expect(p.instanceLaunchTemplate.capacityOptionType).toBe('ON_DEMAND');
      expect(p.instanceLaunchTemplate.instanceRequirements).toEqual({
        vCpuCount: { min: 2, max: 2 }, memoryMiB: { min: 8192 }, allowedInstanceTypes: ['m6i.*', 'r6i.large'],
      });
      expect(poolOf(p, DEFAULT_CATALOG)).toEqual({ market: 'on-demand', instanceTypes: ['m6i.large', 'r6i.large'] });
    });

    it.each([
      ['no launch template', { managedInstancesProvider: { infrastructureRoleArn: 'arn:r' } }, /instanceLaunchTemplate is required/],
      ['no role', { managedInstancesProvider: { instanceLaunchTemplate: {} } }, /infrastructureRoleArn/],
      ['no network configuration', { managedInstancesProvider: { infrastructureRoleArn: 'r', instanceLaunchTemplate: { ec2InstanceProfileArn: 'p' } } }, /networkConfiguration/],
      ['an unknown capacity option', provider({ capacityOptionType: 'RESERVED' }), /ON_DEMAND or SPOT/],
      ['a vCPU range upside down', provider({ instanceRequirements: { vCpuCount: { min: 4, max: 2 }, memoryMiB: { min: 0 } } }), /vCpuCount.max/],
      ['no memory range', provider({ instanceRequirements: { vCpuCount: { min: 1 } } }), /memoryMiB is required/],
      ['allowed and excluded types', provider({ instanceRequirements: { vCpuCount: { min: 1 }, memoryMiB: { min: 0 }, allowedInstanceTypes: ['m6i.large'], excludedInstanceTypes: ['c6i.large'] } }), /not both/],
    ])('refuses %s', (_, body, message) => {
      expect(() => readManagedInstancesProvider(body)).toThrow(message);
    });

    it('keeps the capacity option on update, and refuses a change of it', () => {
      const existing = readManagedInstancesProvider(provider({ capacityOptionType: 'SPOT' }));
      const updated = readManagedInstancesProvider({
        managedInstancesProvider: { infrastructureRoleArn: 'r', instanceLaunchTemplate: { instanceRequirements: { vCpuCount: { min: 4 }, memoryMiB: { min: 0 } } } },
      }, existing);
      expect(updated.instanceLaunchTemplate.capacityOptionType).toBe('SPOT');
      expect(updated.instanceLaunchTemplate.ec2InstanceProfileArn).toBe(existing.instanceLaunchTemplate.ec2InstanceProfileArn);
      expect(() => readManagedInstancesProvider({
        managedInstancesProvider: { infrastructureRoleArn: 'r', instanceLaunchTemplate: { capacityOptionType: 'ON_DEMAND' } },
      }, existing)).toThrow(ClientException);
    });
  });

  describe('poolInstanceTypes', () => {
    it('every type it keeps is inside every range, allowed, and not excluded', () => {
      fc.assert(fc.property(
        fc.integer({ min: 0, max: 16 }), fc.option(fc.integer({ min: 0, max: 16 }), { nil: undefined }),
        fc.integer({ min: 0, max: 131072 }), fc.option(fc.integer({ min: 0, max: 131072 }), { nil: undefined }),
        fc.subarray(['c6i.*', 'm6i.large', 'r6i.*', 'g5.xlarge']),
        (vMin, vMax, mMin, mMax, allowed) => {
          const req = {
            vCpuCount: { min: vMin, ...(vMax === undefined ? {} : { max: vMax }) },
            memoryMiB: { min: mMin, ...(mMax === undefined ? {} : { max: mMax }) },
            ...(allowed.length ? { allowedInstanceTypes: allowed } : {}),
          };
          const kept = poolInstanceTypes(req, DEFAULT_CATALOG);
          for (const t of DEFAULT_CATALOG) {
            const fits = t.vcpu >= vMin && (vMax === undefined || t.vcpu <= vMax)
              && t.memoryGiB * 1024 >= mMin && (mMax === undefined || t.memoryGiB * 1024 <= mMax)
              && (allowed.length === 0 || allowed.some((a) => a === t.name || (a.endsWith('*') && t.name.startsWith(a.slice(0, -1)))));
            expect(kept.includes(t)).toBe(fits);
          }
        },
      ));
    });
  });

  describe('placement', () => {
    const judge = (provider: string, attributes: Record<string, string>) =>
      compileExpression(providerConstraint(provider).expression)({ hostId: 'h', attributes });

    it('puts a pool\'s tasks on its hosts only, and Fargate tasks on no pool\'s host', () => {
      expect(judge('pool-a', { 'berth.capacity-provider': 'pool-a', 'berth.market': 'spot' })).toBe(true);
      expect(judge('pool-a', { 'berth.capacity-provider': 'pool-b' })).toBe(false);
      expect(judge('pool-a', { 'berth.market': 'on-demand' })).toBe(false);
      expect(judge('FARGATE', { 'berth.market': 'on-demand' })).toBe(true);
      expect(judge('FARGATE', { 'berth.market': 'on-demand', 'berth.capacity-provider': 'pool-a' })).toBe(false);
      expect(judge('FARGATE_SPOT', { 'berth.market': 'spot' })).toBe(true);
      expect(judge('FARGATE_SPOT', { 'berth.market': 'spot', 'berth.capacity-provider': 'pool-a' })).toBe(false);
    });

    it('lets a strategy name a custom provider only when its cluster has it', () => {
      const strategy = [{ capacityProvider: 'pool-a', base: 0, weight: 1 }];
      expect(() => requireAssociated(strategy, ['FARGATE', 'FARGATE_SPOT'])).toThrow(/not associated with the cluster/);
      expect(() => requireAssociated(strategy, ['FARGATE', 'pool-a'])).not.toThrow();
    });
  });

  describe('capacity planning for pools', () => {
    const demand = (taskId: string, extra: Partial<PendingDemand> = {}): PendingDemand => ({
      taskId, cluster: 'c', cpu: 1024, memory: 2048, since: NOW, ...extra,
    });
    const pools = { 'pool-a': { market: 'spot' as const, instanceTypes: ['r6i.large', 'r6i.xlarge'] } };
    const policy = { ...DEFAULT_CAPACITY_POLICY, warmPoolHosts: 0 };

    it('launches a pool\'s hosts of its types in its market, and keeps other work off them', () => {
      const d = decideCapacity({
        pending: [demand('a1', { capacityProvider: 'pool-a' }), demand('a2', { capacityProvider: 'pool-a' }), demand('f1', { market: 'on-demand' })],
        hosts: [], catalog: DEFAULT_CATALOG, policy, now: NOW, pools,
      });
      const poolLaunches = d.plan.launches.filter((l) => l.capacityProvider === 'pool-a');
      expect(poolLaunches.length).toBeGreaterThan(0);
      for (const l of poolLaunches) {
        expect(l.market).toBe('spot');
        expect(pools['pool-a'].instanceTypes).toContain(l.instanceType);
      }
      const other = d.plan.launches.filter((l) => l.capacityProvider === undefined);
      expect(other).toEqual([expect.objectContaining({ market: 'on-demand' })]);
      const poolHostIds = new Set(d.newHosts.filter((h) => h.capacityProvider === 'pool-a').map((h) => h.hostId));
      for (const p of d.placements) expect(poolHostIds.has(p.hostId)).toBe(p.taskId.startsWith('a'));
    });

    it('packs a pool\'s work onto its idle hosts before launching, and never Fargate work onto them', () => {
      const poolHost: FleetHost = {
        hostId: 'p1', instanceType: 'r6i.large', market: 'spot', pool: 'pool-a', status: 'ACTIVE',
        cpu: 2048, memory: 15564, reservedCpu: 0, reservedMemory: 0, taskCount: 0, launchedAt: NOW - 1000, idleSince: NOW - 1000,
      };
      const d = decideCapacity({
        pending: [demand('a1', { capacityProvider: 'pool-a' }), demand('s1', { market: 'spot' })],
        hosts: [poolHost], catalog: DEFAULT_CATALOG, policy, now: NOW, pools,
      });
      expect(d.placements.find((p) => p.taskId === 'a1')).toEqual({ taskId: 'a1', hostId: 'p1', on: 'ACTIVE' });
      expect(d.placements.find((p) => p.taskId === 's1')?.on).toBe('NEW');
      expect(d.plan.launches).toEqual([expect.objectContaining({ market: 'spot', count: 1 })]);
      expect(d.plan.launches[0].capacityProvider).toBeUndefined();
    });

    it('fails at once a pool\'s task none of its types can hold, or whose pool is gone', () => {
      const d = decideCapacity({
        pending: [demand('big', { capacityProvider: 'pool-a', memory: 60_000 }), demand('orphan', { capacityProvider: 'gone' })],
        hosts: [], catalog: DEFAULT_CATALOG, policy, now: NOW, pools,
      });
      expect(d.plan.unschedulable.map((u) => [u.taskId, u.reason])).toEqual([
        ['big', expect.stringContaining('capacity provider pool-a')],
        ['orphan', 'capacity provider gone does not exist'],
      ]);
      expect(d.plan.launches).toEqual([]);
    });
  });
});
