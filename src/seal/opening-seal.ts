import { TresorError } from '../core/errors.ts';
import type { Logger } from '../logger.ts';
import type { KeyInfo, SealHealth, SealWrapper } from './seal.ts';

/** Decides whether an error from opening the seal is worth retrying. */
export type IsTransient = (err: unknown) => boolean;

/**
 * Stands in for a seal whose device may not be reachable yet at start-up.
 * It keeps trying to open the real seal with exponential backoff; until then
 * every call fails with 503 naming the last error, and health() says why.
 * A configuration mistake (bad library path, label, PIN) is not retried:
 * `ready` rejects and the server stops with that message.
 */
export class OpeningSeal implements SealWrapper {
  readonly type: string;
  private inner: SealWrapper | undefined;
  private lastError = 'not opened yet';
  private readonly since = new Date().toISOString();
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  readonly ready: Promise<SealWrapper>;
  /**
   * Settles with the first attempt: 'opened', or 'retrying' after a transient
   * failure (the seal keeps trying); rejects on a configuration mistake. The
   * server waits for it before it says it has started.
   */
  readonly firstOutcome: Promise<'opened' | 'retrying'>;
  private settleFirst: ((outcome: 'opened' | 'retrying') => void) | undefined;

  constructor(
    type: string,
    private readonly open: () => Promise<SealWrapper>,
    private readonly isTransient: IsTransient,
    private readonly logger: Logger,
    private readonly backoff = { firstMs: 500, capMs: 10_000 },
  ) {
    this.type = type;
    this.firstOutcome = new Promise((resolve) => (this.settleFirst = resolve));
    this.ready = new Promise((resolve, reject) => this.attempt(this.backoff.firstMs, resolve, reject));
    this.ready.catch(() => {});
    // A fatal first attempt rejects firstOutcome as ready does.
    this.firstOutcome = Promise.race([this.firstOutcome, this.ready.then(() => 'opened' as const)]);
    this.firstOutcome.catch(() => {});
  }

  private attempt(delayMs: number, resolve: (s: SealWrapper) => void, reject: (e: unknown) => void): void {
    this.open().then(
      (seal) => {
        if (this.closed) {
          void seal.close();
          return;
        }
        this.inner = seal;
        this.logger.info(`seal: ${this.type} seal opened`);
        resolve(seal);
      },
      (err) => {
        this.lastError = (err as Error).message;
        if (this.closed) return reject(err);
        if (!this.isTransient(err)) return reject(err);
        this.logger.warn(`seal: ${this.type} seal not reachable (${this.lastError}); retrying in ${delayMs} ms`);
        this.settleFirst?.('retrying');
        this.timer = setTimeout(() => this.attempt(Math.min(delayMs * 2, this.backoff.capMs), resolve, reject), delayMs);
        this.timer.unref();
      },
    );
  }

  /**
   * Resolves once the real seal is open, or after `timeoutMs`: a request that
   * arrives while the seal is still opening (right after start-up) waits a
   * moment instead of failing; one during an outage still fails soon.
   */
  async waitOpen(timeoutMs = 3000): Promise<void> {
    if (this.inner) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.ready.then(
        () => {},
        () => {},
      ),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs).unref())),
    ]);
    clearTimeout(timer);
  }

  private async need(): Promise<SealWrapper> {
    await this.waitOpen();
    if (!this.inner) throw new TresorError(503, `${this.type} seal unavailable: ${this.lastError}`);
    return this.inner;
  }

  async wrap(plaintext: Buffer, aad?: Buffer) {
    return (await this.need()).wrap(plaintext, aad);
  }
  async unwrap(blob: Buffer, aad?: Buffer) {
    return (await this.need()).unwrap(blob, aad);
  }
  needsRewrap(blob: Buffer) {
    if (!this.inner) throw new TresorError(503, `${this.type} seal unavailable: ${this.lastError}`);
    return this.inner.needsRewrap(blob);
  }
  keyInfo(): KeyInfo {
    return this.inner?.keyInfo() ?? { type: this.type, keyId: '' };
  }
  async generateRandom(length: number) {
    return (await this.need()).generateRandom(length);
  }
  hasKey(): boolean {
    return this.inner?.hasKey?.() ?? true;
  }
  health(): SealHealth {
    return this.inner?.health() ?? { healthy: false, unhealthySince: this.since, lastError: this.lastError };
  }
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inner?.close();
  }
}
