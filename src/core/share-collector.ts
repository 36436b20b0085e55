import { randomUUID, timingSafeEqual } from 'node:crypto';
import { badRequest } from './errors.ts';

/**
 * Collects key shares towards a threshold for one multi-step operation
 * (unseal, generate-root, rekey). A duplicate share is refused without
 * counting, so a single holder cannot reach the threshold alone.
 */
export class ShareCollector {
  readonly nonce: string;
  private readonly shares: Buffer[] = [];

  constructor(readonly threshold: number, nonce: string = randomUUID()) {
    this.nonce = nonce;
  }

  get progress(): number {
    return this.shares.length;
  }

  /** Adds a share; returns all shares once the threshold is met, else undefined. */
  add(share: Buffer): Buffer[] | undefined {
    for (const existing of this.shares) {
      if (existing.length === share.length && timingSafeEqual(existing, share)) {
        throw badRequest('given key share is a duplicate of one already provided');
      }
    }
    this.shares.push(Buffer.from(share));
    if (this.shares.length < this.threshold) return undefined;
    return this.shares.map((s) => Buffer.from(s));
  }

  /** Overwrites the collected shares in memory. */
  clear(): void {
    for (const s of this.shares) s.fill(0);
    this.shares.length = 0;
  }
}
