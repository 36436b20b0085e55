/**
 * Managed keys (Vault Enterprise's sys/managed-keys, pkcs11 type): keys that
 * live in a token of a `kms_library "pkcs11"` library and never leave it.
 * The records (with their PINs) are stored behind the barrier; the HSM side
 * reuses the seal's plumbing: module.ts loads the library, HsmConnection
 * gives the session pool (max_parallel cap) and the finalize/initialize
 * recovery, keys.ts finds and generates keys, ciphers.ts runs the mechanisms.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { KmsLibraryConfig } from '../config/types.ts';
import { HsmConnection } from '../seal/pkcs11/connection.ts';
import { HsmError } from '../seal/pkcs11/errors.ts';
import { ecdsaSign, gcmDecrypt, gcmEncrypt, rsaPkcs1Sign, verifyOnToken } from '../seal/pkcs11/ciphers.ts';
import {
  EC_CURVE_PARAMS,
  exportEcPublicKey,
  exportRsaPublicKey,
  findObject,
  generateAesKey,
  generateEcKeyPair,
  generateRsaKeyPair,
  newKeyId,
  type KeyRef,
} from '../seal/pkcs11/keys.ts';
import { loadLibrary, type Pkcs11Api } from '../seal/pkcs11/module.ts';
import type { Logger } from '../logger.ts';
import { TresorError, badRequest } from './errors.ts';

/** The mechanisms a managed key may name, and the kind of key each needs. */
export const MECHANISMS = {
  0x1087: { name: 'CKM_AES_GCM', kind: 'aes' },
  0x1041: { name: 'CKM_ECDSA', kind: 'ec' },
  0x0001: { name: 'CKM_RSA_PKCS', kind: 'rsa' },
} as const;
export type MechanismCode = keyof typeof MECHANISMS;
export type KeyKind = (typeof MECHANISMS)[MechanismCode]['kind'];

export const USAGES = ['encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap', 'generate_random'] as const;
const CURVES = { p256: 'P-256', p384: 'P-384', p521: 'P-521' } as const;
type Curve = keyof typeof CURVES;

/** What is stored per managed key (behind the barrier; the only place the PIN lives). */
export interface ManagedKeyRecord {
  name: string;
  type: 'pkcs11';
  uuid: string;
  library: string;
  slot: string;
  token_label: string;
  pin: string;
  key_label: string;
  /** As the operator gave it (CKA_ID is its UTF-8 bytes), or the hex of a generated CKA_ID. */
  key_id: string;
  /** The CKA_ID bytes, hex. */
  cka_id: string;
  mechanism: MechanismCode;
  key_bits: number;
  curve: string;
  force_rw_session: boolean;
  max_parallel: number;
  allow_generate_key: boolean;
  allow_store_key: boolean;
  allow_replace_key: boolean;
  any_mount: boolean;
  usages: string[];
}

/** A managed key as `GET sys/managed-keys/pkcs11/<name>` shows it: everything but the PIN. */
export function describeManagedKey(r: ManagedKeyRecord): Record<string, unknown> {
  const { pin: _pin, cka_id: _id, mechanism, ...rest } = r;
  return { ...rest, mechanism: `0x${mechanism.toString(16).padStart(4, '0')}`, key_bits: r.key_bits ? String(r.key_bits) : '' };
}

export const kindOf = (r: ManagedKeyRecord): KeyKind => MECHANISMS[r.mechanism].kind;

/** One key version on the token (a secret key, or a private/public pair). */
export interface TokenKey {
  label: string;
  /** CKA_ID, hex. */
  id: string;
}

/** PKCS#1 v1.5 DigestInfo of a SHA-256 digest (what CKM_RSA_PKCS signs for the self-test). */
export const digestInfoSha256 = (digest: Buffer) => Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), digest]);

const NAME_RE = /^[a-z0-9][a-z0-9_.-]*$/;

/**
 * Checks and normalises a create/update request into a record (all checks
 * before anything touches the token or storage). `previous` is the stored
 * record on update: unset fields keep their values.
 */
