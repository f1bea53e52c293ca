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

interface Shipping {
  shipper: LogShipper;
  /** Lines logged before this were shipped by an agent process before this one. */
  skipBefore?: number;
}

/**
 * A task's awslogs output: opens each awslogs container's group and stream before any
 * container is created (a missing group fails the start, as in ECS), hands out the line
 * handler that ships its output, and flushes every last line on close.
 */
export class TaskLogs {
  private readonly shipping = new Map<string, Shipping>();

  constructor(private readonly taskId: string, private readonly sinks: LogSinks | undefined, private readonly options: LogShipperOptions = {}) {}

  /** `resume`: the containers ran under an earlier agent, which shipped their output so far. */
  async open(defs: readonly ContainerDefinition[], resume = false): Promise<void> {
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
      const skipBefore = resume ? await sink.lastEventTimestamp(target.logGroupName, target.logStreamName).catch(() => undefined) : undefined;
      this.shipping.set(def.name, { shipper: new LogShipper(sink, target.logGroupName, target.logStreamName, this.options), skipBefore });
    }
  }

  /** The line handler for a container whose output is shipped; undefined for any other. */
  lineHandler(container: string): ((line: string, stream: 'stdout' | 'stderr', timestampMs?: number) => void) | undefined {
    const s = this.shipping.get(container);
    if (!s) return undefined;
    return (line, _stream, timestampMs) => {
      // Lines of the last shipped millisecond are sent again rather than risk losing one.
      if (s.skipBefore !== undefined && timestampMs !== undefined && timestampMs < s.skipBefore) return;
      s.shipper.push(line, timestampMs);
    };
  }

  /** Sends what the container's shipper still holds; resolves once it is delivered. */
  async close(container: string): Promise<void> {
    await this.shipping.get(container)?.shipper.close();
  }
}
