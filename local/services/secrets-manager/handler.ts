import type { Berth } from '../../../shared/context';
import { type ApiHandlerOptions, createJsonApiHandler } from '../../../shared/aws-protocol/handler';
import { SECRETS_MANAGER_TARGET_PREFIX, type SecretsManagerContext, secretsManagerOperations } from './operations';

/**
 * The local Secrets Manager, on the local endpoint's `POST /` beside ECS. Users', hosts' and
 * tasks' keys may sign for it: each operation decides which of them it serves (task-access.ts).
 */
export const createSecretsManagerHandler = (berth: () => Berth, ctx: SecretsManagerContext, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, {
    targetPrefix: SECRETS_MANAGER_TARGET_PREFIX,
    operations: secretsManagerOperations(ctx),
    auth: { services: ['secretsmanager'], principal: ['user', 'operator', 'host', 'task'] },
  }, options);
