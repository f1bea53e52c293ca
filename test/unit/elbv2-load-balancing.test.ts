import {
  DeregisterTargetsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand, TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Elbv2LoadBalancing } from '../../shared/cloud/aws/elbv2-load-balancing';

type Send = (command: unknown) => Promise<unknown>;
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef';

/** An ELBv2 client whose `send` is the given function: only the thin adapter is under test here. */
function elbWith(send: jest.Mock<ReturnType<Send>, Parameters<Send>>): ElasticLoadBalancingV2Client {
  const elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  elb.send = send as unknown as ElasticLoadBalancingV2Client['send'];
  return elb;
}

describe('Elbv2LoadBalancing', () => {
  it('registers and deregisters targets by id and port', async () => {
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>().mockResolvedValue({});
    const lb = new Elbv2LoadBalancing(elbWith(send));

    await lb.register(TG, [{ id: 'i-0abc', port: 49153 }]);
    await lb.deregister(TG, [{ id: 'i-0abc', port: 49153 }]);

    expect(send.mock.calls[0][0]).toBeInstanceOf(RegisterTargetsCommand);
    expect((send.mock.calls[0][0] as RegisterTargetsCommand).input).toEqual({ TargetGroupArn: TG, Targets: [{ Id: 'i-0abc', Port: 49153 }] });
    expect(send.mock.calls[1][0]).toBeInstanceOf(DeregisterTargetsCommand);
    expect((send.mock.calls[1][0] as DeregisterTargetsCommand).input).toEqual({ TargetGroupArn: TG, Targets: [{ Id: 'i-0abc', Port: 49153 }] });
  });

  it('reads DescribeTargetHealth into target states', async () => {
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>().mockResolvedValue({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-0abc', Port: 49153 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: 'i-0def', Port: 49154 }, TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' } },
      ],
    });

    const health = await new Elbv2LoadBalancing(elbWith(send)).health(TG);

    expect(send.mock.calls[0][0]).toBeInstanceOf(DescribeTargetHealthCommand);
    expect((send.mock.calls[0][0] as DescribeTargetHealthCommand).input).toEqual({ TargetGroupArn: TG });
    expect(health).toEqual([
      { target: { id: 'i-0abc', port: 49153 }, state: 'healthy' },
      { target: { id: 'i-0def', port: 49154 }, state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' },
    ]);
  });

  it('answers undefined for a target group ELBv2 does not know, and passes other errors on', async () => {
    const missing = new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} });
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>().mockRejectedValueOnce(missing).mockRejectedValueOnce(throttled);
    const lb = new Elbv2LoadBalancing(elbWith(send));

    await expect(lb.health(TG)).resolves.toBeUndefined();
    await expect(lb.health(TG)).rejects.toThrow('Rate exceeded');
  });
});
