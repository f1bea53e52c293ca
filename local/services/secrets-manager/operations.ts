import { randomUUID } from 'node:crypto';
import type { Partition } from '../../../shared/domain/arns';
import { InvalidParameterException as EcsInvalidParameter } from '../../../shared/domain/errors';
import type { Json } from '../../../shared/domain/fields';
import { isUserKey } from '../../../shared/auth/access-keys';
import type { Caller, Operation } from '../../../shared/aws-protocol/operation';
import { page } from '../../../shared/ecs-api/paging';
import { AccessDeniedException, ValidationException } from '../errors';
import { epochSeconds, optBool, optInt, optStr, optStrList, reqStr } from '../request';
import type { Sealer } from '../../../shared/cloud/local/sealer';
import { KeySealError } from '../../../shared/auth/key-sealer';
import {
  DecryptionFailure,
  InvalidNextTokenException, InvalidParameterException, InvalidRequestException, MARKED_FOR_DELETION,
  ResourceExistsException, ResourceNotFoundException,
} from './errors';
import { INVALID_NAME, SECRET_NAME, arnMatches, newSecretArn, parseSecretId } from './secret-arn';
import { authorizeSecretRead } from '../task-access';
import { type SecretRecord, type SecretStore, type SecretVersion, SecretWriteConflict } from './secret-store';

export const SECRETS_MANAGER_TARGET_PREFIX = 'secretsmanager.';

export const STAGES = { current: 'AWSCURRENT', previous: 'AWSPREVIOUS' } as const;

const MAX_VALUE_BYTES = 65_536;
const RECOVERY_WINDOW_DAYS = { min: 7, max: 30, default: 30 } as const;
const DAY_MS = 86_400_000;
const WRITE_ATTEMPTS = 10;

export interface SecretsManagerContext {
  store: SecretStore;
  sealer: Sealer;
  partition: Partition;
  now: () => number;
}

/** Admin calls need a user's key; a host's key only reads values (as a task execution role would). */
function requireUser(caller: Caller, operation: string): void {
  if (!isUserKey(caller.principal)) throw new AccessDeniedException(`secretsmanager:${operation}`);
}

export const sealContext = (arn: string, versionId: string) => `secretsmanager:${arn}:${versionId}`;

