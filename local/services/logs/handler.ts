import type { Berth } from '../../../shared/context';
import { type ApiHandlerOptions, type BerthFor, createJsonApiHandler } from '../../../shared/aws-protocol/handler';
import { hostLogAccess } from './host-access';
import { LogStore } from './log-store';
import { LOGS_TARGET_PREFIX, logsOperations } from './operations';
import { createLogTables } from './tables';
import { regionalOperations } from '../regional';
import { documentClientFor } from '../../dynalite';

/**
 * PutLogEvents takes 1 MB of messages; JSON escaping can make the body several times that, and
 * the batch's own limit is checked on the events, so the body limit sits well above it.
 */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface LogsHandlerOptions extends ApiHandlerOptions {
  dynamoEndpoint: string;
  tablePrefix?: string;
  /** Which region's slice answers a call (the local mode's regions); the home one's (`berth`) when not given. */
  berthFor?: BerthFor;
  /** Every region's Berth the local mode runs: whose hosts may write here what their tasks' awslogs-region names. */
  berths?: () => Promise<Berth[]>;
}

/**
 * The local CloudWatch Logs slice: its tables in dynalite, and its operations behind SigV4
 * (service `logs`), callable by users (the CLI) and hosts (the agents shipping output, each
 * only into its own tasks' groups: see host-access.ts).
 */
export async function createLogsHandler(berth: Berth, o: LogsHandlerOptions) {
  const db = documentClientFor(o.dynamoEndpoint);
  const log = o.log ?? ((line: object) => console.log(JSON.stringify(line)));
  const { operations } = await regionalOperations(berth, async (b, tablePrefix) => logsOperations({
    store: new LogStore(db, await createLogTables(o.dynamoEndpoint, tablePrefix)),
    partition: b.partition,
    now: () => b.now(),
    background: (work) => void work.catch((e) => log({ level: 'error', message: 'logs background work failed', error: String(e) })),
  }, hostLogAccess(b, o.berths)), o.tablePrefix);
  return createJsonApiHandler(
    o.berthFor ?? (() => berth),
    { targetPrefix: LOGS_TARGET_PREFIX, operations, auth: { services: ['logs'], principal: ['user', 'operator', 'host'] } },
    { maxBodyBytes: MAX_BODY_BYTES, ...o },
  );
}
