import type { SealHealth } from '../seal.ts';
import type { SealLogger } from './config.ts';
import { HsmError } from './errors.ts';

export type HealthListener = (health: SealHealth) => void;

/** Describes a failure for logs and `lastError` without any secret: operation + CKR name. */
export function describeFailure(err: unknown): string {
  if (err instanceof HsmError) return `${err.operation} ${err.ckr}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Healthy/unhealthy state with edge-triggered logging: one line when the HSM
 * goes bad, one when it comes back, nothing in between (a dead HSM must not
 * flood the log every heartbeat).
 */
export class HealthTracker {
  private state: SealHealth = { healthy: true };
  private readonly listeners = new Set<HealthListener>();

  constructor(private readonly logger: SealLogger) {}

  snapshot(): SealHealth {
    return { ...this.state };
  }

  /** Records a failure seen by `source` ("heartbeat", "call"). */
  failed(err: unknown, source: string): void {
    const lastError = describeFailure(err);
    if (!this.state.healthy) {
      this.state = { ...this.state, lastError };
      return;
    }
    this.logger.error(`HSM ${source} failed: ${lastError}`);
    this.state = { healthy: false, unhealthySince: new Date().toISOString(), lastError };
    this.emit();
  }

  succeeded(): void {
    if (this.state.healthy) return;
    this.logger.info(`HSM healthy again (unhealthy since ${this.state.unhealthySince})`);
    this.state = { healthy: true };
    this.emit();
  }

  /** Subscribes to healthy↔unhealthy transitions; returns the unsubscribe function. */
  onChange(listener: HealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const snapshot = this.snapshot();
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (err) {
        this.logger.warn(`seal health listener threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
