import { type ApiHandlerOptions, type BerthFor, createJsonApiHandler } from '../../../shared/aws-protocol/handler';
import { JSON_1_0 } from '../../../shared/aws-protocol/json';
import type { Berth } from '../../../shared/context';
import { LocalStepFunctions } from './engine';
import { STATES_TARGET_PREFIX, statesOperations } from './operations';
import { StatesStore } from './store';
import { createStatesTables } from './tables';
import { regionalOperations } from '../regional';
import { documentClientFor } from '../../dynalite';

/** A definition may be 1 MB, and JSON escaping makes the body larger than that. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface StatesHandlerOptions extends ApiHandlerOptions {
  dynamoEndpoint: string;
  tablePrefix?: string;
  /** Which region's slice answers a call (the local mode's regions); the home one's (`berth`) when not given. */
  berthFor?: BerthFor;
}

/**
 * The local Step Functions slice (JSON 1.0, SigV4 service `states`): in each region, its tables in
 * dynalite, its executor bound to that region's Berth (whose ECS its tasks run in), and that
 * Berth's task callbacks answered by it. Executions a previous run left RUNNING are marked ABORTED
 * as a region's slice is built (see LocalStepFunctions.recover). `inRegion` builds a region's.
 */
export async function createStepFunctionsHandler(berth: Berth, o: StatesHandlerOptions) {
  const db = documentClientFor(o.dynamoEndpoint);
  const log = o.log ?? ((line: object) => console.log(JSON.stringify(line)));
  const engines: LocalStepFunctions[] = [];
  const { operations, inRegion } = await regionalOperations(berth, async (b, tablePrefix) => {
    const store = new StatesStore(db, await createStatesTables(o.dynamoEndpoint, tablePrefix));
    const engine = new LocalStepFunctions(b, store, { log });
    engines.push(engine);
    b.callbacks = engine;
    const aborted = await engine.recover();
    if (aborted > 0) log({ level: 'warn', message: `${b.partition.region}: marked ${aborted} execution(s) a previous run left RUNNING as ABORTED` });
    return statesOperations({ store, engine, partition: b.partition, now: () => b.now() });
  }, o.tablePrefix);
  const handler = createJsonApiHandler(
    o.berthFor ?? (() => berth),
    { targetPrefix: STATES_TARGET_PREFIX, operations, auth: { services: ['states'], principal: ['user', 'operator', 'task'] }, contentType: JSON_1_0 },
    { maxBodyBytes: MAX_BODY_BYTES, ...o },
  );
  /** Every region's executions abandoned (ABORTED at the next start), once their running states end. */
  const close = async () => {
    await Promise.all(engines.map((e) => e.close()));
  };
  return { handler, inRegion, close };
}
