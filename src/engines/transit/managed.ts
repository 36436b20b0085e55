/**
 * Transit keys of `type=managed_key`: each version is a key object in the
 * token of a managed key (sys/managed-keys), used through the core's
 * ManagedKeys (the seal's session pool, max_parallel cap and recovery).
 * Version 1 is the managed key's own object; a rotation generates a new one
 * in the token under "<key_label>-v<N>" with a fresh CKA_ID. Encrypt and
 * decrypt are AES-GCM in the token (ciphertext "vault:v<N>:" + base64 of
 * nonce || ciphertext || tag, as for aes256-gcm96); sign and verify are
 * CKM_ECDSA (asn1 or jws) or CKM_RSA_PKCS (pkcs1v15) in the token. Nothing of
 * the key ever leaves it, so export and backup are refused.
 *
 * The records live beside the ordinary ones (under "managed-policy/"); the
 * engine's handlers are wrapped so a name that is a managed key goes here
 * (a Set lookup, so ordinary keys pay nothing).
 */
import { createHash, randomBytes } from 'node:crypto';
import { badRequest, quoted, TresorError } from '../../core/errors.ts';
import { HsmError } from '../../seal/pkcs11/errors.ts';
import { kindOf, MECHANISMS, type ManagedKeyRecord, type TokenKey } from '../../core/managed-keys.ts';
import { genericName, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import type { StoreFor } from './key-store.ts';
import type { LogicalRequest, LogicalResponse, LogicalStorage, ManagedKeyAccess } from '../types.ts';
import { bigFromBytes, bigToBytes } from './ecdsa-digest.ts';
import { base64Bytes } from './fields.ts';
import { HASHES } from './hash.ts';
import { decodeDerSignature, DIGEST_INFO_PREFIX, encodeDerSignature } from './signature.ts';

const PREFIX = 'managed-policy/';

interface ManagedTransitKey {
  name: string;
  type: 'managed_key';
  managed_key_name: string;
  managed_key_id: string;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  deletion_allowed: boolean;
  versions: Record<string, TokenKey & { creation_time: string }>;
}

/** One per mount storage: the names of its managed transit keys, and the records. */
class ManagedTransitStore {
  private names?: Set<string>;
  private readonly records = new Map<string, ManagedTransitKey>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly storage: LogicalStorage) {}

  /** Whether `name` is a managed key (the list is read once per mount, then kept). */
  async has(name: string): Promise<boolean> {
    this.names ??= new Set((await this.storage.list(PREFIX)).filter((k) => !k.endsWith('/')));
    return this.names.has(name);
  }

  async list(): Promise<string[]> {
    await this.has('');
    return [...this.names!];
  }

  async get(name: string): Promise<ManagedTransitKey | undefined> {
    if (!(await this.has(name))) return undefined;
    let record = this.records.get(name);
    if (!record) {
      const raw = await this.storage.get(PREFIX + name);
      if (!raw) return undefined;
      record = JSON.parse(raw.toString('utf8')) as ManagedTransitKey;
      this.records.set(name, record);
    }
    return record;
  }

  /** Runs changes one at a time (rotate, config, create). */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  async put(record: ManagedTransitKey): Promise<void> {
    await this.storage.put(PREFIX + record.name, Buffer.from(JSON.stringify(record)));
    await this.has(record.name);
    this.names!.add(record.name);
    this.records.set(record.name, record);
  }

  async delete(name: string): Promise<void> {
    await this.storage.delete(PREFIX + name);
    this.names?.delete(name);
    this.records.delete(name);
  }
}

const stores = new WeakMap<LogicalStorage, ManagedTransitStore>();
function storeOf(req: Pick<LogicalRequest, 'storage'>): ManagedTransitStore {
  let store = stores.get(req.storage);
  if (!store) {
    store = new ManagedTransitStore(req.storage);
    stores.set(req.storage, store);
  }
  return store;
}

