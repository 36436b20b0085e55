import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/**
 * A device's salt: values in its entries are HMAC-SHA256'd under it, as
 * `hmac-sha256:<hex>` (Vault's salt.GetIdentifiedHMAC). The key object is
 * built once, so each hash is one HMAC and no key import.
 */
export class AuditSalt {
  private readonly key: KeyObject;

  constructor(salt: Buffer) {
    this.key = createSecretKey(salt);
  }

  hash(value: string): string {
    return `hmac-sha256:${createHmac('sha256', this.key).update(value).digest('hex')}`;
  }

  /**
   * A copy of a JSON value with every string (at any depth) hashed; numbers,
   * booleans and null as they are, object keys kept (Vault's HashStructure).
   */
  hashValue(value: unknown): unknown {
    if (typeof value === 'string') return this.hash(value);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.hashValue(v));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const hashed = this.hashValue((value as Record<string, unknown>)[key]);
      // defineProperty: a "__proto__" key stays a plain key of the copy.
      if (key === '__proto__') Object.defineProperty(out, key, { value: hashed, enumerable: true, writable: true, configurable: true });
      else out[key] = hashed;
    }
    return out;
  }
}
