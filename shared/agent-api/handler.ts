import { USER_PRINCIPALS } from '../auth/access-keys';
import { type ApiHandlerOptions, type BerthFor, createJsonApiHandler } from '../aws-protocol/handler';
import { AGENT_OPERATIONS, AGENT_TARGET_PREFIX } from './operations';
import { OPERATOR_OPERATIONS, OPERATOR_TARGET_PREFIX } from './operator';

/** The agent API, behind API Gateway's `POST /agent`. */
export const createAgentApiHandler = (berth: BerthFor, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, { targetPrefix: AGENT_TARGET_PREFIX, operations: AGENT_OPERATIONS, auth: { services: ['ecs'], principal: 'host' } }, { authenticate: 'optional', ...options });

/**
 * The operator API, served by the local mode on `POST /operator` (EventBridge's role on AWS).
 * A user's key is recognised, so that it learns it is denied, but only an operator's may call.
 */
export const createOperatorApiHandler = (berth: BerthFor, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, { targetPrefix: OPERATOR_TARGET_PREFIX, operations: OPERATOR_OPERATIONS, auth: { services: ['ecs'], principal: USER_PRINCIPALS } }, options);
