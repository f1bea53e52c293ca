import { USER_PRINCIPALS } from '../auth/access-keys';
import { type ApiHandlerOptions, type BerthFor, createJsonApiHandler } from '../aws-protocol/handler';
import type { Operation } from '../aws-protocol/operation';
import { checkArnRegions } from '../domain/arns';
import { OPERATIONS, TARGET_PREFIX } from './operations';

/** Every operation refuses references by another region's ARN first (the Berth is the call's region's). */
const REGIONAL_OPERATIONS: Readonly<Record<string, Operation>> = Object.fromEntries(
  Object.entries(OPERATIONS).map(([name, op]): [string, Operation] => [name, (b, body, caller) => {
    checkArnRegions(b.partition, body);
    return op(b, body, caller);
  }]),
);

/** The ECS API: JSON 1.1, signed for service `ecs` by a user's key. */
export const createApiHandler = (berth: BerthFor, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, { targetPrefix: TARGET_PREFIX, operations: REGIONAL_OPERATIONS, auth: { services: ['ecs'], principal: USER_PRINCIPALS } }, options);
