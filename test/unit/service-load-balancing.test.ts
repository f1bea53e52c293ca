import fc from 'fast-check';
import type { TargetHealth } from '../../shared/cloud/load-balancing';
import { type BalancedTask, loadBalancerHealth, planLoadBalancing, targetOf } from '../../shared/services/load-balancing';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef';
const LBS = [{ targetGroupArn: TG, containerName: 'web', containerPort: 8080 }];
const task = (n: number, o: Partial<BalancedTask> = {}): BalancedTask => ({
  taskId: `t${n}`, running: true, ended: false, targets: [{ id: `10.0.0.${n}`, port: 8080 }], ...o,
});
const health = (n: number, state: TargetHealth['state']): TargetHealth => ({ target: { id: `10.0.0.${n}`, port: 8080 }, state });

describe('Service load balancing', () => {
  describe('planLoadBalancing', () => {
    it('registers RUNNING tasks that are not in the target group yet, and only those', () => {
      const plan = planLoadBalancing({
        loadBalancers: LBS, tasks: [task(1), task(2), task(3, { running: false }), task(4, { targets: [undefined] })],
        health: [[health(1, 'healthy')]], stops: [], draining: [],
      });
      expect(plan.register).toEqual([{ targetGroupArn: TG, target: { id: '10.0.0.2', port: 8080 } }]);
      expect(plan).toMatchObject({ deregister: [], stops: [], draining: [] });
    });

    it('holds the stop of a registered task while it drains, and stops it once the target group has let it go', () => {
      const stops = [{ taskId: 't1', reason: 'scaling' }];
      const first = planLoadBalancing({ loadBalancers: LBS, tasks: [task(1)], health: [[health(1, 'healthy')]], stops, draining: [] });
      const during = planLoadBalancing({ loadBalancers: LBS, tasks: [task(1)], health: [[health(1, 'draining')]], stops: [], draining: first.draining });
      const after = planLoadBalancing({ loadBalancers: LBS, tasks: [task(1)], health: [[]], stops: [], draining: during.draining });

      expect(first).toEqual({ register: [], deregister: [{ targetGroupArn: TG, target: { id: '10.0.0.1', port: 8080 } }], stops: [], draining: [{ taskId: 't1', reason: 'scaling' }] });
      expect(during).toEqual({ register: [], deregister: [], stops: [], draining: [{ taskId: 't1', reason: 'scaling' }] });
      expect(after).toEqual({ register: [], deregister: [], stops: [{ taskId: 't1', reason: 'scaling' }], draining: [] });
    });

    it('stops at once a task that never joined, and deregisters one that ended by another hand', () => {
      const plan = planLoadBalancing({
        loadBalancers: LBS, tasks: [task(1, { running: false }), task(2, { ended: true, running: false })],
        health: [[health(2, 'healthy')]], stops: [{ taskId: 't1', reason: 'r' }], draining: [{ taskId: 't9', reason: 'gone' }],
      });
      expect(plan).toEqual({ register: [], deregister: [{ targetGroupArn: TG, target: { id: '10.0.0.2', port: 8080 } }], stops: [{ taskId: 't1', reason: 'r' }], draining: [] });
    });

    it('leaves a running task its target when a stopped task of the service once had the same address', () => {
      // Prepare: t1 stopped at 10.0.0.7; t2 got the address afterwards and is in service there
      const stopped = task(1, { ended: true, running: false, targets: [{ id: '10.0.0.7', port: 8080 }] });
      const running = task(2, { targets: [{ id: '10.0.0.7', port: 8080 }] });

      // Act
      const plan = planLoadBalancing({ loadBalancers: LBS, tasks: [stopped, running], health: [[health(7, 'healthy')]], stops: [], draining: [{ taskId: 't1', reason: 'r' }] });

      // Assess
      expect(plan).toEqual({ register: [], deregister: [], stops: [], draining: [] });
    });

    it('never deregisters the target of a running task it is not stopping, whoever else had the address (property)', () => {
      fc.assert(fc.property(
        fc.array(fc.record({ address: fc.integer({ min: 1, max: 3 }), running: fc.boolean(), ended: fc.boolean(), stop: fc.boolean(), draining: fc.boolean() }), { maxLength: 8 }),
        fc.subarray([1, 2, 3]),
        (rows, inGroup) => {
          const tasks = rows.map((r, i) => task(i, { running: r.running && !r.ended, ended: r.ended, targets: [{ id: `10.0.0.${r.address}`, port: 8080 }] }));
          // The engine gives an address to one task at a time: only an ended task's may be another's now.
          const live = tasks.filter((t) => !t.ended).map((t) => t.targets[0]!.id);
          fc.pre(new Set(live).size === live.length);
          const plan = planLoadBalancing({
            loadBalancers: LBS, tasks, health: [inGroup.map((n) => health(n, 'healthy'))],
            stops: rows.flatMap((r, i) => (r.stop ? [{ taskId: `t${i}`, reason: 'r' }] : [])),
            draining: rows.flatMap((r, i) => (r.draining ? [{ taskId: `t${i}`, reason: 'r' }] : [])),
          });
          const leaving = new Set(rows.flatMap((r, i) => (r.stop || r.draining ? [`t${i}`] : [])));
          for (const d of plan.deregister) {
            const holder = tasks.find((t) => t.running && t.targets[0]!.id === d.target.id);
            if (holder) expect(leaving.has(holder.taskId)).toBe(true);
          }
        },
      ), { numRuns: 1000 });
    });

    it('never stops a task that is still in a target group, and never registers one it stops or drains (property)', () => {
      const states = fc.constantFrom<TargetHealth['state'] | 'absent'>('absent', 'initial', 'healthy', 'unhealthy', 'draining');
      fc.assert(fc.property(
        fc.array(fc.record({ state: states, running: fc.boolean(), ended: fc.boolean(), stop: fc.boolean(), draining: fc.boolean() }), { maxLength: 8 }),
        (rows) => {
          const tasks = rows.map((r, i) => task(i, { running: r.running && !r.ended, ended: r.ended }));
          const h = rows.flatMap((r, i) => (r.state === 'absent' ? [] : [health(i, r.state)]));
          const plan = planLoadBalancing({
            loadBalancers: LBS, tasks, health: [h],
            stops: rows.flatMap((r, i) => (r.stop ? [{ taskId: `t${i}`, reason: 'r' }] : [])),
            draining: rows.flatMap((r, i) => (r.draining ? [{ taskId: `t${i}`, reason: 'r' }] : [])),
          });
          const inGroup = new Set(h.map((x) => `t${x.target.id.split('.').pop()}`));
          for (const s of plan.stops) expect(inGroup.has(s.taskId) && !rows[Number(s.taskId.slice(1))].ended).toBe(false);
          const leaving = new Set([...plan.stops, ...plan.draining].map((s) => s.taskId));
          for (const r of plan.register) expect(leaving.has(`t${r.target.id.split('.').pop()}`)).toBe(false);
        },
      ));
    });
  });

  describe('loadBalancerHealth', () => {
    it.each([
      ['healthy', 'HEALTHY'], ['unhealthy', 'UNHEALTHY'], ['initial', 'UNKNOWN'], ['draining', 'UNKNOWN'],
    ] as const)('a target %s counts as %s', (state, status) => {
      expect(loadBalancerHealth(LBS, [{ id: '10.0.0.1', port: 8080 }], [[health(1, state)]]).status).toBe(status);
    });

    it('an unregistered task is UNKNOWN', () => {
      expect(loadBalancerHealth(LBS, [{ id: '10.0.0.1', port: 8080 }], [[]]).status).toBe('UNKNOWN');
    });
  });

  describe('targetOf', () => {
    it('takes a published host port (by bind address, or the host for 0.0.0.0), else the task address and containerPort', () => {
      const bound = (bindIP: string) => ({ hostId: 'i-0abc', containers: [{ name: 'web', networkBindings: [{ bindIP, containerPort: 8080, hostPort: 49153, protocol: 'tcp' as const }] }] });
      expect(targetOf(bound('127.0.0.1'), LBS[0])).toEqual({ id: '127.0.0.1', port: 49153 });
      expect(targetOf(bound('0.0.0.0'), LBS[0])).toEqual({ id: 'i-0abc', port: 49153 });
      expect(targetOf({ network: { privateIPv4Address: '10.89.0.7' }, containers: [{ name: 'web' }] }, LBS[0])).toEqual({ id: '10.89.0.7', port: 8080 });
      expect(targetOf({ containers: [{ name: 'web' }] }, LBS[0])).toBeUndefined();
    });
  });
});