/** The value a request carries: SecretString, or SecretBinary (base64 in JSON); never both. */
function readValue(body: Json): { value: Buffer; kind: SecretVersion['kind'] } | undefined {
  const string = optStr(body, 'SecretString');
  const binary = optStr(body, 'SecretBinary');
  if (string !== undefined && binary !== undefined) {
    throw new InvalidParameterException("You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  const read = string !== undefined ? { value: Buffer.from(string, 'utf8'), kind: 'string' as const }
    : binary !== undefined ? { value: Buffer.from(binary, 'base64'), kind: 'binary' as const } : undefined;
  if (read && read.value.length > MAX_VALUE_BYTES) {
    throw new ValidationException(`1 validation error detected: Value at 'secret${read.kind === 'string' ? 'String' : 'Binary'}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_VALUE_BYTES}`);
  }
  return read;
}

const readToken = (body: Json) => optStr(body, 'ClientRequestToken', { min: 32, max: 64 });

/** Moves `stages` onto `versionId`; AWSCURRENT leaving a version leaves AWSPREVIOUS behind it. */
export function applyStages(versions: Record<string, SecretVersion>, versionId: string, stages: readonly string[]): Record<string, SecretVersion> {
  const out: Record<string, SecretVersion> = {};
  for (const [id, v] of Object.entries(versions)) out[id] = { ...v, stages: [...v.stages] };
  const previousCurrent = Object.keys(out).find((id) => id !== versionId && out[id].stages.includes(STAGES.current));
  // AWSPREVIOUS follows AWSCURRENT off the old version, unless the put claims AWSPREVIOUS itself.
  const demote = stages.includes(STAGES.current) && !stages.includes(STAGES.previous) && previousCurrent !== undefined;
  const taken = demote ? [...stages, STAGES.previous] : stages;
  for (const [id, v] of Object.entries(out)) {
    if (id !== versionId) v.stages = v.stages.filter((s) => !taken.includes(s));
  }
  if (demote) out[previousCurrent].stages.push(STAGES.previous);
  out[versionId].stages = [...new Set([...out[versionId].stages, ...stages])];
  // A version left without a label is deprecated; Secrets Manager drops those, and so do we at once.
  for (const [id, v] of Object.entries(out)) if (v.stages.length === 0) delete out[id];
  return out;
}

const versionsToStages = (r: SecretRecord) =>
  Object.fromEntries(Object.entries(r.versions).map(([id, v]) => [id, v.stages]));

export function secretsManagerOperations(ctx: SecretsManagerContext): Record<string, Operation> {
  const { store, sealer, partition } = ctx;

  /** The secret a SecretId names, deleted or not; one whose recovery window has passed is gone. */
  async function find(id: string): Promise<SecretRecord> {
    const ref = parseSecretId(partition, id);
    if (ref.elsewhere) throw new ResourceNotFoundException();
    for (const name of ref.names) {
      const r = await store.get(name);
      if (!r || (ref.arn && !arnMatches(r.arn, ref.arn))) continue;
      if (r.purgeAt !== undefined && r.purgeAt <= ctx.now()) {
        await store.remove(r.name);
        continue;
      }
      return r;
    }
    throw new ResourceNotFoundException();
  }

  const findLive = async (id: string) => {
    const r = await find(id);
    if (r.deletedAt !== undefined) throw new InvalidRequestException(MARKED_FOR_DELETION);
    return r;
  };

  /** Reads, changes and writes a secret, again from the read if another write came between. */
  async function update<T>(id: string, change: (r: SecretRecord) => { record?: SecretRecord; result: T }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const r = await find(id);
      const { record, result } = change(r);
      if (!record) return result;
      try {
        await store.replace(record, r.rev);
        return result;
      } catch (e) {
        if (!(e instanceof SecretWriteConflict) || attempt >= WRITE_ATTEMPTS) throw e;
      }
    }
  }

  const open = (r: SecretRecord, versionId: string): Buffer => {
    try {
      return sealer.open(r.versions[versionId].sealed, sealContext(r.arn, versionId));
    } catch (e) {
      if (e instanceof KeySealError) throw new DecryptionFailure();
      throw e;
    }
  };

  const sameValue = (r: SecretRecord, versionId: string, value: { value: Buffer; kind: string }) => {
    const v = r.versions[versionId];
    return v.kind === value.kind && open(r, versionId).equals(value.value);
  };

  const CreateSecret: Operation = async (_b, body, caller) => {
    requireUser(caller, 'CreateSecret');
    const name = reqStr(body, 'Name', { min: 1, max: 512 });
    if (!SECRET_NAME.test(name)) throw new ValidationException(INVALID_NAME);
    const token = readToken(body);
    const description = optStr(body, 'Description', { max: 2048 });
    const kmsKeyId = optStr(body, 'KmsKeyId', { max: 2048 });
    const tags = readTags(body);
    const value = readValue(body);
    const existing = await store.get(name);
    if (existing) {
      if (existing.deletedAt !== undefined) {
        throw new InvalidRequestException("You can't create this secret because a secret with this name is already scheduled for deletion.");
      }
      // A retried CreateSecret (same token, same value) gets the first answer again.
      if (token && value && existing.versions[token] && sameValue(existing, token, value)) {
        return { ARN: existing.arn, Name: name, VersionId: token };
      }
      throw new ResourceExistsException(`The operation failed because the secret ${name} already exists.`);
    }
    const now = ctx.now();
    const arn = newSecretArn(partition, name);
    const versionId = token ?? randomUUID();
    const record: SecretRecord = {
      name, arn, description, kmsKeyId, tags, createdAt: now, lastChangedAt: now, rev: 0,
      versions: value
        ? { [versionId]: { sealed: sealer.seal(value.value, sealContext(arn, versionId)), kind: value.kind, stages: [STAGES.current], createdAt: now } }
        : {},
    };
    if (!(await store.create(record))) throw new ResourceExistsException(`The operation failed because the secret ${name} already exists.`);
    return { ARN: arn, Name: name, ...(value ? { VersionId: versionId } : {}) };
  };

  const PutSecretValue: Operation = async (_b, body, caller) => {
    requireUser(caller, 'PutSecretValue');
    const id = reqStr(body, 'SecretId', { min: 1, max: 2048 });
    const token = readToken(body);
    const value = readValue(body);
    const stages = optStrList(body, 'VersionStages', { min: 1, max: 20, itemMax: 256 }) ?? [STAGES.current];
    if (!value) throw new InvalidRequestException('You must provide either SecretString or SecretBinary.');
    const versionId = token ?? randomUUID();
    return update(id, (r) => {
      if (r.deletedAt !== undefined) throw new InvalidRequestException(MARKED_FOR_DELETION);
      const answer = (rec: SecretRecord) => ({ ARN: rec.arn, Name: rec.name, VersionId: versionId, VersionStages: rec.versions[versionId]?.stages ?? stages });
      if (r.versions[versionId]) {
        if (sameValue(r, versionId, value)) return { result: answer(r) };
        throw new ResourceExistsException("You can't modify an existing version, you can only create a new version.");
      }
      const now = ctx.now();
      const withNew = { ...r.versions, [versionId]: { sealed: sealer.seal(value.value, sealContext(r.arn, versionId)), kind: value.kind, stages: [], createdAt: now } };
      const record = { ...r, versions: applyStages(withNew, versionId, stages), lastChangedAt: now };
      return { record, result: answer(record) };
    });
  };

  const GetSecretValue: Operation = async (b, body, caller) => {
    const id = reqStr(body, 'SecretId', { min: 1, max: 2048 });
    const versionId = optStr(body, 'VersionId', { min: 32, max: 64 });
    const stage = optStr(body, 'VersionStage', { min: 1, max: 256 });
    // A task or host learns nothing of a secret it may not read, not even whether it exists.
    const r = await findLive(id).catch(async (e) => {
      await authorizeSecretRead(b, caller, 'GetSecretValue', (secretId) => secretId === id);
      throw e;
    });
    await authorizeSecretRead(b, caller, 'GetSecretValue', (secretId) => arnMatches(r.arn, secretId));
    let chosen: string | undefined;
    if (versionId !== undefined) {
      if (!r.versions[versionId]) throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
      if (stage !== undefined && !r.versions[versionId].stages.includes(stage)) {
        throw new InvalidRequestException('You provided a VersionStage that is not associated to the provided VersionId.');
      }
      chosen = versionId;
    } else {
      const wanted = stage ?? STAGES.current;
      chosen = Object.keys(r.versions).find((vid) => r.versions[vid].stages.includes(wanted));
      if (!chosen) throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for staging label: ${wanted}`);
    }
    const v = r.versions[chosen];
    const plain = open(r, chosen);
    return {
      ARN: r.arn, Name: r.name, VersionId: chosen, VersionStages: v.stages, CreatedDate: epochSeconds(v.createdAt),
      ...(v.kind === 'string' ? { SecretString: plain.toString('utf8') } : { SecretBinary: plain.toString('base64') }),
    };
  };

  const describe = (r: SecretRecord) => ({
    ARN: r.arn, Name: r.name, Description: r.description, KmsKeyId: r.kmsKeyId,
    RotationEnabled: false,
    LastChangedDate: epochSeconds(r.lastChangedAt),
    DeletedDate: r.deletedAt === undefined ? undefined : epochSeconds(r.deletedAt),
    Tags: r.tags.length ? r.tags : undefined,
    CreatedDate: epochSeconds(r.createdAt),
  });

  const DescribeSecret: Operation = async (_b, body, caller) => {
    requireUser(caller, 'DescribeSecret');
    const r = await find(reqStr(body, 'SecretId', { min: 1, max: 2048 }));
    return { ...describe(r), VersionIdsToStages: versionsToStages(r) };
  };

  const ListSecrets: Operation = async (_b, body, caller) => {
    requireUser(caller, 'ListSecrets');
    const includeDeleted = optBool(body, 'IncludePlannedDeletion') ?? false;
    const maxResults = optInt(body, 'MaxResults', { min: 1, max: 100 });
    const nextToken = optStr(body, 'NextToken', { min: 1, max: 4096 });
    const order = optStr(body, 'SortOrder');
    if (order !== undefined && order !== 'asc' && order !== 'desc') {
      throw new ValidationException(`1 validation error detected: Value '${order.slice(0, 64)}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]`);
    }
    const match = readFilters(body);
    const now = ctx.now();
    const all = (await store.list())
      .filter((r) => (r.purgeAt === undefined || r.purgeAt > now) && (includeDeleted || r.deletedAt === undefined) && match(r))
      .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
    if (order === 'desc') all.reverse();
    let served: { items: SecretRecord[]; nextToken?: string };
    try {
      served = page(all, { maxResults, nextToken }, (r) => r.name);
    } catch (e) {
      if (e instanceof EcsInvalidParameter) throw new InvalidNextTokenException();
      throw e;
    }
    return {
      SecretList: served.items.map((r) => ({ ...describe(r), SecretVersionsToStages: versionsToStages(r) })),
      NextToken: served.nextToken,
    };
  };

  const DeleteSecret: Operation = async (_b, body, caller) => {
    requireUser(caller, 'DeleteSecret');
    const id = reqStr(body, 'SecretId', { min: 1, max: 2048 });
    const days = optInt(body, 'RecoveryWindowInDays');
    const force = optBool(body, 'ForceDeleteWithoutRecovery') ?? false;
    if (force && days !== undefined) {
      throw new InvalidParameterException("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    if (days !== undefined && (days < RECOVERY_WINDOW_DAYS.min || days > RECOVERY_WINDOW_DAYS.max)) {
      throw new InvalidParameterException('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const now = ctx.now();
    const r0 = await find(id);
    if (r0.deletedAt !== undefined && !force) {
      throw new InvalidRequestException("You tried to perform the operation on a secret that's currently marked deleted.");
    }
    if (force) {
      await store.remove(r0.name);
      return { ARN: r0.arn, Name: r0.name, DeletionDate: epochSeconds(now) };
    }
    const purgeAt = now + (days ?? RECOVERY_WINDOW_DAYS.default) * DAY_MS;
    return update(id, (r) => {
      if (r.deletedAt !== undefined) throw new InvalidRequestException("You tried to perform the operation on a secret that's currently marked deleted.");
      return { record: { ...r, deletedAt: now, purgeAt }, result: { ARN: r.arn, Name: r.name, DeletionDate: epochSeconds(purgeAt) } };
    });
  };

  return { CreateSecret, PutSecretValue, GetSecretValue, DescribeSecret, ListSecrets, DeleteSecret };
}

function readTags(body: Json): { Key: string; Value: string }[] {
  const v = body.Tags;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'object' || t === null || typeof t.Key !== 'string' || (t.Value !== undefined && typeof t.Value !== 'string'))) {
    throw new InvalidParameterException('Tags must be a list of {Key, Value} strings.');
  }
  return v.map((t) => ({ Key: t.Key, Value: t.Value ?? '' }));
}

/** ListSecrets filters by name, description or either (`all`), each value a prefix; `!` negates. */
function readFilters(body: Json): (r: SecretRecord) => boolean {
  const v = body.Filters;
  if (v === undefined || v === null) return () => true;
  if (!Array.isArray(v) || v.length > 10) throw new InvalidParameterException('Filters must be a list of at most 10 filters.');
  const tests = v.map((f) => {
    const key = f?.Key;
    const values: unknown = f?.Values;
    if (!['name', 'description', 'all'].includes(key) || !Array.isArray(values) || values.some((x) => typeof x !== 'string')) {
      throw new InvalidParameterException(`Invalid filter: this local Secrets Manager filters on name, description and all, got '${String(key)}'.`);
    }
    const fields = (r: SecretRecord) => (key === 'name' ? [r.name] : key === 'description' ? [r.description ?? ''] : [r.name, r.description ?? '']);
    return (r: SecretRecord) => (values as string[]).some((value) => {
      const negate = value.startsWith('!');
      const prefix = (negate ? value.slice(1) : value).toLowerCase();
      const hit = fields(r).some((f) => f.toLowerCase().startsWith(prefix));
      return negate ? !hit : hit;
    });
  });
  return (r) => tests.every((t) => t(r));
}
