import type { KeyObject } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { TresorError } from '../../core/errors.ts';
import type { ResolvedPkcs11Config } from './config.ts';
import {
  describeKey,
  exportRsaPublicKey,
  findObject,
  generateAesKey,
  generateHmacKey,
  generateRsaKeyPair,
  newKeyId,
  readKeyId,
  type KeyRef,
} from './keys.ts';
import type { Pkcs11Api } from './module.ts';

/** The keys new blobs are made with. */
export interface CurrentKeys {
  /** AES key, or the RSA pair (both halves share label and id). */
  encryption: KeyRef;
  /** CBC mode only. */
  hmac?: KeyRef;
  /** RSA with rsa_encrypt_local: the exported public key. */
  rsaPublicKey?: KeyObject;
}

export const SECRET_KEY = pkcs11js.CKO_SECRET_KEY;
export const PUBLIC_KEY = pkcs11js.CKO_PUBLIC_KEY;
export const PRIVATE_KEY = pkcs11js.CKO_PRIVATE_KEY;

/**
 * Finds (or generates) the configured keys and caches object handles by
 * class+label+id, so blobs made by an older key still find their key after
 * the operator switched `key_label`. Handles die with the library session
 * state, so `forgetHandles()` runs on every re-initialisation.
 */
export class KeyRing {
  current?: CurrentKeys;
  private handles = new Map<string, Buffer>();

  constructor(
    private readonly module: Pkcs11Api,
    private readonly config: ResolvedPkcs11Config,
  ) {}

  forgetHandles(): void {
    this.handles.clear();
  }

  /**
   * Looks the configured keys up; with generate_key, creates what is missing
   * (needs a read-write session). Without it a missing key leaves `current`
   * undefined: the seal opens but refuses to wrap (see Pkcs11Seal.hasKey).
   */
  async resolveCurrent(session: Buffer, generate: boolean): Promise<void> {
    const { config } = this;
    const encryption = await this.resolve(session, config.keyLabel, config.keyId, generate, config.mechanism === 'rsa-oaep' ? 'rsa' : 'aes');
    if (!encryption) {
      this.current = undefined;
      return;
    }
    let hmac: KeyRef | undefined;
    if (config.mechanism === 'aes-cbc-hmac') {
      hmac = await this.resolve(session, config.hmacKeyLabel!, config.hmacKeyId, generate, 'hmac');
      if (!hmac) {
        this.current = undefined;
        return;
      }
    }
    const rsaPublicKey =
      config.mechanism === 'rsa-oaep' && config.rsaEncryptLocal
        ? exportRsaPublicKey(this.module, session, this.handle(session, PUBLIC_KEY, encryption))
        : undefined;
    this.current = { encryption, hmac, rsaPublicKey };
  }

  /** The handle of `ref` as an object of `objectClass`; a missing key is an error naming it. */
  handle(session: Buffer, objectClass: number, ref: KeyRef): Buffer {
    const cacheKey = `${objectClass}/${ref.label}/${ref.id.toString('hex')}`;
    let handle = this.handles.get(cacheKey);
    if (!handle) {
      handle = findObject(this.module, session, objectClass, ref.label, ref.id);
      if (!handle) throw new TresorError(500, `pkcs11 seal: key ${describeKey(ref)} not found on the token`);
      this.handles.set(cacheKey, handle);
    }
    return handle;
  }

  /** Message used when there is no current key and generate_key is off. */
  missingKeyMessage(): string {
    const { config } = this;
    const hmacNote = config.mechanism === 'aes-cbc-hmac' ? ` (or no HMAC key under hmac_key_label "${config.hmacKeyLabel}")` : '';
    return `pkcs11 seal: no key found under key_label "${config.keyLabel}"${hmacNote} and generate_key is not set`;
  }

  private async resolve(
    session: Buffer,
    label: string,
    wantedId: Buffer | undefined,
    generate: boolean,
    kind: 'aes' | 'hmac' | 'rsa',
  ): Promise<KeyRef | undefined> {
    const lookupClass = kind === 'rsa' ? PRIVATE_KEY : SECRET_KEY;
    const found = findObject(this.module, session, lookupClass, label, wantedId);
    if (found) {
      const ref = { label, id: readKeyId(this.module, session, found) };
      this.handles.set(`${lookupClass}/${label}/${ref.id.toString('hex')}`, found);
      return ref;
    }
    if (!generate) return undefined;
    const ref = { label, id: wantedId ?? newKeyId() };
    if (kind === 'aes') await generateAesKey(this.module, session, ref);
    else if (kind === 'hmac') await generateHmacKey(this.module, session, ref);
    else await generateRsaKeyPair(this.module, session, ref);
    return ref;
  }
}
