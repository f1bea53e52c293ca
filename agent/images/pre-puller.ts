import type { PrePullImage } from '../../shared/agent-wire/responses';
import type { RegistryAuth } from '../runtime/container-runtime';
import type { ImagePuller } from './image-puller';

/** An image pre-pulled (or tried) this recently is left alone: a new push under its tag is picked up after this. */
export const PRE_PULL_REFRESH_MS = 10 * 60_000;

/**
 * Warm hosts' image cache: pulls the images the control plane lists (ACTIVE services' and
 * recently run definitions', in the register and heartbeat answers) before a task needs them,
 * one at a time, in the background, by the operator's pull behaviour (ImagePuller.prePull), so
 * a warm launch does not pull. Each image is taken up when it first appears in the list and again
 * after PRE_PULL_REFRESH_MS; a failure waits as long, so a registry that is down is not hammered.
 * Progress goes to the agent's log.
 */
export class PrePuller {
  private wanted: PrePullImage[] = [];
  private readonly lastTriedAt = new Map<string, number>();
  private working = false;
  private stopped = false;

  constructor(private readonly o: {
    images: ImagePuller;
    loginFor: (image: PrePullImage) => Promise<RegistryAuth | undefined>;
    log: (message: string) => void;
    now: () => number;
  }) {}

  /** The control plane's latest list; pulls what is due. Resolves when this round is done (tests wait on it). */
  offer(list: readonly PrePullImage[] | undefined): Promise<void> {
    if (list) this.wanted = [...list];
    return this.work();
  }

  stop(): void {
    this.stopped = true;
  }

  private due(): PrePullImage[] {
    const now = this.o.now();
    return this.wanted.filter((i) => now - (this.lastTriedAt.get(i.image) ?? -Infinity) >= PRE_PULL_REFRESH_MS);
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      for (let due = this.due(); due.length > 0 && !this.stopped; due = this.due()) {
        const next = due[0];
        this.lastTriedAt.set(next.image, this.o.now());
        const started = this.o.now();
        try {
          const pulled = await this.o.images.prePull(next.image, () => this.o.loginFor(next));
          if (pulled) this.o.log(`pre-pulled ${next.image} in ${this.o.now() - started} ms, ahead of any task`);
        } catch (e) {
          this.o.log(`cannot pre-pull ${next.image}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    } finally {
      this.working = false;
    }
  }
}
