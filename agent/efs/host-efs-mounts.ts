import { execFile } from 'node:child_process';
import { mkdir, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { EfsVolumeConfiguration } from '../../shared/domain/volumes';
import { type EfsMounts, efsMountFailure } from './efs-mounts';

/** Runs a command of the host; rejects with its stderr. */
export type RunCommand = (file: string, args: readonly string[], timeoutMs: number) => Promise<void>;

const runCommand: RunCommand = (file, args, timeoutMs) => new Promise((resolve, reject) => {
  execFile(file, [...args], { timeout: timeoutMs }, (error, _stdout, stderr) => {
    if (error) reject(new Error(String(stderr || error.message)));
    else resolve();
  });
});

const rmdirQuiet = (path: string) => rmdir(path).catch(() => {});

/** The ECS agent waits this long for the mount helper. */
const MOUNT_TIMEOUT_MS = 120_000;
const UMOUNT_TIMEOUT_MS = 30_000;

/** The mount helper's options for a volume: TLS (stunnel) when asked, on its port, through its access point. */
export function efsMountOptions(efs: EfsVolumeConfiguration): string[] {
  const options: string[] = [];
  if (efs.transitEncryption === 'ENABLED') options.push('tls');
  if (efs.transitEncryptionPort !== undefined) options.push(`tlsport=${efs.transitEncryptionPort}`);
  if (efs.authorizationConfig?.accessPointId) options.push(`accesspoint=${efs.authorizationConfig.accessPointId}`);
  return options;
}

/**
 * EFS on an EC2 host: Amazon's mount helper (amazon-efs-utils, which the hosts' user data
 * installs) mounts each task's volume on a directory of its own, /var/lib/berth/efs/<task>/<volume>,
 * with the host's role and in the host's network (a task's network has no route to the mount
 * target of its own), and the task's containers bind it. The file system's security group must
 * let the hosts' group in on 2049.
 */
export class HostEfsMounts implements EfsMounts {
  constructor(private readonly root = '/var/lib/berth/efs', private readonly run: RunCommand = runCommand) {}

  pathOf(taskId: string, volumeName: string): string {
    return join(this.root, taskId, volumeName);
  }

  async mount(taskId: string, volumeName: string, efs: EfsVolumeConfiguration): Promise<void> {
    const path = this.pathOf(taskId, volumeName);
    await mkdir(path, { recursive: true });
    const options = efsMountOptions(efs);
    const args = ['-t', 'efs', ...(options.length ? ['-o', options.join(',')] : []), `${efs.fileSystemId}:${efs.rootDirectory ?? '/'}`, path];
    try {
      await this.run('mount', args, MOUNT_TIMEOUT_MS);
    } catch (e) {
      await rmdirQuiet(path);
      throw efsMountFailure(e instanceof Error ? e.message : String(e));
    }
  }

  async unmount(taskId: string, volumeName: string): Promise<void> {
    const path = this.pathOf(taskId, volumeName);
    // Lazy: a process of the task's that the engine has not reaped yet must not keep the mount.
    await this.run('umount', ['-l', path], UMOUNT_TIMEOUT_MS).catch(() => {});
    // Only an empty directory goes: one still mounted is never emptied by this.
    await rmdirQuiet(path);
    await rmdirQuiet(join(this.root, taskId));
  }

  async sweep(keep: (taskId: string) => boolean): Promise<number> {
    const tasks = await readdir(this.root).catch(() => [] as string[]);
    let n = 0;
    for (const taskId of tasks.filter((t) => !keep(t))) {
      for (const volume of await readdir(join(this.root, taskId)).catch(() => [] as string[])) {
        await this.unmount(taskId, volume);
        n++;
      }
      await rmdirQuiet(join(this.root, taskId));
    }
    return n;
  }
}

