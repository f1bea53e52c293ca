import { createServer } from 'node:net';
import type { Operation } from '../../../shared/aws-protocol/operation';
import type { Json } from '../../../shared/domain/fields';
import type { TargetHealth } from '../../../shared/cloud/load-balancing';
import { DEFAULT_DEREGISTRATION_DELAY_SECONDS, DEREGISTRATION_DELAY, type LocalLoadBalancer } from './balancer';
import {
  duplicateListener, duplicateLoadBalancerName, duplicateTargetGroupName, invalidConfigurationRequest, invalidLoadBalancerAction,
  listenerNotFound, loadBalancerNotFound, resourceInUse, targetGroupNotFound, unsupportedProtocol, validationError,
} from './errors';
import type { HealthCheckSettings, ListenerRecord, LoadBalancerRecord, TargetGroupRecord } from './store';

export const ELBV2_VERSION = '2015-12-01';
export const ELBV2_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

/**
 * The local ELBv2 slice: Application Load Balancers whose listeners open on 127.0.0.1, HTTP
 * target groups of `ip` (or `instance`, given IPs) targets, forward actions. Members arrive as
 * the query protocol sends them (strings, lists as arrays); answers follow the service model.
 */

const str = (body: Json, key: string): string | undefined => (typeof body[key] === 'string' ? (body[key] as string) : undefined);
const req = (body: Json, key: string): string => str(body, key) ?? (() => { throw validationError(key, 'Member must not be null'); })();

function int(body: Json, key: string, min: number, max: number): number | undefined {
  const v = str(body, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw validationError(key, 'Member must be an integer', v);
  if (n < min) throw validationError(key, `Member must have value greater than or equal to ${min}`, v);
  if (n > max) throw validationError(key, `Member must have value less than or equal to ${max}`, v);
  return n;
}

const list = (body: Json, key: string): Json[] => (Array.isArray(body[key]) ? (body[key] as Json[]) : []);
const strings = (body: Json, key: string): string[] => list(body, key).filter((v): v is any => typeof v === 'string') as unknown as string[];

const NAME = /^(?!-)(?!internal-)[A-Za-z0-9-]{1,32}(?<!-)$/;
function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) {
    throw validationError('Name', `${kind} name must be 1-32 alphanumeric characters or hyphens, and must not begin or end with a hyphen`, name);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function loadBalancerShape(lb: LoadBalancerRecord) {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: '127.0.0.1',
    CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
    CreatedTime: iso(lb.createdAt),
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: 'vpc-local',
    State: { Code: 'active' },
    Type: lb.type,
    AvailabilityZones: [{ ZoneName: 'us-east-1a', SubnetId: 'subnet-local' }],
    SecurityGroups: [],
    IpAddressType: lb.ipAddressType,
  };
}

function targetGroupShape(b: LocalLoadBalancer, tg: TargetGroupRecord) {
  const hc = tg.healthCheck;
  const lbs = [...new Set(b.view.listeners.filter((l) => l.targetGroupArn === tg.arn).map((l) => l.loadBalancerArn))];
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckEnabled: hc.enabled,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThresholdCount,
    UnhealthyThresholdCount: hc.unhealthyThresholdCount,
    HealthCheckPath: hc.path,
    Matcher: { HttpCode: hc.httpCode },
    LoadBalancerArns: lbs,
    TargetType: tg.targetType,
    ProtocolVersion: tg.protocolVersion,
    IpAddressType: 'ipv4',
  };
}

