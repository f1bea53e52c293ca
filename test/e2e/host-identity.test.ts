import { RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { AgentClient } from '../../agent/client';
import { hashBootstrapToken } from '../../shared/lifecycle/reports';
import { expectEcsError } from '../support/ecs-model';
import { type Harness, eventually, settledSnapshot, startHarness } from '../support/harness';

const launch = (h: Harness, hostId: string, token: string) =>
  h.berth.store.hosts.launching({ hostId, instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840, bootstrapTokenHash: hashBootstrapToken(token) }, Date.now());

const agentCall = (h: Harness, operation: string, body: object) =>
  fetch(`${h.url}/agent`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `BerthAgent.${operation}` },
    body: JSON.stringify(body),
  });

/** Only machines Berth launched join the fleet, and a host only ever acts on its own work. */
describe('Host identity', () => {
  let h: Harness;
  /** Every registered host's agent by id: a task may land on any of them. */
  const agents = new Map<string, AgentClient>();
  beforeAll(async () => {
    h = await startHarness({ config: { openHostRegistration: false } });
  });
  afterAll(() => h.close());

  it('registers a launched host with its bootstrap token, then signs every call with its own key', async () => {
    await launch(h, 'i-good', 'token-good');
    const agent = new AgentClient(h.url, 'i-good', 'us-east-1', { bootstrapToken: 'token-good' });
    const r = await agent.register(2048, 3840);
    agents.set('i-good', agent);
    expect(r.credentials?.accessKeyId).toMatch(/^BH[A-Z2-7]{18}$/);
    await agent.heartbeat();
    expect((await agent.poll({}, 0)).tasks).toEqual([]);
    expect((await h.berth.store.hosts.get('i-good'))!.status).toBe('ACTIVE');
  });

  it.each([
    ['an unknown machine with a forged token', { hostId: 'i-stranger', cpu: 2048, memory: 4096, bootstrapToken: 'forged' }],
    ['a launched host with a forged token', { hostId: 'i-forged', cpu: 2048, memory: 4096, bootstrapToken: 'guess' }],
    ['a replayed token', { hostId: 'i-good', cpu: 2048, memory: 4096, bootstrapToken: 'token-good' }],
    ['no token and no signature', { hostId: 'i-forged', cpu: 2048, memory: 4096 }],
  ])('refuses %s, and nothing changes', async (_what, body) => {
    await launch(h, 'i-forged', 'the-real-one');
    const before = await settledSnapshot(h);
    const res = await agentCall(h, 'RegisterHost', body);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectEcsError(await res.json());
    expect(await settledSnapshot(h)).toEqual(before);
  });

  it.each(['Heartbeat', 'PollAssignments', 'ReportTaskState'])('refuses an unsigned %s', async (operation) => {
    const res = await agentCall(h, operation, { hostId: 'i-good', task: { cluster: 'default', taskId: 'x' }, lastStatus: 'RUNNING' });
    expectEcsError(await res.json(), 'MissingAuthenticationTokenException');
  });

  it('refuses a host reporting on another host\'s task, and one claiming another host\'s id', async () => {
    // Prepare: two registered hosts, and a task placed on one of them.
    await launch(h, 'i-a', 'ta');
    await launch(h, 'i-b', 'tb');
    const a = new AgentClient(h.url, 'i-a', 'us-east-1', { bootstrapToken: 'ta' });
    const b = new AgentClient(h.url, 'i-b', 'us-east-1', { bootstrapToken: 'tb' });
    await a.register(2048, 3840);
    await b.register(2048, 3840);
    agents.set('i-a', a).set('i-b', b);
    await h.ecs.send(new RegisterTaskDefinitionCommand({ family: 'owned', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions: [{ name: 'c', image: 'busybox' }] }));
    const arn = (await h.ecs.send(new RunTaskCommand({ taskDefinition: 'owned' }))).tasks![0].taskArn!;
    const taskId = arn.split('/').pop()!;
    const t = await eventually(async () => (await h.berth.store.tasks.get({ cluster: 'default', taskId }))?.hostId, 10_000, 'placement');
    const owner = agents.get(t)!;
    const other = owner === a ? b : a;

    // Act + assess: the other host may neither report on it nor pose as its owner.
    const report = { task: { cluster: 'default', taskId }, lastStatus: 'RUNNING' as const, containers: [], timestamps: {}, seq: Date.now() };
    await expect(other.report(report)).rejects.toMatchObject({ type: 'AccessDeniedException' });
    const posing = new AgentClient(h.url, owner.hostId, 'us-east-1');
    (posing as any).credentials = (other as any).credentials;
    await expect(posing.report(report)).rejects.toMatchObject({ type: 'AccessDeniedException' });
    expect((await h.berth.store.tasks.get({ cluster: 'default', taskId }))!.lastStatus).not.toBe('RUNNING');
    await expect(owner.report(report)).resolves.toMatchObject({ applied: true, lastStatus: 'RUNNING' });
  });
});
