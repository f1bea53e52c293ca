import { ClientException } from './errors';
import { type Json, oneOf, optBool, optInt, optObject, optObjectList, optString, optStringMap, reqString } from './fields';

/**
 * A task's volumes and its containers' mounts, as ECS takes them, with Fargate's rules: storage a
 * task gets is its own and goes with it; a path on the host is the operator's to allow.
 */

/** ECS's rule for volume names: up to 255 letters, numbers, hyphens and underscores. */
const VOLUME_NAME = /^[A-Za-z0-9_-]{1,255}$/;
export const VOLUME_SCOPES = ['task', 'shared'] as const;
/** The one driver every engine has; a plugin would have to be installed on every host first. */
export const VOLUME_DRIVERS = ['local'] as const;
/** Fargate's bounds for ephemeralStorage.sizeInGiB (20 GiB is what a task gets without asking). */
export const EPHEMERAL_STORAGE_GIB = { min: 21, max: 200 } as const;

export interface DockerVolumeConfiguration {
  scope: (typeof VOLUME_SCOPES)[number];
  autoprovision?: boolean;
  driver: (typeof VOLUME_DRIVERS)[number];
  driverOpts?: Record<string, string>;
  labels?: Record<string, string>;
}

/** ECS's EFSVolumeConfiguration, as read: the directory and how the host reaches it. */
export interface EfsVolumeConfiguration {
  fileSystemId: string;
  /** Within the file system; '/' (its root) unless given. */
  rootDirectory?: string;
  transitEncryption?: (typeof EFS_SWITCH)[number];
  transitEncryptionPort?: number;
  authorizationConfig?: { accessPointId?: string; iam?: (typeof EFS_SWITCH)[number] };
}

export const EFS_SWITCH = ['ENABLED', 'DISABLED'] as const;
/** EFS's ids: they name a directory of the local stand-in too, so nothing else may pass. */
const EFS_FILE_SYSTEM_ID = /^fs-[0-9a-f]{8,40}$/;
const EFS_ACCESS_POINT_ID = /^fsap-[0-9a-f]{8,40}$/;

export interface TaskVolume {
  name: string;
  /** `{}` (or no host at all) is storage of the task's own; a sourcePath is a host directory. */
  host?: { sourcePath?: string };
  dockerVolumeConfiguration?: DockerVolumeConfiguration;
  /** An EFS file system (or, locally, the directory that stands in for it), mounted through the host. */
  efsVolumeConfiguration?: EfsVolumeConfiguration;
}

export interface MountPoint {
  sourceVolume: string;
  containerPath: string;
  readOnly: boolean;
}

export interface VolumeFrom {
  sourceContainer: string;
  readOnly: boolean;
}

export interface VolumeOptions {
  /** The operator's choice (BERTH_ALLOW_HOST_PATHS): off, as on Fargate, unless set. */
  allowHostPaths?: boolean;
  /**
   * Whether this Berth mounts EFS: its hosts on AWS do; the local mode refuses EFS volumes unless
   * its operator stands a directory in for each file system (BERTH_LOCAL_EFS).
   */
  efsVolumes?: boolean;
}

const absolute = (path: string, field: string): string => {
  if (!path.startsWith('/')) throw new ClientException(`Invalid parameter '${field}': must be an absolute path.`);
  return path;
};


/**
 * The local driver mounts what its options name: a bind of a host directory or a device is a
 * host path by another route, allowed only where host paths are; tmpfs and network filesystems
 * are not.
 */
function refuseHostPathOptions(opts: Record<string, string> | undefined, field: string): void {
  if (!opts) return;
  const mountOptions = (opts.o ?? '').split(',').map((x) => x.trim());
  const binds = ['bind', 'rbind'].some((b) => mountOptions.includes(b)) || opts.type === 'none' || opts.type === 'bind';
  if (binds || opts.device?.startsWith('/')) {
    throw new ClientException(
      `Invalid parameter '${field}': mounts a path of the host, which Berth refuses as Fargate does unless the operator allows host paths (BERTH_ALLOW_HOST_PATHS).`,
    );
  }
}

function readDockerVolume(d: Json, field: string, allowHostPaths: boolean): DockerVolumeConfiguration {
  const scope = oneOf(optString(d, 'scope', `${field}.scope`) ?? 'task', VOLUME_SCOPES, `${field}.scope`);
  const autoprovision = optBool(d, 'autoprovision', `${field}.autoprovision`);
  if (autoprovision && scope !== 'shared') {
    throw new ClientException(`Invalid parameter '${field}.autoprovision': only a volume of scope 'shared' can be autoprovisioned.`);
  }
  const driver = optString(d, 'driver', `${field}.driver`);
  if (driver !== undefined && !(VOLUME_DRIVERS as readonly string[]).includes(driver)) {
    throw new ClientException(`Invalid parameter '${field}.driver': Berth's hosts have the 'local' driver only, not '${driver}'.`);
  }
  const driverOpts = optStringMap(d, 'driverOpts', `${field}.driverOpts`);
  if (!allowHostPaths) refuseHostPathOptions(driverOpts, `${field}.driverOpts`);
  const out: DockerVolumeConfiguration = { scope, driver: 'local' };
  if (autoprovision !== undefined) out.autoprovision = autoprovision;
  if (driverOpts) out.driverOpts = driverOpts;
  const labels = optStringMap(d, 'labels', `${field}.labels`);
  if (labels) out.labels = labels;
  return out;
}