export function buildRecord(
  name: string,
  input: Record<string, unknown>,
  libraries: ReadonlyMap<string, unknown>,
  previous?: ManagedKeyRecord,
): ManagedKeyRecord {
  if (!NAME_RE.test(name)) throw badRequest('"name" must be lowercase letters, digits, "_", "-" or "."');
  const str = (k: string) => (input[k] === undefined || input[k] === null ? undefined : String(input[k]));
  const library = (str('library') ?? previous?.library ?? '').toLowerCase();
  if (!library) throw badRequest('missing required field "library"');
  if (!libraries.has(library)) throw badRequest(`no kms_library "pkcs11" stanza is named "${library.slice(0, 64)}"`);
  const pin = str('pin') ?? previous?.pin ?? '';
  if (!pin) throw badRequest('missing required field "pin"');
  const slot = str('slot') ?? previous?.slot ?? '';
  const tokenLabel = str('token_label') ?? previous?.token_label ?? '';
  if (!slot && !tokenLabel) throw badRequest('one of "slot" or "token_label" must be set');
  if (slot && !/^\d+$/.test(slot)) throw badRequest('"slot" must be a decimal slot id');
  const keyLabel = str('key_label') ?? previous?.key_label ?? '';
  if (!keyLabel) throw badRequest('missing required field "key_label"');
  const mechanismText = str('mechanism') ?? (previous ? String(previous.mechanism) : '');
  if (!mechanismText) throw badRequest('missing required field "mechanism"');
  const mechanism = Number(mechanismText) as MechanismCode;
  if (!Number.isInteger(mechanism) || !(mechanism in MECHANISMS)) {
    throw badRequest('"mechanism" must be one of 0x1087 (CKM_AES_GCM), 0x1041 (CKM_ECDSA), 0x0001 (CKM_RSA_PKCS)');
  }
  const kind = MECHANISMS[mechanism].kind;
  const bitsText = str('key_bits') ?? (previous?.key_bits ? String(previous.key_bits) : '');
  let keyBits = bitsText === '' ? 0 : Number(bitsText);
  let curve = (str('curve') ?? previous?.curve ?? '').toLowerCase().replace(/^(ec)?p-?/, 'p');
  if (kind === 'aes') {
    keyBits ||= 256;
    if (![128, 192, 256].includes(keyBits)) throw badRequest('"key_bits" must be 128, 192 or 256 for CKM_AES_GCM');
    curve = '';
  } else if (kind === 'rsa') {
    keyBits ||= 2048;
    if (![2048, 3072, 4096].includes(keyBits)) throw badRequest('"key_bits" must be 2048, 3072 or 4096 for CKM_RSA_PKCS');
    curve = '';
  } else {
    curve ||= 'p256';
    if (!(curve in CURVES)) throw badRequest('"curve" must be one of P256, P384, P521 for CKM_ECDSA');
    keyBits = 0;
  }
  const bool = (k: string, fallback: boolean): boolean => {
    const v = input[k];
    if (v === undefined || v === null || v === '') return fallback;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw badRequest(`"${k}" must be a boolean`);
  };
  const defaultUsages = kind === 'aes' ? ['encrypt', 'decrypt'] : ['sign', 'verify'];
  const given = input.usages;
  const usages = given === undefined || given === null || given === ''
    ? previous?.usages ?? defaultUsages
    : (Array.isArray(given) ? given.map(String) : String(given).split(',')).map((u) => u.trim().toLowerCase()).filter(Boolean);
  for (const u of usages) if (!(USAGES as readonly string[]).includes(u)) throw badRequest(`"usages" holds an unknown usage "${u.slice(0, 32)}"`);
  const maxText = str('max_parallel') ?? (previous ? String(previous.max_parallel) : '');
  const maxParallel = maxText === '' ? 16 : Number(maxText);
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 1024) throw badRequest('"max_parallel" must be an integer from 1 to 1024');
  const keyId = str('key_id') ?? previous?.key_id ?? '';
  return {
    name,
    type: 'pkcs11',
    uuid: previous?.uuid ?? randomUUID(),
    library,
    slot,
    token_label: tokenLabel,
    pin,
    key_label: keyLabel,
    key_id: keyId,
    cka_id: previous && previous.key_id === keyId ? previous.cka_id : Buffer.from(keyId, 'utf8').toString('hex'),
    mechanism,
    key_bits: keyBits,
    curve: curve ? curve.toUpperCase() : '',
    force_rw_session: bool('force_rw_session', previous?.force_rw_session ?? false),
    max_parallel: maxParallel,
    allow_generate_key: bool('allow_generate_key', previous?.allow_generate_key ?? false),
    allow_store_key: bool('allow_store_key', previous?.allow_store_key ?? false),
    allow_replace_key: bool('allow_replace_key', previous?.allow_replace_key ?? false),
    any_mount: bool('any_mount', previous?.any_mount ?? false),
    usages,
  };
}

