import type { ContainerDefinition } from '../shared/domain/task-definition';
import { type TaskVolume, isTaskScoped } from '../shared/domain/volumes';
import type { EfsMounts } from './efs/efs-mounts';
import { CannotCreateContainerError, type ContainerRuntime, type ContainerSpec, LABELS, containerName, taskVolumeName } from './runtime/container-runtime';

export interface TaskVolumesOptions {
  runtime: ContainerRuntime;
  taskId: string;
  cluster: string;
  hostId: string;
  volumes?: readonly TaskVolume[];
  /** How this host mounts EFS volumes; a task with one fails to start without it. */
  efs?: EfsMounts;
}

/**
 * A task's volumes in the engine. Those of the task's own (a volume with no host, `host: {}`, or
 * dockerVolumeConfiguration of scope task) are made for it and removed with it, as Fargate's
 * task storage is; they carry the task's and the host's labels, so an agent that restarts, or a
 * host that is cleared, finds and removes those of tasks that are gone. Shared ones outlive it.
 */
export class TaskVolumes {
  constructor(private readonly o: TaskVolumesOptions) {}

  private get volumes(): readonly TaskVolume[] {
    return this.o.volumes ?? [];
  }

  /** What the engine mounts for the volume: a task volume's own name, a shared volume's name, or a host path (EFS's included). */
  private source(v: TaskVolume): string {
    if (v.efsVolumeConfiguration) return this.o.efs?.pathOf(this.o.taskId, v.name, v.efsVolumeConfiguration) ?? v.name;
    if (isTaskScoped(v)) return taskVolumeName(this.o.taskId, v.name);
    return v.host?.sourcePath ?? v.name;
  }

  /** The mounts and volumesFrom of one container, in the engine's terms. */
  mountsOf(def: ContainerDefinition): Pick<ContainerSpec, 'mounts' | 'volumesFrom' | 'readonlyRootfs'> {
    const byName = new Map(this.volumes.map((v) => [v.name, v]));
    return {
      mounts: (def.mountPoints ?? []).map((m) => ({ source: this.source(byName.get(m.sourceVolume)!), target: m.containerPath, readOnly: m.readOnly })),
      volumesFrom: (def.volumesFrom ?? []).map((f) => ({ container: containerName(this.o.taskId, f.sourceContainer), readOnly: f.readOnly })),
      readonlyRootfs: def.readonlyRootFilesystem,
    };
  }

  /** Makes the task's own volumes, and the shared ones it may autoprovision; a shared one it may not must exist. EFS is mounted. */
  async prepare(): Promise<void> {
    for (const v of this.volumes) {
      const docker = v.dockerVolumeConfiguration;
      if (v.efsVolumeConfiguration) {
        if (!this.o.efs) throw new Error('ResourceInitializationError: this host cannot mount EFS volumes');
        await this.o.efs.mount(this.o.taskId, v.name, v.efsVolumeConfiguration);
      } else if (isTaskScoped(v)) {
        await this.o.runtime.createVolume({
          name: this.source(v),
          driverOpts: docker?.driverOpts,
          labels: { ...docker?.labels, ...TaskVolumes.labels(this.o) },
        });
      } else if (docker && !(await this.o.runtime.hasVolume(v.name))) {
        if (!docker.autoprovision) {
          throw new CannotCreateContainerError(v.name, 'the shared volume does not exist and autoprovision is false');
        }
        await this.o.runtime.createVolume({ name: v.name, driverOpts: docker.driverOpts, labels: docker.labels ?? {} });
      }
    }
  }

  /** Removes the task's own volumes and unmounts its EFS ones; the containers that mounted them must be gone first. */
  async remove(): Promise<void> {
    await Promise.all([
      ...this.volumes.filter(isTaskScoped).map((v) => this.o.runtime.removeVolume(this.source(v))),
      ...this.volumes.filter((v) => v.efsVolumeConfiguration && this.o.efs).map((v) => this.o.efs!.unmount(this.o.taskId, v.name)),
    ]);
  }

  /** What a task's own volume carries: whose it is, so it is never left behind. */
  static labels(o: Pick<TaskVolumesOptions, 'taskId' | 'cluster' | 'hostId'>): Record<string, string> {
    return { [LABELS.task]: o.taskId, [LABELS.cluster]: o.cluster, [LABELS.host]: o.hostId };
  }
}

/** Removes the tasks' own volumes that carry `labels`, but those `keep` says to keep (by their labels); returns how many. */
export async function removeTaskVolumes(
  runtime: ContainerRuntime,
  labels: Record<string, string>,
  keep: (labels: Record<string, string>) => boolean = () => false,
): Promise<number> {
  const volumes = (await runtime.listVolumes(labels)).filter((v) => v.labels[LABELS.task] !== undefined && !keep(v.labels));
  await Promise.all(volumes.map((v) => runtime.removeVolume(v.name)));
  return volumes.length;
}