const listenerShape = (l: ListenerRecord) => ({
  ListenerArn: l.arn,
  LoadBalancerArn: l.loadBalancerArn,
  Port: l.port,
  Protocol: l.protocol,
  DefaultActions: [{ Type: 'forward', TargetGroupArn: l.targetGroupArn, Order: 1,
    ForwardConfig: { TargetGroups: [{ TargetGroupArn: l.targetGroupArn, Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } } }],
});

export const targetHealthShape = (h: TargetHealth) => ({
  Target: { Id: h.target.id, Port: h.target.port },
  HealthCheckPort: String(h.target.port),
  TargetHealth: { State: h.state, Reason: h.reason, Description: h.description },
});

function protocol(body: Json, key: string, fallback?: string): string {
  const p = str(body, key) ?? fallback;
  if (p === undefined) throw validationError(key, 'Member must not be null');
  if (!['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP', 'GENEVE'].includes(p)) {
    throw validationError(key, 'Member must satisfy enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE]', p);
  }
  if (p !== 'HTTP') throw unsupportedProtocol(p);
  return p;
}

function healthCheck(body: Json): HealthCheckSettings {
  const intervalSeconds = int(body, 'HealthCheckIntervalSeconds', 5, 300) ?? 30;
  const timeoutSeconds = int(body, 'HealthCheckTimeoutSeconds', 2, 120) ?? 5;
  if (timeoutSeconds >= intervalSeconds) throw invalidConfigurationRequest('Health check interval must be greater than the timeout.');
  const path = str(body, 'HealthCheckPath') ?? '/';
  if (!/^\/[\x21-\x7e]{0,1023}$/.test(path)) throw validationError('HealthCheckPath', 'Member must start with / and contain no spaces', path);
  const httpCode = typeof body.Matcher === 'object' && body.Matcher && typeof (body.Matcher as Json).HttpCode === 'string' ? (body.Matcher as Json).HttpCode as string : '200';
  if (!/^[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*$/.test(httpCode)) throw validationError('Matcher.HttpCode', 'Member must be HTTP codes such as 200, 200-299 or 200,202', httpCode);
  const port = str(body, 'HealthCheckPort') ?? 'traffic-port';
  if (port !== 'traffic-port' && !(Number(port) >= 1 && Number(port) <= 65535)) throw validationError('HealthCheckPort', 'Member must be traffic-port or a port number', port);
  return {
    enabled: str(body, 'HealthCheckEnabled') !== 'false',
    protocol: protocol(body, 'HealthCheckProtocol', 'HTTP'),
    port,
    path,
    intervalSeconds,
    timeoutSeconds,
    healthyThresholdCount: int(body, 'HealthyThresholdCount', 2, 10) ?? 5,
    unhealthyThresholdCount: int(body, 'UnhealthyThresholdCount', 2, 10) ?? 2,
    httpCode,
  };
}

function targets(b: LocalLoadBalancer, body: Json, tg: TargetGroupRecord) {
  const items = list(body, 'Targets');
  if (items.length === 0) throw validationError('Targets', 'Member must not be null');
  return items.map((t, i) => {
    const id = str(t, 'Id');
    if (!id) throw validationError(`Targets.member.${i + 1}.Id`, 'Member must not be null');
    return { id, port: int(t, 'Port', 1, 65535) ?? tg.port };
  });
}

/** Whether a port on 127.0.0.1 is free to bind. */
const portFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

export function elbv2Operations(b: LocalLoadBalancer): Record<string, Operation> {
  const lbByArn = (arn: string) => b.view.loadBalancers.find((l) => l.arn === arn) ?? (() => { throw loadBalancerNotFound(); })();

  return {
    CreateLoadBalancer: (_, body) => b.exclusive(async () => {
      const name = req(body, 'Name');
      checkName('Load balancer', name);
      const type = str(body, 'Type') ?? 'application';
      if (type !== 'application') throw invalidConfigurationRequest(`Load balancer type '${type}' is not supported locally: Berth's local load balancer is an Application Load Balancer`);
      const scheme = str(body, 'Scheme') ?? 'internet-facing';
      if (!['internet-facing', 'internal'].includes(scheme)) throw validationError('Scheme', 'Member must satisfy enum value set: [internet-facing, internal]', scheme);
      const existing = b.view.loadBalancers.find((l) => l.name === name);
      if (existing) {
        if (existing.scheme !== scheme) throw duplicateLoadBalancerName(name);
        return { LoadBalancers: [loadBalancerShape(existing)] };
      }
      const lb: LoadBalancerRecord = {
        kind: 'loadbalancer', arn: b.newArn(`loadbalancer/app/${name}`), name, scheme, type: 'application',
        ipAddressType: str(body, 'IpAddressType') ?? 'ipv4', createdAt: b.now(),
      };
      await b.changeStructure({ ...b.view, loadBalancers: [...b.view.loadBalancers, lb] }, { put: [lb] });
      return { LoadBalancers: [loadBalancerShape(lb)] };
    }),

    CreateTargetGroup: (_, body) => b.exclusive(async () => {
      const name = req(body, 'Name');
      checkName('Target group', name);
      const proto = protocol(body, 'Protocol');
      const port = int(body, 'Port', 1, 65535);
      if (port === undefined) throw validationError('Port', 'Member must not be null');
      const targetType = str(body, 'TargetType') ?? 'instance';
      if (!['instance', 'ip'].includes(targetType)) throw invalidConfigurationRequest(`Target type '${targetType}' is not supported locally`);
      const hc = healthCheck(body);
      const tg: TargetGroupRecord = {
        kind: 'targetgroup', arn: b.newArn(`targetgroup/${name}`), name, protocol: proto, port, vpcId: str(body, 'VpcId') ?? 'vpc-local',
        targetType, protocolVersion: str(body, 'ProtocolVersion') ?? 'HTTP1', healthCheck: hc,
        attributes: { [DEREGISTRATION_DELAY]: String(DEFAULT_DEREGISTRATION_DELAY_SECONDS) }, targets: [], createdAt: b.now(),
      };
      const existing = b.view.targetGroups.find((t) => t.name === name);
      if (existing) {
        const same = existing.port === port && existing.protocol === proto && existing.targetType === targetType &&
          JSON.stringify(existing.healthCheck) === JSON.stringify(hc);
        if (!same) throw duplicateTargetGroupName(name);
        return { TargetGroups: [targetGroupShape(b, existing)] };
      }
      await b.changeStructure({ ...b.view, targetGroups: [...b.view.targetGroups, tg] }, { put: [tg] });
      return { TargetGroups: [targetGroupShape(b, tg)] };
    }),

    CreateListener: (_, body) => b.exclusive(async () => {
      const lb = lbByArn(req(body, 'LoadBalancerArn'));
      const proto = protocol(body, 'Protocol', 'HTTP');
      const port = int(body, 'Port', 1, 65535);
      if (port === undefined) throw validationError('Port', 'Member must not be null');
      const actions = list(body, 'DefaultActions');
      if (actions.length !== 1 || str(actions[0], 'Type') !== 'forward') {
        throw invalidLoadBalancerAction('The local load balancer takes one default action, of type forward');
      }
      const forward = actions[0].ForwardConfig as Json | undefined;
      const groups = forward && Array.isArray(forward.TargetGroups) ? (forward.TargetGroups as Json[]) : [];
      const targetGroupArn = str(actions[0], 'TargetGroupArn') ?? (groups.length === 1 ? str(groups[0], 'TargetGroupArn') : undefined);
      if (!targetGroupArn) throw invalidLoadBalancerAction('A forward action must name one target group');
      b.targetGroup(targetGroupArn);
      const onPort = b.view.listeners.find((l) => l.port === port);
      if (onPort?.loadBalancerArn === lb.arn) {
        if (onPort.targetGroupArn === targetGroupArn) return { Listeners: [listenerShape(onPort)] };
        throw duplicateListener();
      }
      if (onPort || !(await portFree(port))) throw invalidConfigurationRequest(`Port ${port} on 127.0.0.1 is already in use on this machine`);
      const listener: ListenerRecord = { kind: 'listener', arn: b.newArn(`listener/app/${lb.name}/${lb.arn.split('/').pop()}`), loadBalancerArn: lb.arn, port, protocol: proto, targetGroupArn };
      await b.changeStructure({ ...b.view, listeners: [...b.view.listeners, listener] }, { put: [listener] });
      return { Listeners: [listenerShape(listener)] };
    }),

    DescribeLoadBalancers: async (_, body) => {
      const arns = strings(body, 'LoadBalancerArns');
      const names = strings(body, 'Names');
      let found = b.view.loadBalancers;
      if (arns.length > 0) found = found.filter((l) => arns.includes(l.arn));
      if (names.length > 0) found = found.filter((l) => names.includes(l.name));
      if (found.length < arns.length + names.length) throw loadBalancerNotFound();
      return { LoadBalancers: found.map(loadBalancerShape) };
    },

    DescribeTargetGroups: async (_, body) => {
      const arns = strings(body, 'TargetGroupArns');
      const names = strings(body, 'Names');
      const lbArn = str(body, 'LoadBalancerArn');
      // Service Connect's target groups are Berth's own, as ECS's Cloud Map services are not ELBv2's.
      let found = b.view.targetGroups.filter((t) => !t.serviceConnect);
      if (lbArn !== undefined) {
        lbByArn(lbArn);
        found = found.filter((tg) => b.view.listeners.some((l) => l.loadBalancerArn === lbArn && l.targetGroupArn === tg.arn));
      }
      if (arns.length > 0) found = found.filter((t) => arns.includes(t.arn));
      if (names.length > 0) found = found.filter((t) => names.includes(t.name));
      if (found.length < arns.length + names.length) throw targetGroupNotFound();
      return { TargetGroups: found.map((tg) => targetGroupShape(b, tg)) };
    },

    DescribeListeners: async (_, body) => {
      const arns = strings(body, 'ListenerArns');
      const lbArn = str(body, 'LoadBalancerArn');
      if (lbArn === undefined && arns.length === 0) throw validationError('LoadBalancerArn', 'You must specify either listener ARNs or a load balancer ARN');
      if (lbArn !== undefined) lbByArn(lbArn);
      const found = b.view.listeners.filter((l) => (lbArn === undefined || l.loadBalancerArn === lbArn) && (arns.length === 0 || arns.includes(l.arn)));
      if (found.length < arns.length) throw listenerNotFound();
      return { Listeners: found.map(listenerShape) };
    },

    DescribeTargetHealth: async (_, body) => {
      const tg = b.targetGroup(req(body, 'TargetGroupArn'));
      const all = (await b.health(tg.arn)) ?? [];
      const asked = list(body, 'Targets').map((t) => ({ id: str(t, 'Id') ?? '', port: int(t, 'Port', 1, 65535) ?? tg.port }));
      const shown = asked.length === 0 ? all : asked.map((t) => all.find((h) => h.target.id === t.id && h.target.port === t.port) ??
        { target: t, state: 'unused' as const, reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' });
      return { TargetHealthDescriptions: shown.map(targetHealthShape) };
    },

    RegisterTargets: async (_, body) => {
      const arn = req(body, 'TargetGroupArn');
      await b.register(arn, targets(b, body, b.targetGroup(arn)));
      return {};
    },

    DeregisterTargets: async (_, body) => {
      const arn = req(body, 'TargetGroupArn');
      await b.deregister(arn, targets(b, body, b.targetGroup(arn)));
      return {};
    },

    DeleteLoadBalancer: (_, body) => b.exclusive(async () => {
      const arn = req(body, 'LoadBalancerArn');
      // As ELBv2: deleting one that does not exist (any more) succeeds.
      if (!b.view.loadBalancers.some((l) => l.arn === arn)) return {};
      const listeners = b.view.listeners.filter((l) => l.loadBalancerArn === arn);
      await b.changeStructure(
        { ...b.view, loadBalancers: b.view.loadBalancers.filter((l) => l.arn !== arn), listeners: b.view.listeners.filter((l) => l.loadBalancerArn !== arn) },
        { remove: [arn, ...listeners.map((l) => l.arn)] },
      );
      return {};
    }),

    DeleteTargetGroup: (_, body) => b.exclusive(async () => {
      const arn = req(body, 'TargetGroupArn');
      if (!b.view.targetGroups.some((t) => t.arn === arn && !t.serviceConnect)) return {};
      if (b.view.listeners.some((l) => l.targetGroupArn === arn)) throw resourceInUse(`Target group '${arn}' is currently in use by a listener or a rule`);
      await b.changeStructure({ ...b.view, targetGroups: b.view.targetGroups.filter((t) => t.arn !== arn) }, { remove: [arn] });
      return {};
    }),

    DeleteListener: (_, body) => b.exclusive(async () => {
      const arn = req(body, 'ListenerArn');
      if (!b.view.listeners.some((l) => l.arn === arn)) throw listenerNotFound();
      await b.changeStructure({ ...b.view, listeners: b.view.listeners.filter((l) => l.arn !== arn) }, { remove: [arn] });
      return {};
    }),

    DescribeTargetGroupAttributes: async (_, body) => {
      const tg = b.targetGroup(req(body, 'TargetGroupArn'));
      return { Attributes: Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value })) };
    },

    ModifyTargetGroupAttributes: (_, body) => b.exclusive(async () => {
      const tg = b.targetGroup(req(body, 'TargetGroupArn'));
      const attributes = { ...tg.attributes };
      for (const a of list(body, 'Attributes')) {
        const key = str(a, 'Key') ?? '';
        const value = str(a, 'Value') ?? '';
        if (key === DEREGISTRATION_DELAY && !(/^\d+$/.test(value) && Number(value) <= 3600)) {
          throw invalidConfigurationRequest(`The value of '${DEREGISTRATION_DELAY}' must be between 0 and 3600`);
        }
        if (!/^[a-z0-9_.]{1,256}$/.test(key)) throw validationError('Attributes.member.N.Key', 'Member must be an attribute key', key);
        attributes[key] = value;
      }
      const next = { ...tg, attributes };
      await b.changeStructure({ ...b.view, targetGroups: b.view.targetGroups.map((t) => (t.arn === tg.arn ? next : t)) }, { put: [next] }, false);
      return { Attributes: Object.entries(attributes).map(([Key, Value]) => ({ Key, Value })) };
    }),
  };
}
