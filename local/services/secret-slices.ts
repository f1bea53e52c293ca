import type { Berth } from '../../shared/context';
import type { ApiHandlerOptions, BerthFor } from '../../shared/aws-protocol/handler';
import { documentClientFor, ensureTables } from '../dynalite';
import { join } from 'node:path';
import { SEALING_CHECK_SAMPLE, SealingKeyMismatchError, opensAnySealed } from '../../shared/auth/key-sealer';
import { SEALING_KEY_FILE, type Sealer, loadOrCreateSealer } from '../../shared/cloud/local/sealer';
import { createSecretsManagerHandler } from './secrets-manager/handler';
import { SECRETS_MANAGER_TARGET_PREFIX, sealContext as secretContext, secretsManagerOperations } from './secrets-manager/operations';
import { SECRETS_TABLE, SecretStore } from './secrets-manager/secret-store';
import { createSsmHandler } from './ssm/handler';
import { SSM_TARGET_PREFIX, sealContext as parameterContext, ssmOperations } from './ssm/operations';
import { regionalOperations, regionalTable } from './regional';
import { PARAMETERS_TABLE, ParameterStore } from './ssm/parameter-store';

export interface SecretSlicesOptions extends ApiHandlerOptions {
  dataDir: string;
  dynamoEndpoint: string;
  /** Which region's slices answer a call (the local mode's regions); the home one's (`berth`) when not given. */
  berthFor?: BerthFor;
}

/**
 * The local Secrets Manager and Parameter Store, in each region: their tables in dynalite, their
 * values sealed under the data directory's key, their handlers by X-Amz-Target prefix.
 */
export async function secretSlices(berth: Berth, o: SecretSlicesOptions) {
  const sealer = loadOrCreateSealer(o.dataDir);
  const db = documentClientFor(o.dynamoEndpoint);
  const stores = async (tablePrefix: string) => {
    const tables = { secrets: regionalTable(SECRETS_TABLE, tablePrefix), parameters: regionalTable(PARAMETERS_TABLE, tablePrefix) };
    await ensureTables(o.dynamoEndpoint, [tables.secrets, tables.parameters]);
    const secrets = new SecretStore(db, tables.secrets.name);
    const parameters = new ParameterStore(db, tables.parameters.name);
    await checkSealingKey(sealer, secrets, parameters, join(o.dataDir, SEALING_KEY_FILE));
    return { secrets, parameters };
  };
  // The two slices of one region share its tables, checked once.
  const regional = new Map<string, ReturnType<typeof stores>>();
  const storesOf = (region: string, tablePrefix: string) => {
    if (!regional.has(region)) regional.set(region, stores(tablePrefix));
    return regional.get(region)!;
  };
  const common = (b: Berth) => ({ sealer, partition: b.partition, now: () => b.now() });
  const secretsManager = await regionalOperations(berth, async (b, prefix) => secretsManagerOperations({ ...common(b), store: (await storesOf(b.partition.region, prefix)).secrets }));
  const ssm = await regionalOperations(berth, async (b, prefix) => ssmOperations({ ...common(b), store: (await storesOf(b.partition.region, prefix)).parameters }));
  const options = { log: o.log, maxBodyBytes: o.maxBodyBytes };
  const berthFor = o.berthFor ?? (() => berth);
  return {
    handlers: {
      [SECRETS_MANAGER_TARGET_PREFIX]: createSecretsManagerHandler(berthFor, secretsManager.operations, options),
      [SSM_TARGET_PREFIX]: createSsmHandler(berthFor, ssm.operations, options),
    },
    inRegion: (b: Berth) => Promise.all([secretsManager.inRegion(b), ssm.inRegion(b)]),
  };
}

/** At start: the key file must open what the tables hold sealed, or nothing of it could be read. */
async function checkSealingKey(sealer: Sealer, secrets: SecretStore, parameters: ParameterStore, keyFile: string): Promise<void> {
  const versions = (await secrets.list()).flatMap((r) => Object.entries(r.versions).map(([id, v]) => () => sealer.open(v.sealed, secretContext(r.arn, id))));
  const values = (await parameters.list()).map((r) => () => sealer.open(r.sealed, parameterContext(r.name, r.version)));
  const samples = [...versions.slice(0, SEALING_CHECK_SAMPLE), ...values.slice(0, SEALING_CHECK_SAMPLE)];
  if (!(await opensAnySealed(samples))) throw new SealingKeyMismatchError(keyFile, 'secrets and parameters');
}