const PREFIX = 'core/managed-keys/pkcs11/';

/** The part of the barrier the records need. */
type Barrier = Pick<import('../storage/backend.ts').StorageBackend, 'get' | 'put' | 'delete' | 'list'>;

/**
 * The managed-key registry: the configured libraries (loaded once, at
 * start-up), the stored records, and one HsmConnection per token and PIN.
 */
export class ManagedKeys {
  private readonly modules = new Map<string, Pkcs11Api>();
  private readonly connections = new Map<string, { pending: Promise<HsmConnection>; pinHash: Buffer }>();
  /** Key handles by connection key + label + id; cleared when a connection (re)connects. */
  private readonly handles = new Map<string, Map<string, Buffer>>();
  private readonly records = new Map<string, ManagedKeyRecord>();

  constructor(
    private readonly libraries: readonly KmsLibraryConfig[],
    private readonly logger: Logger,
  ) {}

  /**
   * Loads every configured library: a bad path stops the server, naming
   * the stanza (`kms_library "pkcs11"` with its name, file and line).
   */
  loadLibraries(): void {
    for (const lib of this.libraries) {
      try {
        this.modules.set(lib.name, loadLibrary(lib.library));
      } catch (err) {
        const where = `${lib.source.file}:${lib.source.line}`;
        throw new TresorError(500, `kms_library "pkcs11" (name "${lib.name}", ${where}): ${(err as Error).message.replace(/^pkcs11 seal: /, '')}`);
      }
    }
  }

  get libraryNames(): ReadonlyMap<string, unknown> {
    return this.modules;
  }

  /**
   * The stored record. Every write goes through put/delete here, so records
   * are kept in memory once read (the hot path of a managed-key encrypt
   * reads no storage); seal() forgets them.
   */
  async get(barrier: Barrier, name: string): Promise<ManagedKeyRecord | undefined> {
    const cached = this.records.get(name);
    if (cached) return cached;
    const raw = await barrier.get(PREFIX + name);
    if (!raw) return undefined;
    const record = JSON.parse(raw.toString('utf8')) as ManagedKeyRecord;
    this.records.set(name, record);
    return record;
  }

  /** By name (when both are given, the id must match), else by uuid (a managed_key_id). */
  async find(barrier: Barrier, nameOrId: { name?: string; id?: string }): Promise<ManagedKeyRecord | undefined> {
    if (nameOrId.name) {
      const record = await this.get(barrier, nameOrId.name.toLowerCase());
      return record && (!nameOrId.id || record.uuid === nameOrId.id) ? record : undefined;
    }
    if (!nameOrId.id) return undefined;
    for (const name of await this.list(barrier)) {
      const record = await this.get(barrier, name);
      if (record?.uuid === nameOrId.id) return record;
    }
    return undefined;
  }

  /** Forgets the cached records (on seal: the next unseal reads them again). */
  forgetRecords(): void {
    this.records.clear();
  }

  async list(barrier: Barrier): Promise<string[]> {
    return (await barrier.list(PREFIX)).filter((k) => !k.endsWith('/')).sort();
  }

  async put(barrier: Barrier, record: ManagedKeyRecord): Promise<void> {
    this.records.delete(record.name);
    await barrier.put(PREFIX + record.name, Buffer.from(JSON.stringify(record)));
    this.records.set(record.name, record);
  }

  async delete(barrier: Barrier, name: string): Promise<void> {
    this.records.delete(name);
    await barrier.delete(PREFIX + name);
  }

