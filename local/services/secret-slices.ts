import type { Berth } from '../../shared/context';
import type { ApiHandlerOptions } from '../../shared/aws-protocol/handler';
import { createDocumentClient } from '../../shared/store/client';
import { ensureTables } from '../dynalite';
import { join } from 'node:path';
import { SEALING_CHECK_SAMPLE, SealingKeyMismatchError, opensAnySealed } from '../../shared/auth/key-sealer';
import { SEALING_KEY_FILE, type Sealer, loadOrCreateSealer } from '../../shared/cloud/local/sealer';
import { createSecretsManagerHandler } from './secrets-manager/handler';
import { SECRETS_MANAGER_TARGET_PREFIX, sealContext as secretContext } from './secrets-manager/operations';
import { SECRETS_TABLE, SecretStore } from './secrets-manager/secret-store';
import { createSsmHandler } from './ssm/handler';
import { SSM_TARGET_PREFIX, sealContext as parameterContext } from './ssm/operations';
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
  const secrets = new SecretStore(db);
  const parameters = new ParameterStore(db);
  await checkSealingKey(sealer, secrets, parameters, join(o.dataDir, SEALING_KEY_FILE));
  const common = { sealer, partition: berth.partition, now: () => berth.now() };
  const options = { log: o.log, maxBodyBytes: o.maxBodyBytes };
  return {
    [SECRETS_MANAGER_TARGET_PREFIX]: createSecretsManagerHandler(() => berth, { ...common, store: secrets }, options),
    [SSM_TARGET_PREFIX]: createSsmHandler(() => berth, { ...common, store: parameters }, options),
  };
}

/** At start: the key file must open what the tables hold sealed, or nothing of it could be read. */
async function checkSealingKey(sealer: Sealer, secrets: SecretStore, parameters: ParameterStore, keyFile: string): Promise<void> {
  const versions = (await secrets.list()).flatMap((r) => Object.entries(r.versions).map(([id, v]) => () => sealer.open(v.sealed, secretContext(r.arn, id))));
  const values = (await parameters.list()).map((r) => () => sealer.open(r.sealed, parameterContext(r.name, r.version)));
  const samples = [...versions.slice(0, SEALING_CHECK_SAMPLE), ...values.slice(0, SEALING_CHECK_SAMPLE)];
  if (!(await opensAnySealed(samples))) throw new SealingKeyMismatchError(keyFile, 'secrets and parameters');
}
