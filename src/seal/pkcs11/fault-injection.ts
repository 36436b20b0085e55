import pkcs11js from 'pkcs11js';
import { ckrCode, ckrName } from './errors.ts';
import type { Pkcs11Api } from './module.ts';

/**
 * TEST ONLY. Puts a Proxy in front of a loaded pkcs11js object so a test can
 * make the next N calls of one function fail with a CKR code a real SoftHSM
 * token cannot produce on demand (CKR_DEVICE_ERROR, ...). The thrown error is
 * a genuine pkcs11js Pkcs11Error, exactly what the binding would throw;
 * `*Async` functions reject instead of throwing, like the real ones.
 *
 *   const faults = new FaultInjector();
 *   const seal = await Pkcs11Seal.open(cfg, { wrapModule: faults.wrap });
 *   faults.failNext('C_EncryptInit', 'CKR_DEVICE_ERROR', 1);
 */
export class FaultInjector {
  private readonly pending = new Map<string, { code: number; remaining: number }>();
  /** Calls per function name seen through the proxy (including failed ones). */
  readonly calls = new Map<string, number>();
  /** `*Async` calls (the ones that run on the libuv pool) in flight now, and the most seen at once. */
  asyncInFlight = 0;
  peakAsyncInFlight = 0;
  /** The unwrapped module, for tests that need to act behind the seal's back. */
  target?: Pkcs11Api;

  /** Makes the next `times` calls of `fn` fail with `ckr` (a CKR_* name). */
  failNext(fn: string, ckr: string, times = 1): void {
    this.pending.set(fn, { code: ckrCode(ckr), remaining: times });
  }

  /** Fault-injection calls still queued for `fn`. */
  remaining(fn: string): number {
    return this.pending.get(fn)?.remaining ?? 0;
  }

  /** A WrapModule for Pkcs11SealOptions.wrapModule. */
  readonly wrap = (module: Pkcs11Api): Pkcs11Api => {
    this.target = module;
    return new Proxy(module, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof property !== 'string' || typeof value !== 'function' || !property.startsWith('C_')) return value;
        return (...args: unknown[]) => {
          this.calls.set(property, (this.calls.get(property) ?? 0) + 1);
          const fault = this.pending.get(property);
          if (fault && fault.remaining > 0) {
            fault.remaining--;
            const error = new pkcs11js.Pkcs11Error(`${ckrName(fault.code)}:${fault.code}`, fault.code, property);
            if (property.endsWith('Async')) return Promise.reject(error);
            throw error;
          }
          const result = value.apply(target, args);
          if (!property.endsWith('Async')) return result;
          this.peakAsyncInFlight = Math.max(this.peakAsyncInFlight, ++this.asyncInFlight);
          return (result as Promise<unknown>).finally(() => this.asyncInFlight--);
        };
      },
    });
  };
}

