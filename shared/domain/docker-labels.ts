import { ClientException } from './errors';

/**
 * Container labels: the definition's `dockerLabels`, and the ones ECS's agent puts on every
 * container it starts, which monitoring agents and log routers read to find a container's task.
 */

/** Labels Berth keeps for itself (see agent/runtime/container-runtime.ts LABELS): never a definition's. */
export const RESERVED_LABEL_PREFIX = 'berth.';

/** ECS's agent's own labels; a definition's label of the same name is overwritten by them, as ECS does. */
export const ECS_LABELS = {
  cluster: 'com.amazonaws.ecs.cluster',
  taskArn: 'com.amazonaws.ecs.task-arn',
  containerName: 'com.amazonaws.ecs.container-name',
  family: 'com.amazonaws.ecs.task-definition-family',
  version: 'com.amazonaws.ecs.task-definition-version',
} as const;

/** Docker's own limit on a label key; ECS passes dockerLabels through to Docker. */
const MAX_KEY_LENGTH = 255;

/**
 * A definition's dockerLabels, checked (the map itself was read as strings to strings): a key is
 * 1 to 255 characters without whitespace, and may not claim Berth's own `berth.` labels, by which
 * a restarted agent finds its tasks.
 */
export function checkDockerLabels(labels: Record<string, string> | undefined, field: string): Record<string, string> | undefined {
  if (!labels) return undefined;
  for (const key of Object.keys(labels)) {
    if (key.length < 1 || key.length > MAX_KEY_LENGTH || /\s/.test(key)) {
      throw new ClientException(`Invalid parameter '${field}': label key '${key.slice(0, 64)}' must be 1 to ${MAX_KEY_LENGTH} characters without whitespace.`);
    }
    if (key.toLowerCase().startsWith(RESERVED_LABEL_PREFIX)) {
      throw new ClientException(`Invalid parameter '${field}': label key '${key.slice(0, 64)}' uses the reserved prefix '${RESERVED_LABEL_PREFIX}'.`);
    }
  }
  return labels;
}

export interface EcsLabelSource {
  taskArn: string;
  family: string;
  revision: number;
}

/** The cluster's ARN, from its task's: arn:P:ecs:R:A:task/CLUSTER/ID → arn:P:ecs:R:A:cluster/CLUSTER. */
export const clusterArnOfTask = (taskArn: string): string => taskArn.replace(/:task\/([^/]+)\/[^/]+$/, ':cluster/$1');

/** The labels ECS's agent puts on a task's container (the cluster as its ARN, as on Fargate). */
export function ecsContainerLabels(task: EcsLabelSource, containerName: string): Record<string, string> {
  return {
    [ECS_LABELS.cluster]: clusterArnOfTask(task.taskArn),
    [ECS_LABELS.taskArn]: task.taskArn,
    [ECS_LABELS.containerName]: containerName,
    [ECS_LABELS.family]: task.family,
    [ECS_LABELS.version]: String(task.revision),
  };
}
