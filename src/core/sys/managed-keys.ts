import { createHash, randomBytes } from 'node:crypto';
import { badRequest, notFound } from '../errors.ts';
import { buildRecord, describeManagedKey, digestInfoSha256, kindOf, MECHANISMS, type ManagedKeyRecord } from '../managed-keys.ts';
import type { FieldData, FieldSchemas } from '../../framework/index.ts';
import { authed, noContent, sysData, type SysPath, type SysRequest } from './request.ts';

const TYPE_NAME = {
  type: { type: 'string', description: 'The managed key backend type; Tresor supports "pkcs11".' },
  name: { type: 'string', description: 'The unique lowercase name of the managed key.' },
} as const satisfies FieldSchemas;

/** Vault Enterprise's fields for a pkcs11 managed key. */
const KEY_FIELDS: FieldSchemas = {
  library: { type: 'string', description: 'The name of the kms_library "pkcs11" stanza whose library holds the key.' },
  slot: { type: 'string', description: 'The slot id of the token (decimal); or give token_label.' },
  token_label: { type: 'string', description: 'The label of the token; or give slot.' },
  pin: { type: 'string', description: 'The PIN to log in to the token with. Never returned.', sensitive: true },
  key_label: { type: 'string', description: 'CKA_LABEL of the key object.' },
  key_id: { type: 'string', description: 'CKA_ID of the key object (its UTF-8 bytes); optional.' },
  mechanism: { type: 'string', description: 'The PKCS#11 mechanism: 0x1087 (CKM_AES_GCM), 0x1041 (CKM_ECDSA) or 0x0001 (CKM_RSA_PKCS).' },
  key_bits: { type: 'string', description: 'Key size: 128, 192 or 256 for AES; 2048, 3072 or 4096 for RSA.' },
  curve: { type: 'string', description: 'The curve of an ECDSA key: P256, P384 or P521.' },
  force_rw_session: { type: 'string', description: 'Accepted for compatibility: Tresor always opens read-write sessions.' },
  max_parallel: { type: 'int', description: 'Most HSM calls in flight at once for this token (default 16).' },
  allow_generate_key: { type: 'bool', description: 'Generate the key in the token when none is found under key_label.' },
  allow_store_key: { type: 'bool', description: 'Allow storing key material in the token (recorded; Tresor only generates keys there).' },
  allow_replace_key: { type: 'bool', description: 'Allow replacing the key (recorded; Tresor never replaces token keys).' },
  any_mount: { type: 'bool', description: 'Any mount may use the key, not only those listing it in allowed_managed_keys.' },
  usages: { type: 'comma-string-slice', description: 'What the key may do: encrypt, decrypt, sign, verify, wrap, unwrap, generate_random.' },
  uuid: { type: 'string', description: 'Ignored on write: the key id is made by the server.' },
};

function pkcs11Only(f: FieldData): void {
  const type = f.get<string>('type');
  if (type !== 'pkcs11') throw badRequest(`unsupported managed key type "${type.slice(0, 32)}" (supported: pkcs11)`);
}

async function existing(req: SysRequest, f: FieldData): Promise<ManagedKeyRecord> {
  pkcs11Only(f);
  authed(req);
  const record = await req.core.managedKeys.get(req.core.barrier, f.get<string>('name').toLowerCase());
  if (!record) throw notFound();
  return record;
}

/** Signs and verifies a random message (sign keys), or round-trips one through AES-GCM (encrypt keys), on the token. */
async function selfTest(req: SysRequest, record: ManagedKeyRecord): Promise<void> {
  const keys = req.core.managedKeys;
  const key = keys.baseKey(record);
  const message = randomBytes(32);
  if (kindOf(record) === 'aes') {
    const iv = randomBytes(12);
    const sealed = await keys.encrypt(record, key, iv, message);
    const opened = await keys.decrypt(record, key, iv, sealed);
    if (!opened.equals(message)) throw new Error(`managed key "${record.name}": the AES-GCM round trip returned different bytes`);
    return;
  }
  const digest = createHash('sha256').update(message).digest();
  const input = kindOf(record) === 'ec' ? digest : digestInfoSha256(digest);
  const signature = await keys.sign(record, key, input);
  if (!(await keys.verify(record, key, input, signature))) throw new Error(`managed key "${record.name}": the token did not verify its own signature`);
}

/** sys/managed-keys/<type>[/<name>[/test/sign]] (sudo, as in Vault Enterprise). */
export const managedKeyPaths: SysPath[] = [
  {
    pattern: 'managed-keys/(?<type>[^/]+)/(?<name>[^/]+)/test/sign',
    sudo: true,
    synopsis: 'Test a managed key: sign and verify a random message with it in the HSM.',
    fields: { ...TYPE_NAME, hash_algorithm: { type: 'string', description: 'Accepted for compatibility; Tresor tests with sha2-256.', default: 'sha2-256' } },
    operations: {
      update: async (req, f) => {
        const record = await existing(req, f);
        await selfTest(req, record);
        return noContent();
      },
    },
  },
  {
    pattern: 'managed-keys/(?<type>[^/]+)/(?<name>[^/]+)',
    sudo: true,
    synopsis: 'Create, update, read or delete a managed key.',
    description: 'A managed key lives in a PKCS#11 token of a kms_library stanza and never leaves it. The PIN is stored behind the barrier and never returned.',
    fields: { ...TYPE_NAME, ...KEY_FIELDS },
    operations: {
      read: async (req, f) => sysData(describeManagedKey(await existing(req, f))),
      update: async (req, f) => {
        pkcs11Only(f);
        authed(req);
        const keys = req.core.managedKeys;
        const name = f.get<string>('name');
        const previous = await keys.get(req.core.barrier, name.toLowerCase());
        const input: Record<string, unknown> = {};
        for (const field of Object.keys(KEY_FIELDS)) if (field !== 'uuid') input[field] = f.getOk(field);
        // Every check runs before the token or storage is touched.
        const draft = buildRecord(name, input, keys.libraryNames, previous);
        const record = await keys.ensureKey(draft);
        await keys.put(req.core.barrier, record);
        req.core.logger.info(`managed keys: ${previous ? 'updated' : 'created'} pkcs11 key "${record.name}" (${MECHANISMS[record.mechanism].name})`);
        return noContent();
      },
      delete: async (req, f) => {
        pkcs11Only(f);
        authed(req);
        // The key object stays on the token: deleting the record only forgets it, as in Vault.
        await req.core.managedKeys.delete(req.core.barrier, f.get<string>('name').toLowerCase());
        return noContent();
      },
    },
  },
  {
    pattern: 'managed-keys/(?<type>[^/]+)/?',
    sudo: true,
    synopsis: 'List the managed keys of a type.',
    fields: { type: TYPE_NAME.type },
    operations: {
      list: async (req, f) => {
        pkcs11Only(f);
        authed(req);
        return sysData({ keys: await req.core.managedKeys.list(req.core.barrier) });
      },
    },
  },
];
