import { createJsonApiHandler, type ApiHandlerOptions } from '../../../shared/aws-protocol/handler';
import { JSON_1_0 } from '../../../shared/aws-protocol/json';
import type { Berth } from '../../../shared/context';
import { createDocumentClient } from '../../../shared/store/client';
import { LocalStepFunctions } from './engine';
import { STATES_TARGET_PREFIX, statesOperations } from './operations';
import { StatesStore } from './store';
import { createStatesTables } from './tables';

/** A definition may be 1 MB, and JSON escaping makes the body larger than that. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface StatesHandlerOptions extends ApiHandlerOptions {
  dynamoEndpoint: string;
  tablePrefix?: string;
}

/**
 * The local Step Functions slice (JSON 1.0, SigV4 service `states`): its tables in dynalite, its
 * executor bound to Berth, and Berth's task callbacks answered by it. Executions a previous run
 * left RUNNING are marked ABORTED first (see LocalStepFunctions.recover).
 */
export async function createStepFunctionsHandler(berth: Berth, o: StatesHandlerOptions) {
  const tables = await createStatesTables(o.dynamoEndpoint, o.tablePrefix);
  const store = new StatesStore(createDocumentClient({ endpoint: o.dynamoEndpoint }), tables);
  const log = o.log ?? ((line: object) => console.log(JSON.stringify(line)));
  const engine = new LocalStepFunctions(berth, store, { log });
  berth.callbacks = engine;
  const aborted = await engine.recover();
  if (aborted > 0) log({ level: 'warn', message: `marked ${aborted} execution(s) a previous run left RUNNING as ABORTED` });
  const handler = createJsonApiHandler(
    () => berth,
    {
      targetPrefix: STATES_TARGET_PREFIX,
      operations: statesOperations({ store, engine, partition: berth.partition, now: () => berth.now() }),
      auth: { services: ['states'], principal: ['user', 'operator', 'task'] },
      contentType: JSON_1_0,
    },
    { maxBodyBytes: MAX_BODY_BYTES, ...o },
  );
  return { handler, engine };
}