function access(req: LogicalRequest): ManagedKeyAccess {
  if (!req.managedKeys) throw badRequest('managed keys are not available on this mount');
  return req.managedKeys;
}

/** The managed key behind a transit key, checked again at each use (it may have been deleted or the mount untuned). */
async function managedKeyOf(req: LogicalRequest, key: ManagedTransitKey): Promise<ManagedKeyRecord> {
  // By name, checked against the id: a managed key deleted and made again under the name is not this one.
  return access(req).resolve({ name: key.managed_key_name, id: key.managed_key_id });
}

function requireUsage(record: ManagedKeyRecord, usage: string): void {
  if (!record.usages.includes(usage)) throw badRequest(`managed key "${record.name}" does not allow "${usage}" (see its usages)`);
}

const supportsEncryption = (r: ManagedKeyRecord) => kindOf(r) === 'aes';

async function describe(req: LogicalRequest, key: ManagedTransitKey): Promise<LogicalResponse> {
  const record = await managedKeyOf(req, key).catch(() => undefined);
  const kind = record ? kindOf(record) : undefined;
  const keys: Record<string, unknown> = {};
  for (const [version, entry] of Object.entries(key.versions)) {
    if (record && kind !== 'aes') {
      const publicKey = await access(req).hsm.publicKey(record, entry);
      keys[version] = {
        name: kind === 'ec' ? record.curve.replace(/^P/, 'P-') : `rsa-${record.key_bits}`,
        public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        creation_time: entry.creation_time,
      };
    } else {
      keys[version] = Math.floor(Date.parse(entry.creation_time) / 1000);
    }
  }
  return {
    data: {
      name: key.name,
      type: 'managed_key',
      managed_key_name: key.managed_key_name,
      managed_key_id: key.managed_key_id,
      keys,
      latest_version: key.latest_version,
      min_available_version: 0,
      min_decryption_version: key.min_decryption_version,
      min_encryption_version: key.min_encryption_version,
      deletion_allowed: key.deletion_allowed,
      derived: false,
      exportable: false,
      allow_plaintext_backup: false,
      auto_rotate_period: 0,
      imported_key: false,
      supports_encryption: record ? supportsEncryption(record) : false,
      supports_decryption: record ? supportsEncryption(record) : false,
      supports_derivation: false,
      supports_signing: record ? !supportsEncryption(record) : false,
    },
  };
}

export const MANAGED_KEY_FIELDS: FieldSchemas = {
  managed_key_name: { type: 'string', description: 'With type=managed_key: the name of the managed key (sys/managed-keys) whose token holds the key.' },
  managed_key_id: { type: 'string', description: 'With type=managed_key: the id (uuid) of the managed key, instead of its name.' },
};

async function create(req: LogicalRequest, f: FieldData, ordinaryExists: () => Promise<boolean>): Promise<LogicalResponse> {
  const name = f.get<string>('name');
  const store = storeOf(req);
  if (await ordinaryExists()) throw badRequest(`key ${name} already exists and is not a managed key`);
  for (const field of ['derived', 'convergent_encryption', 'exportable', 'allow_plaintext_backup'] as const) {
    if (f.get<boolean>(field)) throw badRequest(`${field} is not supported for managed keys`);
  }
  const ref = { name: f.getOk<string>('managed_key_name') || undefined, id: f.getOk<string>('managed_key_id') || undefined };
  if (!ref.name && !ref.id) throw badRequest('missing managed key name or id');
  const record = await access(req).resolve(ref);
  return store.serial(async () => {
    const key: ManagedTransitKey = {
      name,
      type: 'managed_key',
      managed_key_name: record.name,
      managed_key_id: record.uuid,
      latest_version: 1,
      min_decryption_version: 1,
      min_encryption_version: 0,
      deletion_allowed: false,
      versions: { '1': { ...access(req).hsm.baseKey(record), creation_time: new Date().toISOString() } },
    };
    await store.put(key);
    return describe(req, key);
  });
}

