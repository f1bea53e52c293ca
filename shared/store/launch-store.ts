import { DeleteCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Launch } from '../capacity/types';
import { isConditionFailure } from './client';
import { scanAll } from './scan';

/**
 * A launch the capacity manager decided on, written before the fleet provider is asked. Its id
 * is the launch's client token, so a retry after a timeout or a crash asks for the same launch
 * and EC2 answers with the instances it started the first time instead of starting more.
 */
export interface PendingLaunch extends Launch {
  launchId: string;
  /** The plan's `now`: the launched hosts' launchedAt, however many tries it takes to record them. */
  plannedAt: number;
}

/** The client token the provider is asked with: the launch's own id, so every try sends the same. */
export const launchClientToken = (launch: Pick<PendingLaunch, 'launchId'>): string => launch.launchId;

/** Launches asked for whose hosts are not yet recorded. Small: one item per launch in flight. */
export class LaunchStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async begin(launch: PendingLaunch): Promise<void> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: launch,
        // A launch id is new each plan; the condition keeps a replayed write from resetting plannedAt.
        ConditionExpression: 'attribute_not_exists(launchId)',
      }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  async list(): Promise<PendingLaunch[]> {
    return scanAll<PendingLaunch>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }));
  }

  /** Once its hosts are recorded (or nothing started): the host records track it from here. */
  async finish(launchId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { launchId } }));
  }
}