  /**
   * Makes sure the record's key is on the token: found under key_label (and
   * key_id when set), else generated there when allow_generate_key, else a
   * 400. Returns the record with the CKA_ID it found or made.
   */
  async ensureKey(record: ManagedKeyRecord): Promise<ManagedKeyRecord> {
    let connection: HsmConnection;
    try {
      connection = await this.connection(record);
    } catch (err) {
      // The request's own settings (PIN, slot, token label) are wrong: the client's 400, nothing stored.
      if (err instanceof HsmError && REQUEST_MISTAKES.has(err.ckr)) throw new TresorError(400, err.message);
      throw err;
    }
    const id = Buffer.from(record.cka_id, 'hex');
    const found = await connection.call('C_FindObjects', (session) =>
      findObject(connection.module, session, kindOf(record) === 'aes' ? pkcs11js.CKO_SECRET_KEY : pkcs11js.CKO_PRIVATE_KEY, record.key_label, id.length ? id : undefined),
    );
    if (found) {
      if (id.length) return record;
      const actual = await connection.call('C_GetAttributeValue', (session) =>
        Buffer.from(connection.module.C_GetAttributeValue(session, found, [{ type: pkcs11js.CKA_ID }])[0].value),
      );
      return { ...record, cka_id: actual.toString('hex'), key_id: record.key_id || actual.toString('hex') };
    }
    if (!record.allow_generate_key) {
      throw badRequest(`no key found on the token under key_label "${record.key_label.slice(0, 64)}"${record.key_id ? ' and key_id' : ''}, and allow_generate_key is not set`);
    }
    const key = await this.generate(record, record.key_label, id.length ? id : newKeyId());
    this.logger.info(`managed keys: generated ${MECHANISMS[record.mechanism].name} key "${record.name}" in the token`);
    return { ...record, cka_id: key.id, key_id: record.key_id || key.id };
  }

  /** Generates a new key object (a version) under `label` with CKA_ID `id`: sensitive, non-extractable. */
  async generate(record: ManagedKeyRecord, label: string, id: Buffer = newKeyId()): Promise<TokenKey> {
    const connection = await this.connection(record);
    const ref: KeyRef = { label, id };
    await connection.call('C_GenerateKey', async (session) => {
      const kind = kindOf(record);
      if (kind === 'aes') await generateAesKey(connection.module, session, ref, record.key_bits / 8);
      else if (kind === 'rsa') await generateRsaKeyPair(connection.module, session, ref, { bits: record.key_bits, sign: true });
      else await generateEcKeyPair(connection.module, session, ref, curveOf(record));
    });
    return { label, id: id.toString('hex') };
  }

  /** The record's own key (the one it was registered with). */
  baseKey(record: ManagedKeyRecord): TokenKey {
    return { label: record.key_label, id: record.cka_id };
  }

  async encrypt(record: ManagedKeyRecord, key: TokenKey, iv: Buffer, plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
    return this.withKey(record, key, pkcs11js.CKO_SECRET_KEY, 'C_Encrypt', (m, session, handle) => gcmEncrypt(m, session, handle, iv, plaintext, aad));
  }

  async decrypt(record: ManagedKeyRecord, key: TokenKey, iv: Buffer, sealed: Buffer, aad?: Buffer): Promise<Buffer> {
    return this.withKey(record, key, pkcs11js.CKO_SECRET_KEY, 'C_Decrypt', (m, session, handle) => gcmDecrypt(m, session, handle, iv, sealed, aad));
  }

  /** ECDSA: `input` is the digest, the answer r || s. RSA: `input` is the DigestInfo. */
  async sign(record: ManagedKeyRecord, key: TokenKey, input: Buffer): Promise<Buffer> {
    return this.withKey(record, key, pkcs11js.CKO_PRIVATE_KEY, 'C_Sign', (m, session, handle) =>
      kindOf(record) === 'ec' ? ecdsaSign(m, session, handle, input) : rsaPkcs1Sign(m, session, handle, input),
    );
  }

  async verify(record: ManagedKeyRecord, key: TokenKey, input: Buffer, signature: Buffer): Promise<boolean> {
    const mechanism = kindOf(record) === 'ec' ? pkcs11js.CKM_ECDSA : pkcs11js.CKM_RSA_PKCS;
    return this.withKey(record, key, pkcs11js.CKO_PUBLIC_KEY, 'C_Verify', (m, session, handle) => verifyOnToken(m, session, handle, mechanism, input, signature));
  }

