import type { HostNotifier } from '../../context';

/**
 * On AWS the agent's long-poll runs in one Lambda and the change that should wake it in
 * another, so the poll re-reads the store at this pace instead of waiting for a signal.
 */
export class PollingHostNotifier implements HostNotifier {
  constructor(private readonly intervalMs = 500) {}

  notify(): void {}

  wait(_hostId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(timeoutMs, this.intervalMs))));
  }
}