async function rotate(req: LogicalRequest, key: ManagedTransitKey): Promise<LogicalResponse> {
  const record = await managedKeyOf(req, key);
  if (!record.allow_generate_key) throw badRequest(`managed key "${record.name}" does not allow generating keys (allow_generate_key), so it cannot be rotated`);
  const store = storeOf(req);
  return store.serial(async () => {
    const current = (await store.get(key.name))!;
    const version = current.latest_version + 1;
    const made = await access(req).hsm.generate(record, `${record.key_label}-v${version}`);
    const next: ManagedTransitKey = {
      ...current,
      latest_version: version,
      versions: { ...current.versions, [version]: { ...made, creation_time: new Date().toISOString() } },
    };
    await store.put(next);
    return describe(req, next);
  });
}

async function configure(req: LogicalRequest, f: FieldData, key: ManagedTransitKey): Promise<LogicalResponse> {
  const store = storeOf(req);
  return store.serial(async () => {
    const next = { ...(await store.get(key.name))! };
    const minDecryption = f.getOk<number>('min_decryption_version');
    if (minDecryption !== undefined) {
      if (minDecryption < 0) throw badRequest('min decryption version cannot be negative');
      if (minDecryption > next.latest_version) throw badRequest(`cannot set min decryption version of ${minDecryption}, latest key version is ${next.latest_version}`);
      next.min_decryption_version = Math.max(1, minDecryption);
    }
    const minEncryption = f.getOk<number>('min_encryption_version');
    if (minEncryption !== undefined) {
      if (minEncryption < 0) throw badRequest('min encryption version cannot be negative');
      if (minEncryption > next.latest_version) throw badRequest(`cannot set min encryption version of ${minEncryption}, latest key version is ${next.latest_version}`);
      next.min_encryption_version = minEncryption;
    }
    const deletion = f.getOk<boolean>('deletion_allowed');
    if (deletion !== undefined) next.deletion_allowed = deletion;
    if (f.getOk<boolean>('exportable') === true) throw badRequest('managed keys cannot be made exportable');
    await store.put(next);
    return describe(req, next);
  });
}

function encryptionVersion(key: ManagedTransitKey, asked: number): number {
  if (asked < 0) throw badRequest('requested version for encryption is negative');
  if (asked === 0) return key.latest_version;
  if (asked > key.latest_version) throw badRequest('requested version for encryption is higher than the latest key version');
  if (key.min_encryption_version > 0 && asked < key.min_encryption_version) throw badRequest('requested version for encryption is less than the minimum encryption key version');
  return asked;
}

function refuseUnsupported(f: FieldData, fields: string[]): void {
  for (const field of fields) {
    const value = f.getOk(field);
    if (value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)) throw badRequest(`"${field}" is not supported for managed keys`);
  }
}

/** Splits "vault:v<N>:<base64>" (Vault's texts for a bad prefix). */
function parseEnvelope(text: string, key: ManagedTransitKey, what: 'ciphertext' | 'signature'): { version: number; body: Buffer } {
  if (!text.startsWith('vault:v')) throw badRequest(what === 'ciphertext' ? 'invalid ciphertext: no prefix' : 'invalid signature: no prefix');
  const rest = text.slice('vault:v'.length);
  const colon = rest.indexOf(':');
  const version = colon > 0 ? Number(rest.slice(0, colon)) : NaN;
  if (!Number.isInteger(version) || version < 1) throw badRequest(`invalid ${what}: wrong number of fields`);
  if (version < key.min_decryption_version) throw badRequest(`ciphertext or signature version is disallowed by policy (too old)`);
  if (!key.versions[version]) throw badRequest(`invalid ${what}: key version not found`);
  let body: Buffer;
  try {
    body = base64Bytes(rest.slice(colon + 1));
  } catch {
    throw badRequest(`invalid ${what}: could not decode`);
  }
  return { version, body };
}

