import { InvalidParameterException } from './errors';
import { type Json, optBool, optObject, optObjectList, optString, reqString } from './fields';
import { dropUndefined } from './task-definition';

/**
 * What UpdateCluster, UpdateClusterSettings and CreateCluster take besides a name: the cluster's
 * settings (containerInsights), its execute-command configuration, and Service Connect defaults.
 * Each is read as ECS reads it; what Berth cannot honour is refused with ECS's error type.
 */

export interface ClusterSetting {
  name: 'containerInsights';
  value: string;
}

export const CONTAINER_INSIGHTS_VALUES = ['enabled', 'disabled', 'enhanced'] as const;

export interface ExecuteCommandConfiguration {
  kmsKeyId?: string;
  logging?: 'NONE' | 'DEFAULT' | 'OVERRIDE';
  logConfiguration?: {
    cloudWatchLogGroupName?: string;
    cloudWatchEncryptionEnabled?: boolean;
    s3BucketName?: string;
    s3EncryptionEnabled?: boolean;
    s3KeyPrefix?: string;
  };
}

export interface ClusterConfiguration {
  executeCommandConfiguration?: ExecuteCommandConfiguration;
}

const LOGGING = ['NONE', 'DEFAULT', 'OVERRIDE'] as const;

export function readClusterSettings(body: Json, key = 'settings'): ClusterSetting[] | undefined {
  return optObjectList(body, key, (x, path) => {
    const name = reqString(x, 'name', `${path}.name`);
    if (name !== 'containerInsights') {
      throw new InvalidParameterException(`Invalid cluster setting name '${name}'. The only supported value is containerInsights.`);
    }
    const value = reqString(x, 'value', `${path}.value`);
    if (!(CONTAINER_INSIGHTS_VALUES as readonly string[]).includes(value)) {
      throw new InvalidParameterException(`Invalid value '${value}' for containerInsights. Valid values are enabled, disabled and enhanced.`);
    }
    return { name, value };
  }, key, 10);
}

/** A later setting of one name replaces an earlier one, as ECS merges them. */
export function mergeClusterSettings(existing: readonly ClusterSetting[], changed: readonly ClusterSetting[]): ClusterSetting[] {
  const byName = new Map(existing.map((s) => [s.name, s]));
  for (const s of changed) byName.set(s.name, s);
  return [...byName.values()];
}

export function readClusterConfiguration(body: Json): ClusterConfiguration | undefined {
  const c = optObject(body, 'configuration');
  if (!c) return undefined;
  if (c.managedStorageConfiguration !== undefined && c.managedStorageConfiguration !== null) {
    throw new InvalidParameterException(
      'managedStorageConfiguration is not supported: Berth cannot encrypt Fargate storage with a customer managed KMS key.',
    );
  }
  const e = optObject(c, 'executeCommandConfiguration', 'configuration.executeCommandConfiguration');
  if (!e) return {};
  const at = 'configuration.executeCommandConfiguration';
  const logging = optString(e, 'logging', `${at}.logging`);
  if (logging !== undefined && !(LOGGING as readonly string[]).includes(logging)) {
    throw new InvalidParameterException(`Invalid value '${logging}' for logging. Valid values are NONE, DEFAULT and OVERRIDE.`);
  }
  const l = optObject(e, 'logConfiguration', `${at}.logConfiguration`);
  if (logging === 'OVERRIDE' && !l) {
    throw new InvalidParameterException('logConfiguration must be specified when logging is set to OVERRIDE.');
  }
  if (l && logging !== 'OVERRIDE') {
    throw new InvalidParameterException('logConfiguration can only be specified when logging is set to OVERRIDE.');
  }
  const logAt = `${at}.logConfiguration`;
  return {
    executeCommandConfiguration: dropUndefined({
      kmsKeyId: optString(e, 'kmsKeyId', `${at}.kmsKeyId`, 2048),
      logging: logging as ExecuteCommandConfiguration['logging'],
      logConfiguration: l && dropUndefined({
        cloudWatchLogGroupName: optString(l, 'cloudWatchLogGroupName', `${logAt}.cloudWatchLogGroupName`, 512),
        cloudWatchEncryptionEnabled: optBool(l, 'cloudWatchEncryptionEnabled', `${logAt}.cloudWatchEncryptionEnabled`),
        s3BucketName: optString(l, 's3BucketName', `${logAt}.s3BucketName`, 63),
        s3EncryptionEnabled: optBool(l, 's3EncryptionEnabled', `${logAt}.s3EncryptionEnabled`),
        s3KeyPrefix: optString(l, 's3KeyPrefix', `${logAt}.s3KeyPrefix`, 1024),
      }),
    }),
  };
}

/**
 * The namespace a cluster's serviceConnectDefaults names (a name or an ARN), '' to remove the
 * default, undefined when the request has none.
 */
export function readServiceConnectDefaults(body: Json): string | undefined {
  const d = optObject(body, 'serviceConnectDefaults');
  if (!d) return undefined;
  const namespace = optString(d, 'namespace', 'serviceConnectDefaults.namespace', 1024);
  if (namespace === undefined) throw new InvalidParameterException('serviceConnectDefaults.namespace is required.');
  if (!namespace.startsWith('arn:') && /[-~<>/]/.test(namespace)) {
    throw new InvalidParameterException('serviceConnectDefaults.namespace can\'t include hyphens (-), tilde (~), greater than (>), less than (<), or slash (/).');
  }
  return namespace;
}

