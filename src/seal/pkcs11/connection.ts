import pkcs11js from 'pkcs11js';
import { HsmError, isPinError, needsReinitialize, toHsmError } from './errors.ts';
import type { SealLogger } from './config.ts';
import { backoffDelay, finalize, findSlot, initialize, type Pkcs11Api } from './module.ts';
import { SessionPool } from './session-pool.ts';

export interface ConnectionOptions {
  slotId?: bigint;
  tokenLabel?: string;
  pin: string;
  readWrite: boolean;
  maxParallel: number;
  logger: SealLogger;
  /** Longest pause between recovery attempts (default 5000 ms). */
  backoffCapMs?: number;
  /**
   * Runs with a fresh logged-in session after every (re)connect, e.g. to find
   * the keys again; throwing makes recovery try again later.
   */
  onConnect: (session: Buffer) => Promise<void>;
  /**
   * Other connections share the library (managed keys: one per token and
   * PIN): a failed connect must not C_Finalize it under them.
   */
  sharedLibrary?: boolean;
  /** Told when recovery starts (with the cause) and when it has finished. */
  onStateChange: (event: { recovering: true; cause: HsmError } | { recovering: false }) => void;
}

/**
 * The live link to the token: library, slot, session pool, and the
 * finalize/initialize recovery that real HSM restarts require. While it
 * recovers, calls fail fast with the HsmError that started the recovery.
 */
export class HsmConnection {
  private recovery?: { cause: HsmError; done: Promise<void> };
  /** A fatal error (wrong PIN during recovery): no more retries, every call fails. */
  private fatal?: HsmError;
  private closed = false;
  private wakeSleeper?: () => void;

  private constructor(
    readonly module: Pkcs11Api,
    readonly pool: SessionPool,
    private readonly options: ConnectionOptions,
  ) {}

  /** Initialises the loaded library, picks the slot, logs in and runs `onConnect`; finalizes on failure. */
  static async connect(module: Pkcs11Api, options: ConnectionOptions): Promise<HsmConnection> {
    initialize(module);
    try {
      const slot = findSlot(module, options);
      const pool = new SessionPool(module, slot, options.pin, options.readWrite, options.maxParallel);
      const connection = new HsmConnection(module, pool, options);
      await pool.run(options.onConnect);
      return connection;
    } catch (err) {
      if (!options.sharedLibrary) finalize(module);
      throw err;
    }
  }

  get recovering(): boolean {
    return this.recovery !== undefined;
  }

  /**
   * Runs `fn` on a pooled session. Failures come back as HsmError naming
   * `operation`; a code that kills sessions or handles starts recovery.
   */
  async call<T>(operation: string, fn: (session: Buffer) => Promise<T> | T): Promise<T> {
    this.assertUsable();
    try {
      return await this.pool.run(fn);
    } catch (err) {
      if (!(err instanceof HsmError) && !isPkcs11Failure(err)) throw err;
      const hsmError = toHsmError(err, operation);
      if (needsReinitialize(hsmError.code)) this.recover(hsmError);
      throw hsmError;
    }
  }

  /** Starts recovery unless one is already running (idempotent). */
  recover(cause: HsmError): void {
    if (this.recovery || this.closed || this.fatal) return;
    this.options.logger.warn(`pkcs11 seal: re-initialising the PKCS#11 library after ${cause.operation} ${cause.ckr}`);
    const recovery = { cause, done: Promise.resolve() };
    this.recovery = recovery;
    this.options.onStateChange({ recovering: true, cause });
    recovery.done = this.reconnectLoop(recovery);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeSleeper?.();
    await this.recovery?.done;
    await this.pool.drained();
    this.pool.closeIdle();
    finalize(this.module);
  }

  private assertUsable(): void {
    if (this.closed) throw new HsmError('seal', pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED, { hint: 'the seal is closed' });
    if (this.fatal) throw this.fatal;
    if (this.recovery) throw this.recovery.cause;
  }

  private async reconnectLoop(recovery: { cause: HsmError }): Promise<void> {
    // Finalizing under a running call can crash some libraries: let them fail first.
    await this.pool.drained();
    for (let attempt = 0; !this.closed; attempt++) {
      finalize(this.module);
      try {
        initialize(this.module);
        this.pool.reset(findSlot(this.module, this.options));
        await this.pool.run(this.options.onConnect);
        this.recovery = undefined;
        this.options.logger.info(`pkcs11 seal: PKCS#11 library re-initialised after ${attempt + 1} attempt(s)`);
        this.options.onStateChange({ recovering: false });
        return;
      } catch (err) {
        const hsmError = toHsmError(err, 'reconnect');
        if (isPinError(hsmError.code)) {
          // Retrying a wrong PIN would lock a real token.
          this.fatal = hsmError;
          this.options.logger.error(`pkcs11 seal: giving up re-initialising: ${hsmError.message}`);
          return;
        }
        recovery.cause = hsmError;
        await this.sleep(backoffDelay(attempt, this.options.backoffCapMs ?? 5000));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeSleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function isPkcs11Failure(err: unknown): boolean {
  return err instanceof Error && (err.name === 'Pkcs11Error' || err.name === 'NativeError');
}
