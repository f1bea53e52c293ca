import type { StatesStore, HistoryItem } from './store';

/** aws-local-stepfunctions' event log entries, as far as the history reads them. */
interface LibraryEvent {
  type: string;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string };
  index?: number;
}

const FLUSH_INTERVAL_MS = 200;
const FLUSH_BATCH = 25;

/**
 * An execution's history as GetExecutionHistory shows it: Berth's own events (ExecutionStarted,
 * TaskScheduled → TaskStarted → TaskSubmitted → TaskSucceeded|TaskFailed, the end) and the
 * executor's state transitions in AWS's names, numbered in the order they happen and written to
 * the store in batches.
 */
export class HistoryRecorder {
  private nextId: number;
  private buffer: HistoryItem[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: StatesStore,
    private readonly executionArn: string,
    private readonly now: () => number,
    private readonly log: (line: object) => void,
    firstId = 1,
  ) {
    this.nextId = firstId;
  }

  add(type: string, details: Record<string, unknown> = {}): void {
    const id = this.nextId++;
    this.buffer.push({ executionArn: this.executionArn, id, previousEventId: id - 1, type, timestamp: this.now(), ...details });
    if (this.buffer.length >= FLUSH_BATCH) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Records the executor's events until its log ends (with the execution). */
  async follow(events: AsyncGenerator<LibraryEvent>): Promise<void> {
    for await (const e of events as AsyncGenerator<any>) this.fromLibrary(e as LibraryEvent);
  }

  private fromLibrary(e: LibraryEvent): void {
    const s = e.state;
    switch (e.type) {
      case 'StateEntered':
        this.add(`${s!.type}StateEntered`, { stateEnteredEventDetails: { name: s!.name, input: JSON.stringify(s!.input ?? null), inputDetails: { truncated: false } } });
        if (s!.type === 'Map' || s!.type === 'Parallel') this.add(`${s!.type}StateStarted`);
        break;
      case 'StateExited':
        if (s!.type === 'Map' || s!.type === 'Parallel') this.add(`${s!.type}StateSucceeded`);
        this.add(`${s!.type}StateExited`, { stateExitedEventDetails: { name: s!.name, output: JSON.stringify(s!.output ?? null), outputDetails: { truncated: false } } });
        break;
      case 'StateFailed':
        if (s!.type === 'Map' || s!.type === 'Parallel') this.add(`${s!.type}StateFailed`);
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `mapIteration${e.type.slice('MapIteration'.length)}EventDetails`;
        this.add(e.type, { [key]: { name: e.parentState!.name, index: e.index } });
        break;
      }
      default:
        // The execution's own events are Berth's; retries, catches and branches have no event of their own in AWS's history.
        break;
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer.splice(0);
    if (batch.length === 0) return;
    this.flushing = this.flushing
      .then(() => this.store.appendHistory(batch))
      .catch((e) => this.log({ level: 'error', message: 'execution history not written', executionArn: this.executionArn, error: String(e) }));
  }

  /** Writes whatever is buffered; resolves once all of it is stored. */
  async close(): Promise<void> {
    this.flush();
    await this.flushing;
  }

  /** One more event for an execution no process runs any more (aborted after a restart). */
  static async appendAfter(store: StatesStore, executionArn: string, type: string, details: Record<string, unknown>, now: number): Promise<void> {
    const last = (await store.history(executionArn)).reduce((max, e) => Math.max(max, e.id), 0);
    await store.appendHistory([{ executionArn, id: last + 1, previousEventId: last, type, timestamp: now, ...details }]);
  }
}