/**
 * An EFS volume with ECS's rules: an access point or IAM authorization needs transit encryption,
 * and an access point fixes the root directory itself. IAM authorization with the task role is
 * refused: the host's mount helper would authorize with the host's role instead.
 */
function readEfsVolume(e: Json, field: string): EfsVolumeConfiguration {
  const fileSystemId = reqString(e, 'fileSystemId', `${field}.fileSystemId`);
  if (!EFS_FILE_SYSTEM_ID.test(fileSystemId)) {
    throw new ClientException(`Invalid parameter '${field}.fileSystemId': '${fileSystemId}' is not an EFS file system id (fs- and 8 to 40 hexadecimal digits).`);
  }
  const out: EfsVolumeConfiguration = { fileSystemId };
  const rootDirectory = optString(e, 'rootDirectory', `${field}.rootDirectory`, 4096);
  if (rootDirectory) {
    if (rootDirectory.split('/').includes('..')) {
      throw new ClientException(`Invalid parameter '${field}.rootDirectory': may not climb out of the file system ('..').`);
    }
    out.rootDirectory = rootDirectory;
  }
  const transitEncryption = optString(e, 'transitEncryption', `${field}.transitEncryption`);
  if (transitEncryption !== undefined) out.transitEncryption = oneOf(transitEncryption, EFS_SWITCH, `${field}.transitEncryption`);
  const port = optInt(e, 'transitEncryptionPort', `${field}.transitEncryptionPort`, { min: 0, max: 65_535 });
  if (port !== undefined) out.transitEncryptionPort = port;
  const encrypted = out.transitEncryption === 'ENABLED';
  if (port !== undefined && !encrypted) {
    throw new ClientException(`Invalid parameter '${field}.transitEncryptionPort': applies only when transitEncryption is ENABLED.`);
  }
  const auth = optObject(e, 'authorizationConfig', `${field}.authorizationConfig`);
  if (auth) {
    const accessPointId = optString(auth, 'accessPointId', `${field}.authorizationConfig.accessPointId`);
    const iamValue = optString(auth, 'iam', `${field}.authorizationConfig.iam`);
    const iam = iamValue === undefined ? undefined : oneOf(iamValue, EFS_SWITCH, `${field}.authorizationConfig.iam`);
    if (accessPointId !== undefined) {
      if (!EFS_ACCESS_POINT_ID.test(accessPointId)) {
        throw new ClientException(`Invalid parameter '${field}.authorizationConfig.accessPointId': '${accessPointId}' is not an EFS access point id (fsap- and 8 to 40 hexadecimal digits).`);
      }
      if (!encrypted) {
        throw new ClientException(`Invalid parameter '${field}.authorizationConfig.accessPointId': transit encryption must be enabled when an access point is used.`);
      }
      if ((out.rootDirectory ?? '/') !== '/') {
        throw new ClientException(`Invalid parameter '${field}.rootDirectory': must be omitted or '/' when an access point is used; the access point sets the path.`);
      }
    }
    if (iam === 'ENABLED') {
      if (!encrypted) {
        throw new ClientException(`Invalid parameter '${field}.authorizationConfig.iam': transit encryption must be enabled when IAM authorization is used.`);
      }
      throw new ClientException(
        `Invalid parameter '${field}.authorizationConfig.iam': Berth cannot honour it (the host mounts EFS with its own role, not the task role); ` +
        'grant access through the file system policy or an access point instead.',
      );
    }
    if (accessPointId !== undefined || iam !== undefined) out.authorizationConfig = { ...(accessPointId && { accessPointId }), ...(iam && { iam }) };
  }
  return out;
}

