import pkcs11js from 'pkcs11js';
import { TresorError } from '../../core/errors.ts';
import { ckrName, HsmError, pkcs11ErrorCode, toHsmError } from './errors.ts';
import { instrumentPkcs11 } from '../../metrics.ts';

export type Pkcs11Api = pkcs11js.PKCS11;
/** Test hook: lets fault-injection.ts put a Proxy in front of the library. */
export type WrapModule = (module: Pkcs11Api) => Pkcs11Api;

/**
 * Loads the PKCS#11 library at `lib`. A bad path is a configuration error
 * that names the `lib` parameter (the dlopen text is kept: it holds no secret).
 */
export function loadLibrary(lib: string, wrap: WrapModule = (m) => m): Pkcs11Api {
  const module = new pkcs11js.PKCS11();
  try {
    module.load(lib);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TresorError(500, `pkcs11 seal: cannot load lib "${lib}": ${reason}`);
  }
  // Metrics outside any test wrapper, so injected faults count as the failures they stand for.
  return instrumentPkcs11(wrap(module), ckrName);
}

/**
 * C_Initialize with OS locking: without CKF_OS_LOCKING_OK SoftHSM disables its
 * mutexes and concurrent async calls hang. CKR_CRYPTOKI_ALREADY_INITIALIZED
 * (another user of the library in this process) is fine.
 */
export function initialize(module: Pkcs11Api): void {
  try {
    module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (pkcs11ErrorCode(err) === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) return;
    throw toHsmError(err, 'C_Initialize');
  }
}

/** Best-effort C_Finalize: a dead library may already be finalized. */
export function finalize(module: Pkcs11Api): void {
  try {
    module.C_Finalize();
  } catch {
    // Nothing to release: CKR_CRYPTOKI_NOT_INITIALIZED or a dead device.
  }
}

/** Slot handles are CK_SLOT_ID (unsigned long) in native byte order. */
function slotIdOf(handle: Buffer): bigint {
  return handle.length >= 8 ? handle.readBigUInt64LE(0) : BigInt(handle.readUInt32LE(0));
}

/**
 * Finds the slot by `slot` id, else by `token_label` (padded labels compared
 * trimmed). Not found → HsmError CKR_SLOT_ID_INVALID / CKR_TOKEN_NOT_PRESENT
 * naming the parameter; two tokens with the label → error saying so.
 */
export function findSlot(module: Pkcs11Api, where: { slotId?: bigint; tokenLabel?: string }): Buffer {
  let slots: Buffer[];
  try {
    slots = module.C_GetSlotList(true);
  } catch (err) {
    throw toHsmError(err, 'C_GetSlotList');
  }
  if (where.slotId !== undefined) {
    const slot = slots.find((s) => slotIdOf(s) === where.slotId);
    if (!slot) {
      throw new HsmError('C_GetSlotList', pkcs11js.CKR_SLOT_ID_INVALID, {
        status: 500,
        hint: `no token present in slot ${where.slotId} (check the "slot" setting)`,
      });
    }
    return slot;
  }
  const matches = slots.filter((s) => {
    try {
      return module.C_GetTokenInfo(s).label.trim() === where.tokenLabel;
    } catch {
      return false; // a slot that cannot describe its token cannot be ours
    }
  });
  if (matches.length > 1) {
    throw new TresorError(500, `pkcs11 seal: ${matches.length} tokens are labelled "${where.tokenLabel}"; set "slot" to pick one`);
  }
  if (matches.length === 0) {
    throw new HsmError('C_GetTokenInfo', pkcs11js.CKR_TOKEN_NOT_PRESENT, {
      status: 500,
      hint: `no token labelled "${where.tokenLabel}" (check the "token_label" setting)`,
    });
  }
  return matches[0];
}

/** Exponential backoff delays: 100 ms doubling up to `capMs`. */
export function backoffDelay(attempt: number, capMs: number): number {
  return Math.min(capMs, 100 * 2 ** Math.min(attempt, 16));
}
