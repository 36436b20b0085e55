import pkcs11js from 'pkcs11js';
import { TresorError } from '../../core/errors.ts';

/** CKR numeric code → name, built from the constants pkcs11js exports. */
const CKR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(pkcs11js as unknown as Record<string, unknown>)
    .filter((entry): entry is [string, number] => entry[0].startsWith('CKR_') && typeof entry[1] === 'number')
    .map(([name, code]) => [code, name]),
);

/** `CKR_PIN_INCORRECT` for 0xA0; `CKR_0x...` for vendor codes pkcs11js does not know. */
export function ckrName(code: number): string {
  return CKR_NAMES.get(code) ?? `CKR_0x${code.toString(16).toUpperCase()}`;
}

/** Numeric code for a CKR name, e.g. `ckrCode('CKR_DEVICE_ERROR') === 0x30`. */
export function ckrCode(name: string): number {
  const code = (pkcs11js as unknown as Record<string, unknown>)[name];
  if (!name.startsWith('CKR_') || typeof code !== 'number') throw new Error(`unknown PKCS#11 return code ${name}`);
  return code;
}

const hex = (code: number) => `0x${code.toString(16).toUpperCase()}`;

/**
 * A failed PKCS#11 call. The message names the operation and the return code,
 * e.g. `pkcs11: C_Login failed: CKR_PIN_INCORRECT (0xA0)`, optionally followed
 * by a hint naming the config parameter to check. It never carries PINs, key
 * material or plaintext. Status 503 by default: a broken HSM is a dependency
 * outage clients should retry; configuration mistakes use 500.
 */
export class HsmError extends TresorError {
  readonly ckr: string;

  constructor(
    readonly operation: string,
    readonly code: number,
    options: { hint?: string; status?: number } = {},
  ) {
    const base = `pkcs11: ${operation} failed: ${ckrName(code)} (${hex(code)})`;
    super(options.status ?? 503, options.hint ? `${base}; ${options.hint}` : base);
    this.name = 'HsmError';
    this.ckr = ckrName(code);
  }
}

/** The numeric CKR code of a pkcs11js error, or undefined for anything else. */
export function pkcs11ErrorCode(err: unknown): number | undefined {
  if (err instanceof pkcs11js.Pkcs11Error) return err.code;
  return undefined;
}

/**
 * Converts whatever a pkcs11js call threw into an HsmError (already-converted
 * errors pass through). Non-PKCS#11 failures (e.g. a TypeError in our own
 * argument handling) are reported as CKR_GENERAL_ERROR with the original
 * message kept out of the client-facing text.
 */
export function toHsmError(err: unknown, operation: string): HsmError {
  if (err instanceof HsmError) return err;
  return new HsmError(operation, pkcs11ErrorCode(err) ?? pkcs11js.CKR_GENERAL_ERROR);
}

/**
 * Codes after which every session and handle is suspect: the device restarted,
 * the token vanished, or the library was finalized under us. The only cure is
 * C_Finalize + C_Initialize + login + finding the keys again.
 */
const REINITIALIZE_CODES = new Set<number>([
  pkcs11js.CKR_DEVICE_ERROR,
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_DEVICE_MEMORY,
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_SESSION_COUNT,
  pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED,
  pkcs11js.CKR_OBJECT_HANDLE_INVALID,
  pkcs11js.CKR_KEY_HANDLE_INVALID,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_USER_NOT_LOGGED_IN,
]);

export function needsReinitialize(code: number): boolean {
  return REINITIALIZE_CODES.has(code);
}

/** Login failures that must never be retried: a real HSM locks the token. */
const PIN_CODES = new Set<number>([
  pkcs11js.CKR_PIN_INCORRECT,
  pkcs11js.CKR_PIN_LOCKED,
  pkcs11js.CKR_PIN_INVALID,
  pkcs11js.CKR_PIN_LEN_RANGE,
  pkcs11js.CKR_PIN_EXPIRED,
]);

export function isPinError(code: number): boolean {
  return PIN_CODES.has(code);
}
