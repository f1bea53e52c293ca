import type { Operation } from '../../../shared/aws-protocol/operation';
import { type ApiHandlerOptions, type BerthFor, createJsonApiHandler } from '../../../shared/aws-protocol/handler';
import { SECRETS_MANAGER_TARGET_PREFIX } from './operations';

/**
 * The local Secrets Manager, on the local endpoint's `POST /` beside ECS. Users', hosts' and
 * tasks' keys may sign for it: each operation decides which of them it serves (task-access.ts).
 */
export const createSecretsManagerHandler = (berth: BerthFor, operations: Record<string, Operation>, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, {
    targetPrefix: SECRETS_MANAGER_TARGET_PREFIX,
    operations,
    auth: { services: ['secretsmanager'], principal: ['user', 'operator', 'host', 'task'] },
  }, options);
