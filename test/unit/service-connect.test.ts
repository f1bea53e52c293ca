import { hostsEntries, natRules, routeAddress } from '../../agent/service-connect';
import { publishedEndpoints, readServiceConnectConfiguration } from '../../shared/domain/service-connect';
import { type LocatedTarget, hostsByAddress, proxyPlan } from '../../shared/services/service-connect-proxy';

const containers = [{ name: 'web', portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' as const, name: 'http' }] }];

describe('Service Connect', () => {
  describe('readServiceConnectConfiguration', () => {
    it('reads a configuration as given', () => {
      const body = { serviceConnectConfiguration: { enabled: true, namespace: 'shop', services: [{ portName: 'http', clientAliases: [{ port: 80, dnsName: 'web' }] }] } };
      expect(readServiceConnectConfiguration(body)).toEqual(body.serviceConnectConfiguration);
      expect(readServiceConnectConfiguration({})).toBeUndefined();
    });

    it.each([
      [{}, /enabled is required/],
      [{ enabled: true, services: [{ clientAliases: [{ port: 80 }] }] }, /portName is required/],
      [{ enabled: true, services: [{ portName: 'http', clientAliases: [{}] }] }, /port is required/],
      [{ enabled: true, services: [{ portName: 'http', ingressPortOverride: 9000 }] }, /ingressPortOverride is not supported/],
      [{ enabled: true, services: [{ portName: 'http', tls: {} }] }, /tls is not supported/],
      [{ enabled: true, services: [{ portName: 'http', discoveryName: '-x' }] }, /discoveryName '-x' is not valid/],
      [{ enabled: true, services: [{ portName: 'http', clientAliases: [{ port: 80, dnsName: 'a b' }] }] }, /not a valid DNS name/],
      [{ enabled: false, services: [{ portName: 'http' }] }, /must be empty/],
    ])('refuses %j', (serviceConnectConfiguration, message) => {
      expect(() => readServiceConnectConfiguration({ serviceConnectConfiguration })).toThrow(expect.objectContaining({ name: 'InvalidParameterException', message: expect.stringMatching(message) }));
    });
  });

  describe('publishedEndpoints', () => {
    it('defaults discoveryName to the portName and dnsName to discoveryName.namespace, as ECS does', () => {
      const endpoints = publishedEndpoints({ enabled: true, services: [{ portName: 'http', clientAliases: [{ port: 80 }] }] }, 'shop', containers);
      expect(endpoints).toEqual([{ discoveryName: 'http', dnsName: 'http.shop', port: 80, containerName: 'web', containerPort: 8080 }]);
    });

    it('refuses a portName the definition does not name, and an alias used twice', () => {
      expect(() => publishedEndpoints({ enabled: true, services: [{ portName: 'grpc', clientAliases: [{ port: 80 }] }] }, 'shop', containers))
        .toThrow(/portName 'grpc' does not match/);
      expect(() => publishedEndpoints({
        enabled: true,
        services: [{ portName: 'http', discoveryName: 'a', clientAliases: [{ port: 80, dnsName: 'web' }] }, { portName: 'http', discoveryName: 'b', clientAliases: [{ port: 80, dnsName: 'WEB' }] }],
      }, 'shop', containers)).toThrow(/used more than once/);
    });
  });

  describe('in the task', () => {
    it('gives each route an address of its own, in 198.18.0.0/15', () => {
      const addresses = Array.from({ length: 70_000 }, (_, i) => routeAddress(i));
      expect(new Set(addresses).size).toBe(addresses.length);
      expect(addresses.every((a) => /^198\.1[89]\.\d+\.\d+$/.test(a) && a.split('.').every((o) => Number(o) <= 255))).toBe(true);
    });

    it('names each route in /etc/hosts and sends it to the gateway\'s proxy port', () => {
      const routes = [{ dnsName: 'backend', port: 8080, proxyPort: 40001 }, { dnsName: 'db', port: 5432, proxyPort: 40002 }];
      expect(hostsEntries(routes)).toEqual(['backend:198.18.0.1', 'db:198.18.0.2']);
      expect(natRules(routes, '10.89.0.1')).toContain('-A OUTPUT -d 198.18.0.1/32 -p tcp --dport 8080 -j DNAT --to-destination 10.89.0.1:40001');
      expect(natRules(routes, '10.89.0.1')).toContain('-A OUTPUT -d 198.18.0.2/32 -p tcp --dport 5432 -j DNAT --to-destination 10.89.0.1:40002');
    });
  });
});

describe('proxyPlan (what one host\'s Service Connect proxy serves)', () => {
  const E = { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/ecs-service-connect/abc', proxyPort: 20001 };
  const SELF = { hostId: 'i-b', address: '10.0.0.2' };

  it.each([
    ['a task on this host: at its own address, and offered on the ingress',
      [{ id: '172.16.0.5', port: 8080, kind: 'task', hostId: 'i-b', hostAddress: '10.0.0.2' }],
      [{ id: '172.16.0.5', port: 8080 }], { bind: '10.0.0.2', port: 30001, servers: [{ id: '172.16.0.5', port: 8080 }] }],
    ['tasks on another host: that host\'s ingress, once, weighted by its tasks',
      [{ id: '172.16.0.5', port: 8080, kind: 'task', hostId: 'i-c', hostAddress: '10.0.0.3' }, { id: '172.16.0.6', port: 8080, kind: 'task', hostId: 'i-c', hostAddress: '10.0.0.3' }],
      [{ id: '10.0.0.3', port: 30001, weight: 2 }], undefined],
    ['a published host port: at its host\'s address',
      [{ id: 'i-a', port: 49153, kind: 'host', hostId: 'i-a', hostAddress: '10.0.0.1' }],
      [{ id: '10.0.0.1', port: 49153 }], undefined],
    ['a task of no known host (the local mode\'s one machine): at its own address',
      [{ id: '10.89.0.7', port: 8080, kind: 'task' }],
      [{ id: '10.89.0.7', port: 8080 }], undefined],
    ['a host that registered no address: not reachable, left out',
      [{ id: 'i-a', port: 49153, kind: 'host', hostId: 'i-a' }, { id: '172.16.0.5', port: 8080, kind: 'task', hostId: 'i-c' }],
      [], undefined],
  ] as const)('%s', (_what, targets, servers, ingress) => {
    // Act
    const plan = proxyPlan(E, targets as unknown as LocatedTarget[], SELF);

    // Assess
    expect(plan).toEqual({ ...E, servers, ...(ingress ? { ingress } : {}) });
  });
});

describe('hostsByAddress (which host runs the task at a target\'s address)', () => {
  const task = (address: string, hostId: string, lastStatus = 'RUNNING') => ({ lastStatus, hostId, network: { privateIPv4Address: address } });

  it('maps each live task\'s address to its host, whatever a stopped task at the same address ran on', () => {
    // Prepare: a stopped task's record still names the address a running task on another host now has.
    const tasks = [task('10.89.0.7', 'i-new'), task('10.89.0.7', 'i-old', 'STOPPED'), task('10.89.0.8', 'i-new', 'PENDING')];

    // Act
    const hosts = hostsByAddress(tasks as never);

    // Assess
    expect([...hosts]).toEqual([['10.89.0.7', 'i-new'], ['10.89.0.8', 'i-new']]);
  });

  it('marks an address that live tasks on two hosts hold as unknown, and ignores tasks with no host or address yet', () => {
    // Prepare
    const tasks = [task('10.89.0.7', 'i-a'), task('10.89.0.7', 'i-b'), task('10.89.0.7', 'i-a'), { lastStatus: 'PROVISIONING' }, task('10.89.0.9', '')];

    // Act
    const hosts = hostsByAddress(tasks as never);

    // Assess
    expect([...hosts]).toEqual([['10.89.0.7', null]]);
  });
});
