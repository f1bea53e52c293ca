import { describe, expect, it } from '@jest/globals';
import { renderConfig } from '../../local/services/elbv2/haproxy';
import type { TargetGroupRecord } from '../../local/services/elbv2/store';

const group = (timeoutSeconds: number): TargetGroupRecord => ({
  kind: 'targetgroup', arn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef',
  name: 'web', protocol: 'HTTP', port: 8080, vpcId: 'vpc-local', targetType: 'ip', protocolVersion: 'HTTP1', attributes: {}, createdAt: 0,
  healthCheck: {
    enabled: true, protocol: 'HTTP', port: 'traffic-port', path: '/', intervalSeconds: 30, timeoutSeconds,
    healthyThresholdCount: 5, unhealthyThresholdCount: 2, httpCode: '200',
  },
  targets: [{ id: '10.89.0.2', port: 8080, registeredAt: 0 }],
});

describe('The local load balancer\'s HAProxy configuration', () => {
  it.each([1, 0.1])('checks at the group\'s interval times the time scale (%s), and waits its whole HealthCheckTimeoutSeconds for an answer', (scale) => {
    // Act
    const config = renderConfig({ loadBalancers: [], listeners: [], targetGroups: [group(5)] }, '/tmp/haproxy.sock', 0, scale);

    // Assess: a slow answer within the group's timeout is not a failed check, whatever the scale.
    expect(config).toContain('timeout check 5000ms');
    expect(config).toContain(`check inter ${30_000 * scale} rise 5 fall 2`);
  });
});
