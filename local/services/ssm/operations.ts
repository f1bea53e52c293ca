import type { Partition } from '../../../shared/domain/arns';
import { isUserKey } from '../../../shared/auth/access-keys';
import type { Caller, Operation } from '../../../shared/aws-protocol/operation';
import { AccessDeniedException, ValidationException } from '../errors';
import { epochSeconds, optBool, optStr, optStrList, reqStr } from '../request';
import type { Sealer } from '../../../shared/cloud/local/sealer';
import { InvalidKeyId, ParameterAlreadyExists, ParameterNotFound, ParameterVersionNotFound, TooManyUpdates } from './errors';
import { KeySealError } from '../../../shared/auth/key-sealer';
import { parameterArn, parseParameterRef, validateParameterName } from './parameter-name';
import { PARAMETER_TYPES, type ParameterRecord, type ParameterStore, type ParameterType } from './parameter-store';
import { authorizeParameterRead } from '../task-access';

export const SSM_TARGET_PREFIX = 'AmazonSSM.';

/** The longest value of each tier, in characters. */
const MAX_VALUE_LENGTH = { Standard: 4096, Advanced: 8192 } as const;
const TIERS = ['Standard', 'Advanced', 'Intelligent-Tiering'] as const;

export interface SsmContext {
  store: ParameterStore;
  sealer: Sealer;
  partition: Partition;
  now: () => number;
}

export const sealContext = (name: string, version: number) => `ssm:${name}:${version}`;

function requireUser(caller: Caller, operation: string): void {
  if (!isUserKey(caller.principal)) throw new AccessDeniedException(`ssm:${operation}`);
}

const enumViolation = (member: string, value: string, allowed: readonly string[]) =>
  new ValidationException(`1 validation error detected: Value '${value.slice(0, 64)}' at '${member}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`);

export function ssmOperations(ctx: SsmContext): Record<string, Operation> {
  const { store, sealer, partition } = ctx;

  /** The parameter a name or ARN (with an optional `:version`) names, or undefined. */
  async function lookup(ref: string): Promise<{ record: ParameterRecord; selector?: string } | undefined> {
    const parsed = parseParameterRef(partition, ref);
    if (!parsed || parsed.elsewhere) return undefined;
    for (const name of parsed.candidates) {
      const record = await store.get(name);
      if (!record) continue;
      // Only the latest version is kept: a selector naming another one finds nothing.
      if (parsed.selector !== undefined && parsed.selector !== String(record.version)) {
        throw new ParameterVersionNotFound(record.name, parsed.selector);
      }
      return { record, selector: parsed.selector };
    }
    return undefined;
  }

  /** A SecureString shows its ciphertext unless decryption is asked for, as with KMS. */
  const open = (r: ParameterRecord): string => {
    try {
      return sealer.open(r.sealed, sealContext(r.name, r.version)).toString('utf8');
    } catch (e) {
      if (e instanceof KeySealError) throw new InvalidKeyId(r.name);
      throw e;
    }
  };

  const shape = (r: ParameterRecord, decrypt: boolean, selector?: string) => ({
    Name: r.name,
    Type: r.type,
    Value: r.type === 'SecureString' && !decrypt ? r.sealed : open(r),
    Version: r.version,
    Selector: selector === undefined ? undefined : `:${selector}`,
    LastModifiedDate: epochSeconds(r.lastModifiedAt),
    ARN: parameterArn(partition, r.name),
    DataType: r.dataType,
  });

  const PutParameter: Operation = async (_b, body, caller) => {
    requireUser(caller, 'PutParameter');
    const name = validateParameterName(reqStr(body, 'Name', { min: 1, max: 2048 }));
    const value = reqStr(body, 'Value', { min: 1 });
    const type = optStr(body, 'Type');
    if (type !== undefined && !(PARAMETER_TYPES as readonly string[]).includes(type)) throw enumViolation('type', type, PARAMETER_TYPES);
    const tier = optStr(body, 'Tier') ?? 'Standard';
    if (!(TIERS as readonly string[]).includes(tier)) throw enumViolation('tier', tier, TIERS);
    const effectiveTier = tier === 'Advanced' || value.length > MAX_VALUE_LENGTH.Standard ? 'Advanced' : 'Standard';
    if (value.length > MAX_VALUE_LENGTH[tier === 'Standard' ? 'Standard' : 'Advanced']) {
      throw new ValidationException(tier === 'Standard'
        ? 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameters tier.'
        : 'Advanced tier parameters support a maximum parameter value of 8192 characters.');
    }
    const overwrite = optBool(body, 'Overwrite') ?? false;
    const description = optStr(body, 'Description', { max: 1024 });
    const keyId = optStr(body, 'KeyId', { min: 1, max: 256 });
    const dataType = optStr(body, 'DataType', { max: 128 }) ?? 'text';
    if (dataType !== 'text') throw new ValidationException(`The following data type is not supported: ${dataType.slice(0, 64)} (Data type names are all lowercase.)`);
    const existing = await store.get(name);
    if (existing && !overwrite) throw new ParameterAlreadyExists();
    if (!existing && type === undefined) throw new ValidationException('A parameter type is required when you create a parameter.');
    const version = (existing?.version ?? 0) + 1;
    const record: ParameterRecord = {
      name,
      type: (type ?? existing!.type) as ParameterType,
      sealed: sealer.seal(Buffer.from(value, 'utf8'), sealContext(name, version)),
      version,
      description: description ?? existing?.description,
      keyId: keyId ?? existing?.keyId,
      dataType,
      tier: effectiveTier,
      lastModifiedAt: ctx.now(),
    };
    if (!(await store.put(record))) {
      // Another write won the race for this version (or for the name, with Overwrite off).
      if (!existing && !overwrite) throw new ParameterAlreadyExists();
      throw new TooManyUpdates();
    }
    return { Version: version, Tier: effectiveTier };
  };

  /** The names a reference may mean, for a task's policy (task-access.ts). */
  const candidatesOf = (ref: string) => parseParameterRef(partition, ref)?.candidates ?? [];

  const GetParameter: Operation = async (b, body, caller) => {
    const ref = reqStr(body, 'Name', { min: 1, max: 2048 });
    await authorizeParameterRead(b, caller, 'GetParameter', [ref], candidatesOf);
    const decrypt = optBool(body, 'WithDecryption') ?? false;
    const found = await lookup(ref);
    if (!found) throw new ParameterNotFound(ref);
    return { Parameter: shape(found.record, decrypt, found.selector) };
  };

  const GetParameters: Operation = async (b, body, caller) => {
    const refs = [...new Set(optStrList(body, 'Names', { min: 1, max: 10, itemMax: 2048 }) ?? [])];
    if (refs.length === 0) throw new ValidationException("1 validation error detected: Value null at 'names' failed to satisfy constraint: Member must not be null");
    await authorizeParameterRead(b, caller, 'GetParameters', refs, candidatesOf);
    const decrypt = optBool(body, 'WithDecryption') ?? false;
    const Parameters: object[] = [];
    const InvalidParameters: string[] = [];
    for (const ref of refs) {
      const found = await lookup(ref).catch((e) => {
        if (e instanceof ParameterVersionNotFound) return undefined;
        throw e;
      });
      if (found) Parameters.push(shape(found.record, decrypt, found.selector));
      else InvalidParameters.push(ref);
    }
    return { Parameters, InvalidParameters };
  };

  return { PutParameter, GetParameter, GetParameters };
}