async function encrypt(req: LogicalRequest, f: FieldData, key: ManagedTransitKey): Promise<LogicalResponse> {
  refuseUnsupported(f, ['batch_input', 'context', 'nonce']);
  const record = await managedKeyOf(req, key);
  if (!supportsEncryption(record)) throw badRequest(`managed key "${record.name}" (${MECHANISMS[record.mechanism].name}) does not support encryption`);
  requireUsage(record, 'encrypt');
  const raw = f.getOk<string>('plaintext');
  if (raw === undefined) throw badRequest('missing plaintext to encrypt');
  const plaintext = base64Bytes(raw);
  const aadText = f.getOk<string>('associated_data');
  const aad = aadText ? base64Bytes(aadText) : undefined;
  const version = encryptionVersion(key, f.get<number>('key_version'));
  const nonce = randomBytes(12);
  const sealed = await access(req).hsm.encrypt(record, key.versions[version], nonce, plaintext, aad);
  return { data: { ciphertext: `vault:v${version}:${Buffer.concat([nonce, sealed]).toString('base64')}`, key_version: version } };
}

const BAD_TAG_CODES = new Set(['CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_GENERAL_ERROR']);

async function decrypt(req: LogicalRequest, f: FieldData, key: ManagedTransitKey): Promise<LogicalResponse> {
  refuseUnsupported(f, ['batch_input', 'context', 'nonce']);
  const record = await managedKeyOf(req, key);
  if (!supportsEncryption(record)) throw badRequest(`managed key "${record.name}" (${MECHANISMS[record.mechanism].name}) does not support decryption`);
  requireUsage(record, 'decrypt');
  const text = f.getOk<string>('ciphertext');
  if (!text) throw badRequest('missing ciphertext to decrypt');
  const { version, body } = parseEnvelope(text, key, 'ciphertext');
  if (body.length < 12 + 16) throw badRequest('invalid ciphertext: unable to decrypt');
  const aadText = f.getOk<string>('associated_data');
  const aad = aadText ? base64Bytes(aadText) : undefined;
  let plaintext: Buffer;
  try {
    plaintext = await access(req).hsm.decrypt(record, key.versions[version], body.subarray(0, 12), body.subarray(12), aad);
  } catch (err) {
    // A bad tag is the client's ciphertext, not the HSM failing. SoftHSM 2.6
    // answers a GCM tag mismatch with CKR_GENERAL_ERROR (its OpenSSL call
    // failing); the spec's code is CKR_ENCRYPTED_DATA_INVALID.
    if (err instanceof HsmError && BAD_TAG_CODES.has(err.ckr)) {
      throw badRequest('cipher: message authentication failed');
    }
    throw err;
  }
  return { data: { plaintext: plaintext.toString('base64') } };
}

interface SignInput {
  record: ManagedKeyRecord;
  digest: Buffer;
  /** What the token signs: the digest (ECDSA) or its DigestInfo (RSA). */
  tokenInput: Buffer;
  marshaling: 'asn1' | 'jws';
}

function signInput(f: FieldData, record: ManagedKeyRecord): SignInput {
  refuseUnsupported(f, ['batch_input', 'context']);
  if (supportsEncryption(record)) throw badRequest(`managed key "${record.name}" (CKM_AES_GCM) does not support signing`);
  const hashName = f.getOk<string>('urlalgorithm') || f.getOk<string>('hash_algorithm') || f.getOk<string>('algorithm') || 'sha2-256';
  const hash = HASHES.get(hashName);
  if (!hash || !DIGEST_INFO_PREFIX[hash]) throw badRequest(`invalid hash algorithm "${quoted(hashName)}"`);
  const marshaling = f.get<string>('marshaling_algorithm');
  if (marshaling !== 'asn1' && marshaling !== 'jws') throw badRequest(`invalid marshaling type "${quoted(marshaling)}"`);
  const algorithm = f.get<string>('signature_algorithm');
  if (kindOf(record) === 'rsa' && algorithm !== '' && algorithm !== 'pkcs1v15') {
    throw badRequest('managed RSA keys sign with CKM_RSA_PKCS: signature_algorithm must be "pkcs1v15"');
  }
  const raw = f.getOk<string>('input') ?? '';
  const input = base64Bytes(raw);
  const digest = f.get<boolean>('prehashed') ? input : createHash(hash).update(input).digest();
  const tokenInput = kindOf(record) === 'ec' ? digest : Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], 'hex'), digest]);
  return { record, digest, tokenInput, marshaling };
}

