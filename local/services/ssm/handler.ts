import type { Operation } from '../../../shared/aws-protocol/operation';
import { type ApiHandlerOptions, type BerthFor, createJsonApiHandler } from '../../../shared/aws-protocol/handler';
import { SSM_TARGET_PREFIX } from './operations';

/** The local Parameter Store, on the local endpoint's `POST /` beside ECS; hosts may read. */
export const createSsmHandler = (berth: BerthFor, operations: Record<string, Operation>, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, {
    targetPrefix: SSM_TARGET_PREFIX,
    operations,
    auth: { services: ['ssm'], principal: ['user', 'operator', 'host', 'task'] },
  }, options);
