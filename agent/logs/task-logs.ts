import type { ContainerDefinition } from '../../shared/domain/task-definition';
import { type LogShipperOptions, LogShipper } from './log-shipper';
import { LogGroupNotFoundError, type LogSink } from './log-sink';

/** Picks the sink for a region (`awslogs-region`, else the host's). */
export type LogSinks = (region?: string) => LogSink;

/** Where one container's awslogs output goes, from its logConfiguration options. */
export interface AwslogsTarget {
  region?: string;
  logGroupName: string;
  logStreamName: string;
  createGroup: boolean;
}

/** ECS's words for a log configuration that stops a task from starting. */
export class LogConfigurationError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`ResourceInitializationError: failed to validate logger args: ${detail}`, options);
    this.name = 'LogConfigurationError';
  }
}

/** awslogs' names: stream `prefix/container-name/task-id`, as ECS names it for Fargate. */
export function awslogsTarget(taskId: string, def: ContainerDefinition): AwslogsTarget | undefined {
  const lc = def.logConfiguration;
  if (lc?.logDriver !== 'awslogs') return undefined;
  const options = lc.options ?? {};
  const group = options['awslogs-group'];
  if (!group) throw new LogConfigurationError("must specify a value for log opt 'awslogs-group'");
  // Fargate requires the prefix; without it there is no task-scoped stream name to give.
  const prefix = options['awslogs-stream-prefix'];
  if (!prefix) throw new LogConfigurationError("must specify a value for log opt 'awslogs-stream-prefix'");
  return {
    region: options['awslogs-region'],
    logGroupName: group,
    logStreamName: `${prefix}/${def.name}/${taskId}`,
    createGroup: options['awslogs-create-group'] === 'true',
  };
}

/**
 * A task's awslogs output: opens each awslogs container's group and stream before any
 * container is created (a missing group fails the start, as in ECS), hands out the line
 * handler that ships its output, and flushes every last line on close.
 */
export class TaskLogs {
  private readonly shipping = new Map<string, LogShipper>();

  constructor(private readonly taskId: string, private readonly sinks: LogSinks | undefined, private readonly options: LogShipperOptions = {}) {}

  /**
   * Opens every awslogs container's stream. A container adopted from an earlier agent process
   * is read from its start again, so its output so far is shipped a second time.
   */
  async open(defs: readonly ContainerDefinition[]): Promise<void> {
    if (!this.sinks) return;
    for (const def of defs) {
      const target = awslogsTarget(this.taskId, def);
      if (!target || this.shipping.has(def.name)) continue;
      const sink = this.sinks(target.region);
      try {
        if (target.createGroup) await sink.createGroup(target.logGroupName);
        await sink.createStream(target.logGroupName, target.logStreamName);
      } catch (e) {
        if (e instanceof LogGroupNotFoundError) {
          throw new LogConfigurationError(
            'create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. : exit status 1',
            { cause: e },
          );
        }
        throw new LogConfigurationError(`failed to create Cloudwatch log stream: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      this.shipping.set(def.name, new LogShipper(sink, target.logGroupName, target.logStreamName, this.options));
    }
  }

  /** The line handler for a container whose output is shipped; undefined for any other. */
  lineHandler(container: string): ((line: string, stream: 'stdout' | 'stderr', timestampMs?: number) => void) | undefined {
    const shipper = this.shipping.get(container);
    return shipper && ((line, _stream, timestampMs) => shipper.push(line, timestampMs));
  }

  /** Sends what the container's shipper still holds; resolves once it is delivered. */
  async close(container: string): Promise<void> {
    await this.shipping.get(container)?.close();
  }
}