const curveBytes = (r: ManagedKeyRecord) => ({ P256: 32, P384: 48, P521: 66 })[r.curve] ?? 32;

async function sign(req: LogicalRequest, f: FieldData, key: ManagedTransitKey): Promise<LogicalResponse> {
  const record = await managedKeyOf(req, key);
  const args = signInput(f, record);
  requireUsage(record, 'sign');
  const version = encryptionVersion(key, f.get<number>('key_version'));
  let signature = await access(req).hsm.sign(record, key.versions[version], args.tokenInput);
  if (kindOf(record) === 'ec' && args.marshaling === 'asn1') {
    const half = signature.length / 2;
    signature = encodeDerSignature(bigFromBytes(signature.subarray(0, half)), bigFromBytes(signature.subarray(half)));
  }
  const encoded = args.marshaling === 'jws' ? signature.toString('base64url') : signature.toString('base64');
  return { data: { signature: `vault:v${version}:${encoded}`, key_version: version } };
}

async function verify(req: LogicalRequest, f: FieldData, key: ManagedTransitKey): Promise<LogicalResponse> {
  const record = await managedKeyOf(req, key);
  const args = signInput(f, record);
  requireUsage(record, 'verify');
  const text = f.getOk<string>('signature');
  if (!text) throw badRequest('missing signature');
  const prefix = /^vault:v(\d+):/.exec(text);
  if (!prefix) throw badRequest('invalid signature: no prefix');
  const version = Number(prefix[1]);
  if (version < key.min_decryption_version) throw badRequest('ciphertext or signature version is disallowed by policy (too old)');
  if (!key.versions[version]) throw badRequest('invalid signature: key version not found');
  const body = text.slice(prefix[0].length);
  let signature = args.marshaling === 'jws' ? Buffer.from(body, 'base64url') : base64Bytes(body);
  if (kindOf(record) === 'ec' && args.marshaling === 'asn1') {
    const { r, s } = decodeDerSignature(signature);
    const size = curveBytes(record);
    if (r <= 0n || s <= 0n || r.toString(16).length > size * 2 || s.toString(16).length > size * 2) return { data: { valid: false } };
    signature = Buffer.concat([bigToBytes(r, size), bigToBytes(s, size)]);
  }
  const valid = await access(req).hsm.verify(record, key.versions[version], args.tokenInput, signature);
  return { data: { valid } };
}

type Handler = (req: LogicalRequest, f: FieldData) => Promise<LogicalResponse>;
type Op = NonNullable<PathDeclaration<LogicalRequest>['operations']['update']>;

function replaceHandler(op: Op | undefined, wrap: (original: Handler) => Handler): Op | undefined {
  if (!op) return undefined;
  if (typeof op === 'function') return wrap(op as Handler);
  return { ...op, handler: wrap(op.handler as Handler) };
}

/** Runs `managed` when the request's `name` is a managed transit key, else the ordinary handler. */
const route = (managed: (req: LogicalRequest, f: FieldData, key: ManagedTransitKey) => Promise<LogicalResponse>) =>
  (original: Handler): Handler =>
    async (req, f) => {
      const store = storeOf(req);
      const name = f.get<string>('name');
      if (!(await store.has(name))) return original(req, f);
      return managed(req, f, (await store.get(name))!);
    };

const refuse = (message: string) => route(async () => {
  throw badRequest(message);
});

