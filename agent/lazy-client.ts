/**
 * An AWS SDK client loaded and made on first use. An SDK client's module costs an agent several
 * MiB of memory from the moment it is loaded, and most agents never need most of them (Secrets
 * Manager and SSM only for a task with `secrets`, ECR only for an ECR image, STS only on AWS):
 * the agent loads each when a task first needs it (`import()`, which esbuild keeps lazy inside
 * the one bundle). A failed load is not kept, so the next use tries again.
 */
export class LazyClient<Sdk, Client extends { destroy(): void; send: (...args: any[]) => Promise<unknown> }> {
  private made?: Promise<{ sdk: Sdk; client: Client }>;

  /** The client's own send, which makes the client at its first call. */
  readonly send = ((...args: Parameters<Client['send']>) => this.get().then(({ client }) => client.send(...args))) as Client['send'];

  constructor(private readonly load: () => Promise<Sdk>, private readonly create: (sdk: Sdk) => Client) {}

  /** The SDK's module (for its commands) and the client, loaded and made the first time. */
  get(): Promise<{ sdk: Sdk; client: Client }> {
    this.made ??= this.load().then((sdk) => ({ sdk, client: this.create(sdk) })).catch((e: unknown) => {
      this.made = undefined;
      throw e;
    });
    return this.made;
  }

  /** Closes the client's connections, if it was ever made. */
  destroy(): void {
    void this.made?.then(({ client }) => client.destroy(), () => {});
  }
}
