import type { Berth } from '../context';
import { type ApiHandlerOptions, createJsonApiHandler } from '../ecs-api/handler';
import { AGENT_OPERATIONS, AGENT_TARGET_PREFIX } from './operations';

/** The agent API, behind API Gateway's `POST /agent`. */
export const createAgentApiHandler = (berth: () => Berth | Promise<Berth>, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, { targetPrefix: AGENT_TARGET_PREFIX, operations: AGENT_OPERATIONS }, options);
