import { GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentUpdateError } from '../domain/errors';
import type { Service } from '../domain/service';
import { conditionHeld } from './client';
import { scanAll } from './scan';

/** The stored item: the service, and what made CreateService idempotent for its caller. */
export interface ServiceRecord extends Service {
  /** CreateService's clientToken, when it had one. */
  clientToken?: string;
  /** A digest of CreateService's parameters: a repeat must match it to be the same call. */
  requestHash?: string;
}

export type ServiceKey = { cluster: string; serviceName: string };

const keyOf = (k: ServiceKey): ServiceKey => ({ cluster: k.cluster, serviceName: k.serviceName });

/**
 * ECS services, keyed by cluster and name. dynalite has no transactions, so every write is one
 * conditional write on the item's `version`: a writer that read a stale service loses the race
 * and re-reads, never overwrites a newer one.
 */
export class ServiceStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /**
   * Creates the service unless one of that name is live in the cluster. An INACTIVE one is
   * replaced, as ECS lets a deleted service's name be used again. Returns the service the name
   * now holds, and whether this call made it.
   */
  async create(service: ServiceRecord): Promise<{ created: boolean; service: ServiceRecord }> {
    if (await this.putIf(service, 'attribute_not_exists(serviceName)', {})) return { created: true, service };
    const existing = (await this.get(service))!;
    if (existing.status !== 'INACTIVE') return { created: false, service: existing };
    // The new service's version continues the old one's, so that a reconciler still holding the
    // old (draining) service can never write over the new one with a version they share.
    const revived = { ...service, version: existing.version + 1 };
    if (await this.putIf(revived, '#v = :expected AND #s = :inactive', { ':expected': existing.version, ':inactive': 'INACTIVE' })) {
      return { created: true, service: revived };
    }
    return { created: false, service: (await this.get(service))! };
  }

  async get(key: ServiceKey): Promise<ServiceRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true }));
    return r.Item as ServiceRecord | undefined;
  }

  /** Every service of a cluster, whatever its status, in name order. */
  async list(cluster: string): Promise<ServiceRecord[]> {
    return scanAll<ServiceRecord>(this.db, new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: '#c = :c',
      ExpressionAttributeNames: { '#c': 'cluster' },
      ExpressionAttributeValues: { ':c': cluster },
      ConsistentRead: true,
    }));
  }

  /** Every service that still has work to do (ACTIVE or DRAINING), in every cluster. */
  async listLive(): Promise<ServiceRecord[]> {
    return scanAll<ServiceRecord>(this.db, new ScanCommand({
      TableName: this.table,
      FilterExpression: '#s <> :inactive',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':inactive': 'INACTIVE' },
      ConsistentRead: true,
    }));
  }

  /**
   * Writes the service as `next` if it is still at `expectedVersion`, bumping the version.
   * Undefined when another writer got there first: the caller re-reads and decides again.
   */
  async update(next: ServiceRecord, expectedVersion: number): Promise<ServiceRecord | undefined> {
    const written = { ...next, version: expectedVersion + 1 };
    // Two writers that read the same version (an API call and a reconciler pass, or two passes)
    // would otherwise each overwrite the other's change.
    const ok = await this.putIf(written, 'attribute_exists(serviceName) AND #v = :expected', { ':expected': expectedVersion });
    return ok ? written : undefined;
  }

  /**
   * Read, change, write on the version read; again from a fresh read when another writer (a
   * reconciler pass, another call) got there first. `change` may throw to refuse: then nothing
   * is written. Undefined when there is no such service.
   */
  async mutate(key: ServiceKey, change: (current: ServiceRecord) => ServiceRecord, attempts = 20): Promise<ServiceRecord | undefined> {
    for (let i = 0; i < attempts; i++) {
      const current = await this.get(key);
      if (!current) return undefined;
      const written = await this.update(change(current), current.version);
      if (written) return written;
    }
    throw new ConcurrentUpdateError(`service ${key.cluster}/${key.serviceName}`);
  }

  private async putIf(item: ServiceRecord, condition: string, values: Record<string, unknown>): Promise<boolean> {
    const names: Record<string, string> = {};
    if (condition.includes('#v')) names['#v'] = 'version';
    if (condition.includes('#s')) names['#s'] = 'status';
    return conditionHeld(this.db.send(new PutCommand({
      TableName: this.table,
      Item: item,
      ConditionExpression: condition,
      ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
      ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
    })));
  }
}
