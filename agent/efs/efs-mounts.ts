import type { EfsVolumeConfiguration } from '../../shared/domain/volumes';

/**
 * How a host gives its tasks EFS volumes: it mounts the file system (its rootDirectory, or an
 * access point) on a directory of the host, and the task's containers bind that directory, as
 * the ECS agent does on EC2. On AWS the mount helper does it (host-efs-mounts.ts); locally a
 * directory of the local mode stands in for each file system (local-efs-mounts.ts).
 */
export interface EfsMounts {
  /** The host directory the task's containers bind for this volume (known before it is mounted). */
  pathOf(taskId: string, volumeName: string, efs: EfsVolumeConfiguration): string;
  /** Mounts it for the task; throws an Error whose message is ECS's reason (ResourceInitializationError). */
  mount(taskId: string, volumeName: string, efs: EfsVolumeConfiguration): Promise<void>;
  /** Undoes mount once the task's containers are gone; nothing when it was never mounted. */
  unmount(taskId: string, volumeName: string): Promise<void>;
  /** Unmounts what tasks not kept left (a previous agent process's); returns how many. */
  sweep(keep: (taskId: string) => boolean): Promise<number>;
}

/** ECS's words for an EFS volume a task cannot have; `detail` is the mount's own error. */
export const efsMountFailure = (detail: string) =>
  new Error(`ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: ${detail.trim()}`);