  /** The public half of an asymmetric key version, read from the token. */
  async publicKey(record: ManagedKeyRecord, key: TokenKey): Promise<KeyObject> {
    return this.withKey(record, key, pkcs11js.CKO_PUBLIC_KEY, 'C_GetAttributeValue', (m, session, handle) =>
      kindOf(record) === 'ec' ? exportEcPublicKey(m, session, handle, curveOf(record)) : exportRsaPublicKey(m, session, handle),
    );
  }

  /** Closes every connection (server shutdown). */
  async close(): Promise<void> {
    const all = [...this.connections.values()].map((c) => c.pending);
    this.connections.clear();
    for (const pending of all) {
      const connection = await pending.catch(() => undefined);
      await connection?.close().catch(() => {});
    }
  }

  private async withKey<T>(
    record: ManagedKeyRecord,
    key: TokenKey,
    objectClass: number,
    operation: string,
    fn: (m: Pkcs11Api, session: Buffer, handle: Buffer) => Promise<T> | T,
  ): Promise<T> {
    const connection = await this.connection(record);
    const cacheKey = `${objectClass}|${key.label}|${key.id}`;
    const cache = this.handles.get(connectionKey(record))!;
    return connection.call(operation, async (session) => {
      let handle = cache.get(cacheKey);
      if (!handle) {
        handle = findObject(connection.module, session, objectClass, key.label, Buffer.from(key.id, 'hex'));
        if (!handle) throw new TresorError(500, `managed key "${record.name}": no key object on the token under label "${key.label.slice(0, 64)}" and its id`);
        cache.set(cacheKey, handle);
      }
      return fn(connection.module, session, handle);
    });
  }

  /**
   * One connection (session pool, recovery) per library and token; made on
   * first use. PKCS#11 login state is per application and token, so once
   * one session is logged in, C_Login with any PIN answers
   * CKR_USER_ALREADY_LOGGED_IN: a record naming a logged-in token must
   * therefore carry the PIN that logged it in (compared in constant time),
   * or a wrong PIN would pass.
   */
  private connection(record: ManagedKeyRecord): Promise<HsmConnection> {
    const key = connectionKey(record);
    const pinHash = createHash('sha256').update(record.pin).digest();
    const existing = this.connections.get(key);
    if (existing) {
      if (!timingSafeEqual(existing.pinHash, pinHash)) {
        return Promise.reject(badRequest('the "pin" does not match the PIN this token is logged in with'));
      }
      return existing.pending;
    }
    const module = this.modules.get(record.library);
    if (!module) return Promise.reject(badRequest(`no kms_library "pkcs11" stanza is named "${record.library}"`));
    const cache = new Map<string, Buffer>();
    this.handles.set(key, cache);
    const pending = HsmConnection.connect(module, {
      slotId: record.slot ? BigInt(record.slot) : undefined,
      tokenLabel: record.slot ? undefined : record.token_label,
      pin: record.pin,
      // Key generation needs read-write sessions.
      readWrite: true,
      maxParallel: record.max_parallel,
      logger: { info: (m) => this.logger.info(managedText(m)), warn: (m) => this.logger.warn(managedText(m)), error: (m) => this.logger.error(managedText(m)) },
      sharedLibrary: true,
      // After every (re)connect the old handles are void.
      onConnect: async () => cache.clear(),
      onStateChange: () => {},
    });
    // A failed connect is not kept: the next call tries again (the token may come back).
    pending.catch(() => this.connections.delete(key));
    this.connections.set(key, { pending, pinHash });
    return pending;
  }
}

/** What a failed connect at registration says about the request rather than the HSM. */
const REQUEST_MISTAKES = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_LOCKED', 'CKR_PIN_EXPIRED', 'CKR_SLOT_ID_INVALID', 'CKR_TOKEN_NOT_PRESENT']);

const managedText = (m: string) => m.replace(/^pkcs11 seal:/, 'managed keys:');

/** Connections are shared by records naming the same library and token. */
function connectionKey(r: ManagedKeyRecord): string {
  return `${r.library}|${r.slot}|${r.slot ? '' : r.token_label}`;
}

function curveOf(r: ManagedKeyRecord): keyof typeof EC_CURVE_PARAMS {
  return CURVES[(r.curve.toLowerCase() as Curve)] ?? 'P-256';
}
