import type { HostNotifier } from '../../context';

/** Wakes long-polling agents in the same process as the control plane. */
export class LocalHostNotifier implements HostNotifier {
  private readonly waiting = new Map<string, Set<() => void>>();
  private isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  notify(hostId: string): void {
    const wakers = this.waiting.get(hostId);
    if (!wakers) return;
    this.waiting.delete(hostId);
    for (const wake of wakers) wake();
  }

  wait(hostId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.isClosed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let wakers = this.waiting.get(hostId);
      if (!wakers) this.waiting.set(hostId, (wakers = new Set()));
      const wake = () => {
        clearTimeout(timer);
        wakers!.delete(wake);
        resolve();
      };
      // A poll's timer alone must not keep the process alive.
      const timer = setTimeout(wake, Math.max(0, timeoutMs)).unref();
      wakers.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** Releases every waiting poll, now and from now on, for a clean shutdown. */
  close(): void {
    this.isClosed = true;
    for (const hostId of [...this.waiting.keys()]) this.notify(hostId);
  }
}
