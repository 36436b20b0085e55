/**
 * The seal seam, shaped like go-kms-wrapping's Wrapper: a seal only wraps and
 * unwraps bytes; it knows nothing of the barrier or the core.
 *
 * A wrapped blob is self-describing (it records which key and mechanism made
 * it), so after an operator switches to a new HSM key old blobs still unwrap,
 * and `needsRewrap` says they should be written again under the current key.
 */
export interface KeyInfo {
  /** Seal type as Vault names it: "pkcs11", "shamir". */
  type: string;
  /** Human-facing key identity, e.g. `label=tresor-root id=0a1b...`. */
  keyId: string;
  mechanism?: string;
  /**
   * Where the key lives, for operators (sys/seal-backend-status, the UI's HSM
   * panel): e.g. library, token_label or slot, key_label, mechanism. Never a
   * PIN or a token.
   */
  details?: Record<string, string>;
}

export interface SealHealth {
  healthy: boolean;
  /** ISO time the first failed heartbeat was seen, when unhealthy. */
  unhealthySince?: string;
  lastError?: string;
}

/** One seal's line in `sys/seal-backend-status` (several with enable_multiseal). */
export interface SealBackendStatus {
  name: string;
  type: string;
  priority: number;
  healthy: boolean;
  unhealthy_since?: string;
  /** Tresor's addition: the seal's KeyInfo.details (library, token_label, key_label, mechanism...). */
  [detail: string]: string | number | boolean | undefined;
}

export interface SealWrapper {
  readonly type: string;
  /** Encrypts `plaintext`; `aad`, when given, is bound into the blob. */
  wrap(plaintext: Buffer, aad?: Buffer): Promise<Buffer>;
  unwrap(blob: Buffer, aad?: Buffer): Promise<Buffer>;
  /** True when `blob` was made by a key other than the current one. */
  needsRewrap(blob: Buffer): boolean;
  keyInfo(): KeyInfo;
  /** Random bytes from the seal's device (entropy augmentation). */
  generateRandom(length: number): Promise<Buffer>;
  health(): SealHealth;
  /** False when the seal has no key and may not create one: init must refuse. Absent = always has a key. */
  hasKey?(): boolean;
  /** For seals that open in the background: resolves once open, or after `timeoutMs`. */
  waitOpen?(timeoutMs?: number): Promise<void>;
  /** Each seal behind this one (multiseal); absent for a single seal. */
  backends?(): SealBackendStatus[];
  close(): Promise<void>;
}