/** The task's `volumes`; refused where Berth cannot give what a volume asks for. */
export function readVolumes(body: Json, o: VolumeOptions = {}): TaskVolume[] | undefined {
  const names = new Set<string>();
  return optObjectList(body, 'volumes', (v, field) => {
    const name = reqString(v, 'name', `${field}.name`, 255);
    if (!VOLUME_NAME.test(name)) {
      throw new ClientException(`Invalid parameter '${field}.name': up to 255 letters, numbers, hyphens and underscores.`);
    }
    if (names.has(name)) throw new ClientException(`Invalid parameter 'volumes': duplicate volume name '${name}'.`);
    names.add(name);
    const host = optObject(v, 'host', `${field}.host`);
    const docker = optObject(v, 'dockerVolumeConfiguration', `${field}.dockerVolumeConfiguration`);
    const efs = optObject(v, 'efsVolumeConfiguration', `${field}.efsVolumeConfiguration`);
    if ([host, docker, efs].filter(Boolean).length > 1) {
      throw new ClientException(`Invalid parameter '${field}': give one of host, dockerVolumeConfiguration and efsVolumeConfiguration, not more.`);
    }
    if (efs && o.efsVolumes === false) {
      throw new ClientException(
        `Invalid parameter '${field}.efsVolumeConfiguration': this local Berth has no EFS (Berth mounts EFS on its AWS hosts); ` +
        'set BERTH_LOCAL_EFS=1 to have a directory of the local mode stand in for each file system id.',
      );
    }
    if (efs) return { name, efsVolumeConfiguration: readEfsVolume(efs, `${field}.efsVolumeConfiguration`) };
    if (docker) return { name, dockerVolumeConfiguration: readDockerVolume(docker, `${field}.dockerVolumeConfiguration`, o.allowHostPaths ?? false) };
    const sourcePath = host && optString(host, 'sourcePath', `${field}.host.sourcePath`, 4096);
    if (!sourcePath) return host ? { name, host: {} } : { name };
    if (!o.allowHostPaths) {
      throw new ClientException(
        `Invalid parameter '${field}.host.sourcePath': Berth runs tasks as Fargate does, which does not support host paths; ` +
        'use a volume without a sourcePath (storage of the task\'s own), or ask the operator to allow host paths (BERTH_ALLOW_HOST_PATHS).',
      );
    }
    return { name, host: { sourcePath: absolute(sourcePath, `${field}.host.sourcePath`) } };
  }, 'volumes');
}

export function readMountPoints(c: Json, path: string): MountPoint[] | undefined {
  return optObjectList(c, 'mountPoints', (m, field) => ({
    sourceVolume: reqString(m, 'sourceVolume', `${field}.sourceVolume`, 255),
    containerPath: absolute(reqString(m, 'containerPath', `${field}.containerPath`, 4096), `${field}.containerPath`),
    readOnly: optBool(m, 'readOnly', `${field}.readOnly`) ?? false,
  }), `${path}.mountPoints`);
}

export function readVolumesFrom(c: Json, path: string): VolumeFrom[] | undefined {
  return optObjectList(c, 'volumesFrom', (m, field) => ({
    sourceContainer: reqString(m, 'sourceContainer', `${field}.sourceContainer`, 255),
    readOnly: optBool(m, 'readOnly', `${field}.readOnly`) ?? false,
  }), `${path}.volumesFrom`);
}

export function readEphemeralStorage(body: Json): { sizeInGiB: number } | undefined {
  const e = optObject(body, 'ephemeralStorage');
  if (!e) return undefined;
  const sizeInGiB = optInt(e, 'sizeInGiB', 'ephemeralStorage.sizeInGiB', EPHEMERAL_STORAGE_GIB);
  if (sizeInGiB === undefined) throw new ClientException("Invalid parameter 'ephemeralStorage.sizeInGiB': is required.");
  return { sizeInGiB };
}

interface Mounting {
  name: string;
  mountPoints?: readonly MountPoint[];
  volumesFrom?: readonly VolumeFrom[];
}

/** Every mount names a volume of the task, and every volumesFrom another of its containers, without a cycle. */
export function checkMounts(containers: readonly Mounting[], volumes: readonly TaskVolume[] = []): void {
  const volumeNames = new Set(volumes.map((v) => v.name));
  const byName = new Map(containers.map((c) => [c.name, c]));
  for (const c of containers) {
    const paths = new Set<string>();
    for (const m of c.mountPoints ?? []) {
      if (!volumeNames.has(m.sourceVolume)) {
        throw new ClientException(`Invalid parameter 'mountPoints' of container '${c.name}': unknown volume '${m.sourceVolume}'.`);
      }
      if (paths.has(m.containerPath)) {
        throw new ClientException(`Invalid parameter 'mountPoints' of container '${c.name}': '${m.containerPath}' is mounted twice.`);
      }
      paths.add(m.containerPath);
    }
    for (const f of c.volumesFrom ?? []) {
      if (!byName.has(f.sourceContainer) || f.sourceContainer === c.name) {
        throw new ClientException(`Invalid parameter 'volumesFrom' of container '${c.name}': unknown container '${f.sourceContainer}'.`);
      }
    }
  }
  if (volumesFromOrder(containers).length < containers.length) {
    throw new ClientException("Invalid parameter 'volumesFrom': the containers take volumes from each other in a cycle.");
  }
}

/**
 * The containers in an order where each comes after those it takes volumes from (the engine
 * needs a container to exist before another can name it); those in a cycle are left out.
 */
export function volumesFromOrder<T extends Mounting>(containers: readonly T[]): T[] {
  const out: T[] = [];
  const placed = new Set<string>();
  for (let progress = true; progress && out.length < containers.length;) {
    progress = false;
    for (const c of containers) {
      if (placed.has(c.name) || !(c.volumesFrom ?? []).every((f) => placed.has(f.sourceContainer))) continue;
      out.push(c);
      placed.add(c.name);
      progress = true;
    }
  }
  return out;
}

/** The volumes that live and die with one task: all but the shared ones, EFS and the host's directories. */
export const isTaskScoped = (v: TaskVolume): boolean =>
  v.efsVolumeConfiguration ? false : v.dockerVolumeConfiguration ? v.dockerVolumeConfiguration.scope === 'task' : !v.host?.sourcePath;
