import type { HostNotifier } from '../../context';

/** Wakes long-polling agents in the same process as the control plane. */
export class LocalHostNotifier implements HostNotifier {
  private readonly waiting = new Map<string, Set<() => void>>();

  notify(hostId: string): void {
    const wakers = this.waiting.get(hostId);
    if (!wakers) return;
    this.waiting.delete(hostId);
    for (const wake of wakers) wake();
  }

  wait(hostId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let wakers = this.waiting.get(hostId);
      if (!wakers) this.waiting.set(hostId, (wakers = new Set()));
      const wake = () => {
        clearTimeout(timer);
        wakers!.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, timeoutMs));
      wakers.add(wake);
    });
  }

  /** Releases every waiting poll, for a clean shutdown. */
  wakeAll(): void {
    for (const hostId of [...this.waiting.keys()]) this.notify(hostId);
  }
}
