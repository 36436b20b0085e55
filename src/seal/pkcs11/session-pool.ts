import pkcs11js from 'pkcs11js';
import { HsmError, isPinError, pkcs11ErrorCode, toHsmError } from './errors.ts';
import type { Pkcs11Api } from './module.ts';

/**
 * A pool of logged-in sessions that also caps HSM calls in flight: a PKCS#11
 * session runs one operation at a time, so each call borrows a session for
 * its whole Init+Encrypt (or Sign, ...) sequence and at most `maxParallel`
 * sessions are ever open.
 */
export class SessionPool {
  private idle: Buffer[] = [];
  private inFlight = 0;
  private peak = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  /** Bumped by reset(): sessions of an older generation are dropped, never reused or closed. */
  private generation = 0;

  constructor(
    private readonly module: Pkcs11Api,
    private slot: Buffer,
    private readonly pin: string,
    private readonly readWrite: boolean,
    readonly maxParallel: number,
  ) {}

  /** Sessions lent to a call now (= calls in flight). */
  get inUse(): number {
    return this.inFlight;
  }

  /** Open sessions waiting for a call. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** Highest number of calls that were in flight at once. */
  get peakInFlight(): number {
    return this.peak;
  }

  /** Runs `fn` with an exclusive logged-in session once a parallelism slot is free. */
  async run<T>(fn: (session: Buffer) => Promise<T> | T): Promise<T> {
    await this.acquireSlot();
    const generation = this.generation;
    let session: Buffer | undefined;
    try {
      session = this.idle.pop() ?? this.openSession();
      const result = await fn(session);
      if (generation === this.generation) this.idle.push(session);
      return result;
    } catch (err) {
      // A failed single-part call ends its operation, so the session is reusable.
      // Never close it here: SoftHSM drops every object handle once a slot's
      // last session closes. Dead sessions are dropped by reset() instead.
      if (session && generation === this.generation) this.idle.push(session);
      throw err;
    } finally {
      this.releaseSlot();
    }
  }

  /** Opens a fresh session (read-write when asked) and logs the user in. */
  openSession(readWrite = this.readWrite): Buffer {
    const flags = pkcs11js.CKF_SERIAL_SESSION | (readWrite ? pkcs11js.CKF_RW_SESSION : 0);
    let session: Buffer;
    try {
      session = this.module.C_OpenSession(this.slot, flags);
    } catch (err) {
      throw toHsmError(err, 'C_OpenSession');
    }
    try {
      this.module.C_Login(session, pkcs11js.CKU_USER, this.pin);
    } catch (err) {
      const code = pkcs11ErrorCode(err);
      // Login state is per application: a second session is already logged in.
      if (code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
        this.closeQuietly(session);
        if (code !== undefined && isPinError(code)) {
          throw new HsmError('C_Login', code, { status: 500, hint: 'the token rejected the configured "pin"' });
        }
        throw toHsmError(err, 'C_Login');
      }
    }
    return session;
  }

  closeQuietly(session: Buffer): void {
    try {
      this.module.C_CloseSession(session);
    } catch {
      // Already gone with the device; nothing to free.
    }
  }

  /** Resolves once no call is in flight (recovery must not finalize under a running call). */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Forgets every session without closing it: after C_Finalize the old handle
   * numbers may be reused by the new generation, so closing them would close
   * someone else's session. Takes the slot handle found after re-initialising.
   */
  reset(slot: Buffer): void {
    this.generation++;
    this.idle = [];
    this.slot = slot;
  }

  /** Closes idle sessions; used on orderly shutdown. */
  closeIdle(): void {
    for (const session of this.idle.splice(0)) this.closeQuietly(session);
  }

  private acquireSlot(): Promise<void> {
    if (this.inFlight < this.maxParallel) {
      this.took();
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiters.push(() => {
        this.took();
        resolve();
      }),
    );
  }

  private took(): void {
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
  }

  private releaseSlot(): void {
    this.inFlight--;
    const next = this.waiters.shift();
    if (next) {
      next();
      return;
    }
    if (this.inFlight === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
