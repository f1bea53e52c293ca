import { isImageDigest, isLocalOnly, parseImageReference } from '../../shared/domain/image';
import type { ContainerRuntime, RegistryAuth } from '../runtime/container-runtime';

/**
 * The ECS agent's ECS_IMAGE_PULL_BEHAVIOR, chosen by the operator (BERTH_IMAGE_PULL_BEHAVIOR):
 * - default: pull; if the pull fails, run the cached image when there is one;
 * - always: pull, and fail the task when the pull fails;
 * - once: pull the first time this agent runs the image, then use the cache;
 * - prefer-cached: use the cache; pull only an image not on the host.
 */
export const PULL_BEHAVIORS = ['default', 'always', 'once', 'prefer-cached'] as const;
export type PullBehavior = (typeof PULL_BEHAVIORS)[number];

/**
 * Gets an image onto the host as the operator's pull behaviour says, then tells the digest that
 * will run. Two exceptions, whatever the behaviour: an image named by digest that is cached is
 * the same image (a digest never changes), and a `localhost/` image was built or imported on the
 * host itself, so no registry has it.
 */
export class ImagePuller {
  /** What this agent has pulled (for `once`); a restarted agent pulls each once more. */
  private readonly pulled = new Set<string>();
  /**
   * Images this agent found on the host or pulled, with their digests once asked: a launch of
   * one the cache serves then asks the engine nothing (an inspect is a round trip on every
   * launch's path, and two in a burst's). An image removed behind the agent's back is found
   * missing by the create, which forgets it here and fetches it again.
   */
  private readonly present = new Map<string, { digest?: Promise<string | undefined> }>();

  constructor(private readonly o: { runtime: ContainerRuntime; behavior: PullBehavior; log: (message: string) => void }) {}

  /** Whether a launch runs the cached image without asking the registry. */
  private cacheServes(image: string, cached: boolean): boolean {
    const { behavior } = this.o;
    const pinned = parseImageReference(image).digest !== undefined;
    return cached && (pinned || isLocalOnly(image) || behavior === 'prefer-cached' || (behavior === 'once' && this.pulled.has(image)));
  }

  /**
   * Pulls ahead of any task (warm hosts' pre-pull), unless a launch would use the cache anyway
   * or no registry has the image. Resolves with whether it pulled; a failed pull rejects.
   */
  async prePull(image: string, login: () => Promise<RegistryAuth | undefined>): Promise<boolean> {
    const cached = await this.o.runtime.hasImage(image);
    if (this.cacheServes(image, cached) || isLocalOnly(image)) return false;
    await this.o.runtime.pull(image, await login());
    this.pulled.add(image);
    this.present.set(image, {});
    return true;
  }

  /** Pulls if it should; resolves with the digest of the image the container will run, if a registry gave it one. */
  async ensure(image: string, login: () => Promise<RegistryAuth | undefined>): Promise<string | undefined> {
    await this.fetch(image, login);
    return this.digestOf(image);
  }

  /** Pulls if it should: what a launch must wait for before it creates a container of the image. */
  async fetch(image: string, login: () => Promise<RegistryAuth | undefined>): Promise<void> {
    const { runtime, behavior } = this.o;
    if (this.present.has(image) && this.cacheServes(image, true)) return;
    const cached = await runtime.hasImage(image);
    if (!cached) this.present.delete(image);
    else if (!this.present.has(image)) this.present.set(image, {});
    if (this.cacheServes(image, cached)) return;
    const auth = await login();
    try {
      await runtime.pull(image, auth);
      this.pulled.add(image);
      // The tag may name another image now: its digest is asked again.
      this.present.set(image, {});
    } catch (e) {
      if (behavior !== 'default' || !cached) throw e;
      this.o.log(`${e instanceof Error ? e.message : String(e)}; running the cached image, as pull behaviour default allows`);
    }
  }

  /** The digest of the image on the host, if a registry gave it one: only the RUNNING report needs it, so a launch asks it beside the create. */
  async digestOf(image: string): Promise<string | undefined> {
    const known = this.present.get(image);
    if (known?.digest) return known.digest;
    const asked = this.o.runtime.imageDigest(image);
    const digest = asked.then((d) => (d !== undefined && isImageDigest(d) ? d : undefined), () => undefined);
    // Kept while the image is known present; a failed ask is not an answer, and is asked again.
    if (known) {
      known.digest = digest;
      asked.catch(() => {
        if (known.digest === digest) known.digest = undefined;
      });
    }
    return digest;
  }

  /** The engine no longer has the image (a create said so): the next launch asks it again. */
  forget(image: string): void {
    this.present.delete(image);
  }
}
