import type { Berth } from '../../../shared/context';
import { type ApiHandlerOptions, createJsonApiHandler } from '../../../shared/aws-protocol/handler';
import { SSM_TARGET_PREFIX, type SsmContext, ssmOperations } from './operations';

/** The local Parameter Store, on the local endpoint's `POST /` beside ECS; hosts may read. */
export const createSsmHandler = (berth: () => Berth, ctx: SsmContext, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, {
    targetPrefix: SSM_TARGET_PREFIX,
    operations: ssmOperations(ctx),
    auth: { services: ['ssm'], principal: ['user', 'operator', 'host', 'task'] },
  }, options);