/**
 * Puts managed keys in front of the engine's declared paths: the same
 * patterns and fields (plus managed_key_name/managed_key_id on keys/<name>).
 */
export function withManagedKeys(paths: PathDeclaration<LogicalRequest>[], storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  return paths.map((decl) => {
    const p = decl.pattern;
    const ops = { ...decl.operations };
    const on = (verb: keyof typeof ops, wrap: (original: Handler) => Handler) => {
      ops[verb] = replaceHandler(ops[verb] as Op | undefined, wrap) as never;
    };
    if (p === 'keys/?') {
      on('list', (original) => async (req, f) => {
        const managed = await storeOf(req).list();
        if (managed.length === 0) return original(req, f);
        // No ordinary key: the ordinary list is a 404, but the managed ones are there.
        const ordinary = await original(req, f).catch((err) => {
          if (err instanceof TresorError && err.status === 404) return { data: { keys: [] as string[] } };
          throw err;
        });
        let keys = [...new Set([...((ordinary.data?.keys as string[]) ?? []), ...managed])].sort();
        const after = f.get<string>('after');
        if (after) keys = keys.filter((k) => k > after);
        const limit = f.get<number>('limit');
        if (limit > 0) keys = keys.slice(0, limit);
        if (keys.length === 0) return original(req, f);
        return { ...ordinary, data: { ...ordinary.data, keys } };
      });
    } else if (p === `keys/${genericName('name')}`) {
      on('read', route((req, _f, key) => describe(req, key)));
      on('update', (original) => async (req, f) => {
        const store = storeOf(req);
        const name = f.get<string>('name');
        if (await store.has(name)) return { ...(await describe(req, (await store.get(name))!)), warnings: [`key ${name} already existed`] };
        if (f.get<string>('type') === 'managed_key') return create(req, f, async () => (await storeFor(req).get(name)) !== undefined);
        return original(req, f);
      });
      on('delete', route(async (req, f, key) => {
        if (!key.deletion_allowed) throw badRequest(`error deleting policy ${key.name}: deletion is not allowed for this key`);
        await storeOf(req).delete(key.name);
        return { status: 204 };
      }));
      return { ...decl, fields: { ...decl.fields, ...MANAGED_KEY_FIELDS }, operations: ops };
    } else if (p.startsWith('keys/') && p.endsWith('/rotate')) {
      on('update', route((req, _f, key) => rotate(req, key)));
    } else if (p.startsWith('keys/') && p.endsWith('/config')) {
      on('update', route(configure));
    } else if (p.startsWith('keys/') && p.endsWith('/trim')) {
      on('update', refuse('trim is not supported for managed keys'));
    } else if (p.startsWith('encrypt/')) {
      on('create', route(encrypt));
      on('update', route(encrypt));
      const check = decl.existenceCheck;
      if (check) return { ...decl, operations: ops, existenceCheck: async (req, f) => (await storeOf(req).has(f.get('name'))) || check(req, f) };
    } else if (p.startsWith('decrypt/')) {
      on('update', route(decrypt));
    } else if (p.startsWith('sign/')) {
      on('update', route(sign));
    } else if (p.startsWith('verify/')) {
      on('update', route(async (req, f, key) => {
        if (f.getOk('hmac')) throw badRequest('managed keys do not compute HMACs');
        return verify(req, f, key);
      }));
    } else if (p.startsWith('export/')) {
      on('read', refuse('managed keys cannot be exported: their material never leaves the HSM'));
    } else if (p.startsWith('backup/')) {
      on('read', refuse('managed keys cannot be backed up: their material never leaves the HSM'));
    } else if (p.startsWith('rewrap/') || p.startsWith('hmac/') || p.startsWith('datakey/')) {
      for (const verb of ['create', 'update'] as const) on(verb, refuse(`${p.split('/')[0]} is not supported for managed keys`));
    }
    return { ...decl, operations: ops };
  });
}
