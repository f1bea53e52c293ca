import { CreateFleetCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AgentClient } from '../../agent/client';
import { DEFAULT_CATALOG } from '../../shared/capacity/catalog';
import { runCapacityCycle } from '../../shared/capacity/manager';
import { Ec2FleetProvider } from '../../shared/cloud/aws/ec2-fleet-provider';
import { type Harness, startHarness } from '../support/harness';
import { createTestIdentitySigner, identityDocument } from '../support/identity-ca';

type Send = (command: unknown) => Promise<unknown>;

/**
 * From launch to registration on EC2: the capacity manager launches through the real EC2 fleet
 * provider (only EC2Client.send is faked: EC2 has no local stand-in), the launch is recorded with
 * its instance id, and the new instance's agent registers with a document signed for that id.
 */
describe('An EC2 host, launched by the capacity manager', () => {
  const signer = createTestIdentitySigner();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: { openHostRegistration: false, instanceIdentity: { certificates: { 'us-east-1': signer.certificatePem }, maxDocumentAgeSeconds: 1800 } },
    });
  });
  afterAll(() => h.close());

  it('registers with its signed identity document, and only that instance does', async () => {
    // Prepare: EC2 starts one instance for the warm pool.
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>(async (command) => {
      if (command instanceof CreateFleetCommand) return { Instances: [{ InstanceIds: ['i-0ec2ec2ec2ec2ec21'], InstanceType: 'c6i.large', Lifecycle: 'on-demand' }] };
      // The orphan sweep's look at the stage's instances: none yet.
      if (command instanceof DescribeInstancesCommand) return { Reservations: [] };
      throw new Error(`unexpected ${String(command)}`);
    });
    const ec2 = new EC2Client({ region: 'us-east-1' });
    ec2.send = send as unknown as EC2Client['send'];
    const provider = new Ec2FleetProvider({ ec2, launchTemplateId: 'lt-0123456789abcdef0', subnetIds: ['subnet-a'] });

    // Act 1: one capacity cycle.
    const summary = await runCapacityCycle(h.berth, {
      provider, catalog: DEFAULT_CATALOG,
      policy: { warmPoolHosts: 1, warmPoolType: 'c6i.large', maxHosts: 2, idleTimeoutSeconds: 300, market: 'on-demand' },
      heartbeatTimeoutSeconds: 30, bootTimeoutSeconds: 600,
    });

    // Assess 1: the launch is recorded with the instance it started.
    expect(summary.launched).toEqual(['i-0ec2ec2ec2ec2ec21']);
    expect(await h.berth.store.hosts.get('i-0ec2ec2ec2ec2ec21')).toMatchObject({ status: 'LAUNCHING', instanceId: 'i-0ec2ec2ec2ec2ec21' });

    // Act 2: a machine with a genuine document for another instance tries first; then the host.
    const otherDocument = identityDocument({ instanceId: 'i-0bad0bad0bad0bad0' });
    const impostor = new AgentClient(h.url, 'i-0ec2ec2ec2ec2ec21', 'us-east-1', { instanceIdentity: async () => ({ document: otherDocument, signature: signer.sign(otherDocument) }) });
    const refused = await impostor.register(2048, 3840).catch((e) => e);
    const document = identityDocument({ instanceId: 'i-0ec2ec2ec2ec2ec21' });
    const agent = new AgentClient(h.url, 'i-0ec2ec2ec2ec2ec21', 'us-east-1', { instanceIdentity: async () => ({ document, signature: signer.sign(document) }) });
    const registered = await agent.register(2048, 3840);

    // Assess 2
    expect(refused).toMatchObject({ type: 'AccessDeniedException', status: 400 });
    expect(registered.credentials?.accessKeyId).toMatch(/^BH/);
    expect(await h.berth.store.hosts.get('i-0ec2ec2ec2ec2ec21')).toMatchObject({ status: 'ACTIVE' });
  });
});
