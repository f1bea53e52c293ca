/**
 * A container secret's `valueFrom`, in the forms ECS accepts:
 * - a Secrets Manager secret ARN, full or partial, optionally followed by
 *   `:json-key:version-stage:version-id` (any of them empty);
 * - an SSM parameter ARN, or a parameter's name.
 * Pure: the agent resolves what this names, RegisterTaskDefinition checks it parses.
 */
export type SecretRef =
  | { source: 'secretsmanager'; secretId: string; jsonKey?: string; versionStage?: string; versionId?: string }
  | { source: 'ssm'; name: string };

export class InvalidValueFromError extends Error {
  constructor(readonly valueFrom: string, reason: string) {
    super(`invalid valueFrom '${valueFrom.slice(0, 2048)}': ${reason}`);
    this.name = 'InvalidValueFromError';
  }
}

const PARTITION = /^aws(-[a-z]+)*$/;
const REGION = /^[a-z0-9-]+$/;
const ACCOUNT = /^\d{12}$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@!-]{1,512}$/;
/** Parameter names: letters, digits and `._-`, in `/`-separated levels. */
const PARAMETER_NAME = /^[a-zA-Z0-9_.\-/]{1,2048}$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;

export function parseValueFrom(valueFrom: string): SecretRef {
  const parts = valueFrom.split(':');
  if (parts[0] !== 'arn') {
    if (!PARAMETER_NAME.test(valueFrom)) {
      throw new InvalidValueFromError(valueFrom, 'neither an ARN nor an SSM parameter name');
    }
    return { source: 'ssm', name: valueFrom };
  }
  const [, partition, service, region, account, resource] = parts;
  if (parts.length < 6 || !PARTITION.test(partition) || !REGION.test(region) || !ACCOUNT.test(account)) {
    throw new InvalidValueFromError(valueFrom, 'not a well-formed ARN');
  }
  if (service === 'ssm') {
    const path = parts.slice(5).join(':');
    const name = /^parameter(\/.+)$/.exec(path)?.[1];
    if (!name || !PARAMETER_NAME.test(name)) throw new InvalidValueFromError(valueFrom, 'not an SSM parameter ARN');
    return { source: 'ssm', name: valueFrom };
  }
  if (service === 'secretsmanager') {
    if (resource !== 'secret' || parts.length < 7 || parts.length > 10 || !SECRET_NAME.test(parts[6])) {
      throw new InvalidValueFromError(valueFrom, 'a Secrets Manager ARN is arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME[:json-key:version-stage:version-id]');
    }
    const [jsonKey, versionStage, versionId] = parts.slice(7).map((s) => s || undefined);
    if (versionId !== undefined && !VERSION_ID.test(versionId)) throw new InvalidValueFromError(valueFrom, 'the version id is not one');
    return { source: 'secretsmanager', secretId: parts.slice(0, 7).join(':'), jsonKey, versionStage, versionId };
  }
  throw new InvalidValueFromError(valueFrom, `secrets come from Secrets Manager or SSM Parameter Store, not ${service || '(no service)'}`);
}
