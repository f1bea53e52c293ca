import { USER_PRINCIPALS } from '../auth/access-keys';
import { type ApiHandlerOptions, createJsonApiHandler } from '../aws-protocol/handler';
import type { Berth } from '../context';
import { OPERATIONS, TARGET_PREFIX } from './operations';

/** The ECS API: JSON 1.1, signed for service `ecs` by a user's key. */
export const createApiHandler = (berth: () => Berth | Promise<Berth>, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, { targetPrefix: TARGET_PREFIX, operations: OPERATIONS, auth: { services: ['ecs'], principal: USER_PRINCIPALS } }, options);
