import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Namespace, ServiceConnectEndpoint } from '../cloud/service-connect';
import { conditionHeld } from './client';
import { scanAll } from './scan';

/**
 * Service Connect's items where Berth keeps them itself (on AWS: no Cloud Map, no ELBv2 for
 * it), one table keyed by `key`: a namespace per name (`namespace#NAME`), an endpoint per target
 * group (`endpoint#ARN`, with the tasks it balances over), and a claim per proxy port
 * (`proxy-port#N`), so two endpoints never get the same port on the hosts' proxies.
 */
const NAMESPACE = 'namespace#';
const ENDPOINT = 'endpoint#';
const PORT = 'proxy-port#';

export interface NamespaceItem extends Namespace {
  createdAt: number;
}

/** A task in an endpoint's target group, as the LoadBalancing port names it. */
export interface EndpointTarget {
  id: string;
  port: number;
  registeredAt: number;
  /** Set when it was deregistered: it drains until then, and then leaves. */
  drainingUntil?: number;
}

export interface EndpointItem extends ServiceConnectEndpoint {
  targets: EndpointTarget[];
  /** Optimistic-concurrency guard on its targets. */
  version: number;
}

type Keyed<T> = T & { key: string };

const strip = <T>(i: Record<string, unknown>): T => {
  const { key: _, ...rest } = i;
  return rest as T;
};

export class ServiceConnectStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  private async scan(prefix: string): Promise<Record<string, unknown>[]> {
    const all = await scanAll<Keyed<Record<string, unknown>>>(this.db, new ScanCommand({
      TableName: this.table, ConsistentRead: true, FilterExpression: 'begins_with(#k, :p)', ExpressionAttributeNames: { '#k': 'key' }, ExpressionAttributeValues: { ':p': prefix },
    }));
    return all.map((i) => strip(i));
  }

  async namespaces(): Promise<NamespaceItem[]> {
    return (await this.scan(NAMESPACE)) as unknown as NamespaceItem[];
  }

  /** Writes the namespace unless one of that name exists; answers the one that stands. */
  async createNamespace(n: NamespaceItem): Promise<NamespaceItem> {
    const key = `${NAMESPACE}${n.name}`;
    // Two CreateCluster calls naming one new namespace: one creates it, both answer it.
    if (await conditionHeld(this.db.send(new PutCommand({ TableName: this.table, Item: { ...n, key }, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'key' } })))) return n;
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { key }, ConsistentRead: true }));
    return strip<NamespaceItem>(r.Item!);
  }

  async endpoints(): Promise<EndpointItem[]> {
    return (await this.scan(ENDPOINT)) as unknown as EndpointItem[];
  }

  async endpoint(targetGroupArn: string): Promise<EndpointItem | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { key: `${ENDPOINT}${targetGroupArn}` }, ConsistentRead: true }));
    return r.Item && strip<EndpointItem>(r.Item);
  }

  /** Claims a proxy port for an endpoint; false when another endpoint holds it. */
  claimPort(port: number, targetGroupArn: string): Promise<boolean> {
    return conditionHeld(this.db.send(new PutCommand({
      TableName: this.table, Item: { key: `${PORT}${port}`, targetGroupArn }, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'key' },
    })));
  }

  async putEndpoint(e: EndpointItem): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...e, key: `${ENDPOINT}${e.targetGroupArn}` } }));
  }

  /** The endpoint and its port's claim. */
  async deleteEndpoint(e: ServiceConnectEndpoint): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { key: `${ENDPOINT}${e.targetGroupArn}` } }));
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { key: `${PORT}${e.proxyPort}` } }));
  }

  /** Replaces the endpoint's targets if no one changed them since `version`; false when someone did (or it is gone). */
  setTargets(targetGroupArn: string, targets: EndpointTarget[], version: number): Promise<boolean> {
    // Two passes registering and deregistering at once: the second re-reads rather than undo the first.
    return conditionHeld(this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: { key: `${ENDPOINT}${targetGroupArn}` },
      UpdateExpression: 'SET #t = :t, #v = :next',
      ConditionExpression: '#v = :v',
      ExpressionAttributeNames: { '#t': 'targets', '#v': 'version' },
      ExpressionAttributeValues: { ':t': targets, ':v': version, ':next': version + 1 },
    })));
  }
}
