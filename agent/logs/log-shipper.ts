import { PUT_LOG_EVENTS_LIMITS, eventBytes } from '../../shared/logs/limits';
import { cutBatches, splitMessage } from '../../shared/logs/log-batcher';
import { LogBatchRejectedError, type LogEvent, type LogSink } from './log-sink';

export interface LogShipperOptions {
  /** A line waits at most this long before it is sent. */
  flushIntervalMs?: number;
  /** How long a batch is retried through faults before it is dropped (and said so). */
  retryForMs?: number;
  now?: () => number;
  log?: (message: string) => void;
}

export const SHIPPER_DEFAULTS = { flushIntervalMs: 1000, retryForMs: 60_000 } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Ships one log stream: lines are buffered and sent as PutLogEvents batches within its limits,
 * one call at a time so they arrive in order, each line with its own timestamp. `close` sends
 * what is left and resolves once every line has been delivered (or given up on).
 */
export class LogShipper {
  private pending: LogEvent[] = [];
  private pendingBytes = 0;
  private lastTimestamp = 0;
  private timer?: NodeJS.Timeout;
  private sending: Promise<void> = Promise.resolve();
  private readonly o: Required<Omit<LogShipperOptions, 'log'>> & Pick<LogShipperOptions, 'log'>;
  /** Lines shipped and lines given up on, for the agent's own log. */
  shipped = 0;
  dropped = 0;

  constructor(private readonly sink: LogSink, readonly logGroupName: string, readonly logStreamName: string, options: LogShipperOptions = {}) {
    this.o = { ...SHIPPER_DEFAULTS, now: Date.now, ...options };
  }

  /** Adds one line; empty lines are skipped, as CloudWatch Logs takes no empty event. */
  push(line: string, timestampMs?: number): void {
    if (line === '') return;
    // A batch must be chronological: a line stamped before the last one takes its time.
    const timestamp = Math.max(timestampMs ?? this.o.now(), this.lastTimestamp);
    this.lastTimestamp = timestamp;
    for (const message of splitMessage(line)) {
      this.pending.push({ timestamp, message });
      this.pendingBytes += eventBytes(message);
    }
    if (this.pending.length >= PUT_LOG_EVENTS_LIMITS.maxEvents || this.pendingBytes >= PUT_LOG_EVENTS_LIMITS.maxBatchBytes) {
      void this.flush();
    } else {
      this.timer ??= setTimeout(() => void this.flush(), this.o.flushIntervalMs);
    }
  }

  /** Sends everything buffered so far, after what is already being sent. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) {
      const batches = cutBatches(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      this.sending = this.sending.then(async () => {
        for (const batch of batches) await this.send(batch);
      });
    }
    return this.sending;
  }

  close(): Promise<void> {
    return this.flush();
  }

  private async send(batch: LogEvent[]): Promise<void> {
    const deadline = this.o.now() + this.o.retryForMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.sink.putEvents(this.logGroupName, this.logStreamName, batch);
        if (r.rejected && Object.keys(r.rejected).length > 0) this.o.log?.(`${this.logStreamName}: CloudWatch Logs refused some events: ${JSON.stringify(r.rejected)}`);
        this.shipped += batch.length;
        return;
      } catch (e) {
        if (e instanceof LogBatchRejectedError || this.o.now() >= deadline) {
          this.dropped += batch.length;
          this.o.log?.(`${this.logStreamName}: dropped ${batch.length} line(s): ${e}`);
          return;
        }
        await sleep(Math.min(5000, 100 * 2 ** attempt));
      }
    }
  }
}
