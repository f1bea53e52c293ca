/**
 * Values that expire (registry logins, role credentials), kept per key until `marginMs` before
 * they do, so nothing starts with one about to lapse. Callers asking at once share one fetch; a
 * failed fetch is not kept, so the next caller asks again.
 */
export class ExpiringCache<T> {
  private readonly cached = new Map<string, Promise<T>>();

  constructor(private readonly o: { expiresAtMs: (value: T) => number; marginMs: number; now: () => number }) {}

  async get(key: string, fetch: () => Promise<T>): Promise<T> {
    let entry = this.cached.get(key);
    if (entry) {
      const fresh = await entry.then((v) => this.o.expiresAtMs(v) - this.o.marginMs > this.o.now(), () => false);
      if (!fresh) entry = undefined;
    }
    if (!entry) {
      const fetching = fetch();
      entry = fetching;
      this.cached.set(key, fetching);
      fetching.catch(() => this.cached.get(key) === fetching && this.cached.delete(key));
    }
    return entry;
  }
}
