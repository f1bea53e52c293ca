import { describe, expect, it, jest } from '@jest/globals';
import { DescribeInstancesCommand, type DescribeInstancesCommandInput, EC2Client } from '@aws-sdk/client-ec2';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Ec2FleetProvider } from '../../shared/cloud/aws/ec2-fleet-provider';
import { type ManagedHosts, teardownHosts } from '../../shared/cloud/aws/stack-teardown';

const event = (RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent => ({
  RequestType,
  ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:berth-dev-teardown',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/answer',
  StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/berth-dev/1',
  RequestId: 'req-1',
  LogicalResourceId: 'HostsTeardown',
  ResourceType: 'Custom::BerthHostsTeardown',
  ResourceProperties: { ServiceToken: 'x', Stage: 'dev' },
  ...(RequestType === 'Create' ? {} : { PhysicalResourceId: 'berth-hosts-HostsTeardown' }),
} as CloudFormationCustomResourceEvent);

function fleet(ids: string[], failTerminate?: Error): ManagedHosts & { terminated: string[] } {
  const terminated: string[] = [];
  return {
    terminated,
    listManaged: async () => [...ids],
    terminate: async (hostIds) => {
      if (failTerminate) throw failTerminate;
      terminated.push(...hostIds);
    },
  };
}

describe('teardownHosts (the stack\'s HostsTeardown custom resource)', () => {
  it('terminates every host of the stage on Delete, then answers SUCCESS', async () => {
    // Prepare
    const hosts = fleet(['i-1', 'i-2']);
    const answers: Array<[any, string]> = [];

    // Act
    await teardownHosts(event('Delete'), hosts, async (body, url) => void answers.push([body, url]));

    // Assess
    expect(hosts.terminated).toEqual(['i-1', 'i-2']);
    expect(answers).toEqual([[expect.objectContaining({
      Status: 'SUCCESS', PhysicalResourceId: 'berth-hosts-HostsTeardown', RequestId: 'req-1', LogicalResourceId: 'HostsTeardown', Data: { Terminated: 2 },
    }), 'https://cloudformation-custom-resource-response.example/answer']]);
  });

  it.each(['Create', 'Update'] as const)('terminates nothing on %s', async (type) => {
    const hosts = fleet(['i-1']);
    const answers: any[] = [];
    await teardownHosts(event(type), hosts, async (body) => void answers.push(body));
    expect(hosts.terminated).toEqual([]);
    expect(answers).toEqual([expect.objectContaining({ Status: 'SUCCESS', Data: { Terminated: 0 } })]);
  });

  it('answers FAILED with the reason when a host cannot be terminated, so the deletion stops rather than leave it running', async () => {
    const answers: any[] = [];
    await teardownHosts(event('Delete'), fleet(['i-1'], new Error('UnauthorizedOperation')), async (body) => void answers.push(body));
    expect(answers).toEqual([expect.objectContaining({ Status: 'FAILED', Reason: 'UnauthorizedOperation' })]);
  });
});

describe('Ec2FleetProvider.listManaged', () => {
  it('lists every page of live instances carrying the stage\'s tags', async () => {
    // Prepare: two pages.
    const send = jest.fn(async (command: unknown) => {
      const { NextToken } = (command as DescribeInstancesCommand).input;
      return NextToken === undefined
        ? { Reservations: [{ Instances: [{ InstanceId: 'i-1' }, { InstanceId: 'i-2' }] }], NextToken: 'page-2' }
        : { Reservations: [{ Instances: [{ InstanceId: 'i-3' }] }] };
    });
    const ec2 = new EC2Client({ region: 'us-east-1' });
    ec2.send = send as unknown as EC2Client['send'];
    const provider = new Ec2FleetProvider({ ec2, launchTemplateId: 'lt-0123456789abcdef0', subnetIds: ['subnet-a'], stage: 'prod' });

    // Act
    const ids = await provider.listManaged();

    // Assess
    expect(ids).toEqual(['i-1', 'i-2', 'i-3']);
    const inputs = send.mock.calls.map(([c]) => (c as { input: DescribeInstancesCommandInput }).input);
    expect(inputs.map((i) => i.NextToken)).toEqual([undefined, 'page-2']);
    expect(inputs[0].Filters).toEqual([
      { Name: 'tag:berth:managed', Values: ['true'] },
      { Name: 'tag:berth:stage', Values: ['prod'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
  });
});

describe('Ec2FleetProvider.listHosts', () => {
  it('gives each instance its launch time and the client token of the launch that started it', async () => {
    // Prepare: one instance of a launch, one without the tag (started before the tag existed).
    const send = jest.fn(async () => ({
      Reservations: [{
        Instances: [
          { InstanceId: 'i-1', LaunchTime: new Date('2026-12-06T10:00:00Z'), Tags: [{ Key: 'berth:managed', Value: 'true' }, { Key: 'berth:launch', Value: 'launch-1' }] },
          { InstanceId: 'i-2', LaunchTime: new Date('2026-12-06T11:00:00Z'), Tags: [{ Key: 'berth:managed', Value: 'true' }] },
        ],
      }],
    }));
    const ec2 = new EC2Client({ region: 'us-east-1' });
    ec2.send = send as unknown as EC2Client['send'];
    const provider = new Ec2FleetProvider({ ec2, launchTemplateId: 'lt-0123456789abcdef0', subnetIds: ['subnet-a'], stage: 'prod' });

    // Act
    const hosts = await provider.listHosts();

    // Assess
    expect(hosts).toEqual([
      { hostId: 'i-1', launchedAt: Date.parse('2026-12-06T10:00:00Z'), clientToken: 'launch-1' },
      { hostId: 'i-2', launchedAt: Date.parse('2026-12-06T11:00:00Z') },
    ]);
  });
});
