import type { Berth } from '../../shared/context';
import type { ApiHandlerOptions } from '../../shared/ecs-api/handler';
import { createDocumentClient } from '../../shared/store/client';
import { ensureTables } from '../dynalite';
import { loadOrCreateSealer } from '../../shared/cloud/local/sealer';
import { createSecretsManagerHandler } from './secrets-manager/handler';
import { SECRETS_MANAGER_TARGET_PREFIX } from './secrets-manager/operations';
import { SECRETS_TABLE, SecretStore } from './secrets-manager/secret-store';
import { createSsmHandler } from './ssm/handler';
import { SSM_TARGET_PREFIX } from './ssm/operations';
import { PARAMETERS_TABLE, ParameterStore } from './ssm/parameter-store';

export interface SecretSlicesOptions extends ApiHandlerOptions {
  dataDir: string;
  dynamoEndpoint: string;
}

/**
 * The local Secrets Manager and Parameter Store: their tables in dynalite, their values sealed
 * under the data directory's key, their handlers by X-Amz-Target prefix.
 */
export async function secretSlices(berth: Berth, o: SecretSlicesOptions) {
  await ensureTables(o.dynamoEndpoint, [SECRETS_TABLE, PARAMETERS_TABLE]);
  const sealer = loadOrCreateSealer(o.dataDir);
  const db = createDocumentClient({ endpoint: o.dynamoEndpoint });
  const common = { sealer, partition: berth.partition, now: () => berth.now() };
  const options = { log: o.log, maxBodyBytes: o.maxBodyBytes };
  return {
    [SECRETS_MANAGER_TARGET_PREFIX]: createSecretsManagerHandler(() => berth, { ...common, store: new SecretStore(db) }, options),
    [SSM_TARGET_PREFIX]: createSsmHandler(() => berth, { ...common, store: new ParameterStore(db) }, options),
  };
}
