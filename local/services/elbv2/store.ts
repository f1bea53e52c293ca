import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { scanAll } from '../../../shared/store/scan';
import type { TableSpec } from '../../dynalite';

/** The local ELBv2 slice's one table: load balancers, target groups (with their targets), listeners and Service Connect's namespaces, by ARN. */
export const ELBV2_TABLE: TableSpec = { name: 'berth-local-elbv2', hashKey: 'arn' };

export interface LoadBalancerRecord {
  kind: 'loadbalancer';
  arn: string;
  name: string;
  scheme: string;
  type: 'application';
  ipAddressType: string;
  createdAt: number;
}

export interface HealthCheckSettings {
  enabled: boolean;
  protocol: string;
  /** `traffic-port`, or a port number as a string. */
  port: string;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
  /** The success codes: `200`, `200-299`, `200,202`. */
  httpCode: string;
}

export interface TargetRecord {
  id: string;
  port: number;
  registeredAt: number;
  /** Set by DeregisterTargets: the target drains until then, and then leaves the group. */
  drainingUntil?: number;
}

export interface TargetGroupRecord {
  kind: 'targetgroup';
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: string;
  protocolVersion: string;
  healthCheck: HealthCheckSettings;
  /** Attributes by key, as ModifyTargetGroupAttributes sets them (strings, as ELBv2 keeps them). */
  attributes: Record<string, string>;
  targets: TargetRecord[];
  createdAt: number;
  /**
   * Set on the target group behind a Service Connect endpoint (service-connect.ts): no listener
   * and no ELBv2 call sees it; HAProxy serves it as TCP on 127.0.0.1:proxyPort.
   */
  serviceConnect?: ServiceConnectEndpointRecord;
}

export interface ServiceConnectEndpointRecord {
  namespaceArn: string;
  discoveryName: string;
  dnsName: string;
  port: number;
  owner: string;
  proxyPort: number;
}

/** A Cloud Map namespace, as Service Connect uses it (HTTP: names by API only). */
export interface NamespaceRecord {
  kind: 'namespace';
  arn: string;
  id: string;
  name: string;
  createdAt: number;
}

export interface ListenerRecord {
  kind: 'listener';
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  /** The one action the local slice serves: forward to this target group. */
  targetGroupArn: string;
}

export type Elbv2Record = LoadBalancerRecord | TargetGroupRecord | ListenerRecord | NamespaceRecord;

export interface Elbv2State {
  loadBalancers: LoadBalancerRecord[];
  targetGroups: TargetGroupRecord[];
  listeners: ListenerRecord[];
  namespaces?: NamespaceRecord[];
}

export class Elbv2Store {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table = ELBV2_TABLE.name) {}

  async load(): Promise<Elbv2State> {
    const all = await scanAll<Elbv2Record>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }));
    const byName = <T extends { createdAt?: number; arn: string }>(a: T, b: T) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.arn.localeCompare(b.arn);
    return {
      loadBalancers: all.filter((r): r is LoadBalancerRecord => r.kind === 'loadbalancer').sort(byName),
      targetGroups: all.filter((r): r is TargetGroupRecord => r.kind === 'targetgroup').sort(byName),
      listeners: all.filter((r): r is ListenerRecord => r.kind === 'listener').sort(byName),
      namespaces: all.filter((r): r is NamespaceRecord => r.kind === 'namespace').sort(byName),
    };
  }

  async put(record: Elbv2Record): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: record }));
  }

  async delete(arn: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { arn } }));
  }
}
