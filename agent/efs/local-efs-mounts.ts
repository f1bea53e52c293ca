import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EfsVolumeConfiguration } from '../../shared/domain/volumes';
import { type EfsMounts, efsMountFailure } from './efs-mounts';

/**
 * The local stand-in for EFS: a directory of the local mode per file system id (made the first
 * time a task names it, as if the file system had been created), shared by every task and host
 * that names the same id, as EFS is. rootDirectory is a directory within it and, as on EFS, must
 * exist; an access point is a directory of its own, made on first use (as an access point with
 * creation info makes its path). Nothing is mounted, so nothing is unmounted.
 */
export class LocalEfsMounts implements EfsMounts {
  constructor(private readonly root: string) {}

  private fileSystem(efs: EfsVolumeConfiguration): string {
    return join(this.root, efs.fileSystemId);
  }

  pathOf(_taskId: string, _volumeName: string, efs: EfsVolumeConfiguration): string {
    const accessPoint = efs.authorizationConfig?.accessPointId;
    if (accessPoint) return join(this.root, 'access-points', accessPoint);
    return join(this.fileSystem(efs), efs.rootDirectory ?? '').replace(/\/+$/, '');
  }

  async mount(taskId: string, volumeName: string, efs: EfsVolumeConfiguration): Promise<void> {
    mkdirSync(this.fileSystem(efs), { recursive: true });
    const path = this.pathOf(taskId, volumeName, efs);
    if (efs.authorizationConfig?.accessPointId) mkdirSync(path, { recursive: true });
    if (!existsSync(path) || !statSync(path).isDirectory()) {
      throw efsMountFailure(`mount.nfs4: mounting ${efs.fileSystemId}:${efs.rootDirectory} failed, reason given by server: No such file or directory`);
    }
  }

  async unmount(): Promise<void> {}

  async sweep(): Promise<number> {
    return 0;
  }
}
