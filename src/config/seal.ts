/**
 * `seal "pkcs11" { ... }` and `seal "shamir" { ... }` stanzas, and the
 * VAULT_HSM_* / VAULT_SEAL_TYPE environment variables that override them.
 */
import { BodyReader, parseBoolean, type DecodedBlock } from './hcl.ts';
import { ConfigError } from './errors.ts';
import type { ConfigSource, Pkcs11SealConfig, SealConfig, ShamirSealConfig } from './types.ts';

type FieldType = 'string' | 'bool' | 'int';
type Pkcs11Prop = Exclude<keyof Pkcs11SealConfig, 'type' | 'disabled' | 'source'>;

interface Pkcs11Field {
  key: string;
  env: string;
  prop: Pkcs11Prop;
  type: FieldType;
}

/** Stanza key, environment override and TS field for every pkcs11 option. */
const PKCS11_FIELDS: readonly Pkcs11Field[] = [
  { key: 'lib', env: 'VAULT_HSM_LIB', prop: 'lib', type: 'string' },
  { key: 'slot', env: 'VAULT_HSM_SLOT', prop: 'slot', type: 'string' },
  { key: 'token_label', env: 'VAULT_HSM_TOKEN_LABEL', prop: 'tokenLabel', type: 'string' },
  { key: 'pin', env: 'VAULT_HSM_PIN', prop: 'pin', type: 'string' },
  { key: 'key_label', env: 'VAULT_HSM_KEY_LABEL', prop: 'keyLabel', type: 'string' },
  { key: 'key_id', env: 'VAULT_HSM_KEY_ID', prop: 'keyId', type: 'string' },
  { key: 'hmac_key_label', env: 'VAULT_HSM_HMAC_KEY_LABEL', prop: 'hmacKeyLabel', type: 'string' },
  { key: 'hmac_key_id', env: 'VAULT_HSM_HMAC_KEY_ID', prop: 'hmacKeyId', type: 'string' },
  { key: 'mechanism', env: 'VAULT_HSM_MECHANISM', prop: 'mechanism', type: 'string' },
  { key: 'hmac_mechanism', env: 'VAULT_HSM_HMAC_MECHANISM', prop: 'hmacMechanism', type: 'string' },
  { key: 'generate_key', env: 'VAULT_HSM_GENERATE_KEY', prop: 'generateKey', type: 'bool' },
  { key: 'force_rw_session', env: 'VAULT_HSM_FORCE_RW_SESSION', prop: 'forceRwSession', type: 'bool' },
  { key: 'rsa_encrypt_local', env: 'VAULT_HSM_RSA_ENCRYPT_LOCAL', prop: 'rsaEncryptLocal', type: 'bool' },
  { key: 'rsa_oaep_hash', env: 'VAULT_HSM_RSA_OAEP_HASH', prop: 'rsaOaepHash', type: 'string' },
  { key: 'max_parallel', env: 'VAULT_HSM_MAX_PARALLEL', prop: 'maxParallel', type: 'int' },
];

const OAEP_HASHES = new Set(['sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

/** A pkcs11 stanza before environment overrides, defaults and checks. */
export type Pkcs11Draft = Partial<Pkcs11SealConfig> & { type: 'pkcs11'; disabled: boolean; source?: ConfigSource };
export type SealDraft = Pkcs11Draft | ShamirSealConfig;

/** Reads one `seal "<type>"` block (throws HclDecodeError). */
export function readSealBlock(block: DecodedBlock, source: ConfigSource): SealDraft {
  const type = block.labels[0];
  const reader = new BodyReader(block.body, `seal "${type}"`, block);
  if (type === 'shamir') {
    reader.allowOnly(['disabled']);
    return { type, disabled: reader.bool('disabled') ?? false, source };
  }
  if (type !== 'pkcs11') throw reader.error(`unsupported seal type "${type}" (supported: pkcs11, shamir)`);
  reader.allowOnly(['disabled', ...PKCS11_FIELDS.map((f) => f.key)]);
  const draft: Pkcs11Draft = { type, disabled: reader.bool('disabled') ?? false, source };
  const target = draft as Record<string, unknown>;
  for (const field of PKCS11_FIELDS) {
    const value = field.type === 'bool' ? reader.bool(field.key) : field.type === 'int' ? reader.integer(field.key) : reader.string(field.key);
    if (value !== undefined) target[field.prop] = value;
  }
  return draft;
}

/**
 * Applies VAULT_HSM_* overrides to every pkcs11 seal, and adds one when
 * VAULT_SEAL_TYPE (or the older VAULT_HSM_TYPE) is "pkcs11" and VAULT_HSM_LIB
 * is set but no stanza exists.
 */
export function applySealEnvironment(seals: SealDraft[], env: NodeJS.ProcessEnv): SealDraft[] {
  // VAULT_HSM_TYPE is the older spelling of VAULT_SEAL_TYPE in Vault's docs.
  const typeVariable = env.VAULT_SEAL_TYPE ? 'VAULT_SEAL_TYPE' : 'VAULT_HSM_TYPE';
  const sealType = env[typeVariable]?.trim();
  if (sealType && sealType !== 'pkcs11' && sealType !== 'shamir') {
    throw new ConfigError(`environment variable ${typeVariable} must be "pkcs11" or "shamir"`);
  }
  const result = [...seals];
  if (sealType === 'pkcs11' && env.VAULT_HSM_LIB && !result.some((s) => s.type === 'pkcs11')) {
    result.push({ type: 'pkcs11', disabled: false });
  }
  const overrides = readEnvironmentOverrides(env);
  return result.map((seal) => (seal.type === 'pkcs11' ? { ...seal, ...overrides } : seal));
}

function readEnvironmentOverrides(env: NodeJS.ProcessEnv): Partial<Pkcs11SealConfig> {
  const overrides: Record<string, unknown> = {};
  for (const field of PKCS11_FIELDS) {
    const raw = env[field.env];
    if (raw === undefined || raw === '') continue;
    if (field.type === 'string') {
      overrides[field.prop] = raw;
    } else if (field.type === 'bool') {
      const parsed = parseBoolean(raw.trim());
      if (parsed === undefined) throw new ConfigError(`environment variable ${field.env} must be a boolean`);
      overrides[field.prop] = parsed;
    } else {
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`environment variable ${field.env} must be a non-negative integer`);
      overrides[field.prop] = Number(raw.trim());
    }
  }
  return overrides as Partial<Pkcs11SealConfig>;
}

/** Fills defaults and checks required pkcs11 options (after env overrides). */
export function finishSeal(draft: SealDraft): SealConfig {
  if (draft.type === 'shamir') return draft;
  const fail = (message: string): never => {
    const where = draft.source ? 'seal "pkcs11"' : 'seal "pkcs11" (from environment)';
    throw new ConfigError(`${where}: ${message}`, draft.source?.file, draft.source?.line);
  };
  const required = (key: string, value: string | undefined): string => value ?? fail(`missing required key "${key}"`);
  if (draft.slot === undefined && draft.tokenLabel === undefined) fail('missing required key "slot" (or "token_label")');
  if (draft.slot !== undefined && !/^(\d+|0[xX][0-9A-Fa-f]+)$/.test(draft.slot.trim())) fail('key "slot" must be a decimal or 0x-hex number');
  const rsaOaepHash = (draft.rsaOaepHash ?? 'sha256').toLowerCase();
  if (!OAEP_HASHES.has(rsaOaepHash)) fail('key "rsa_oaep_hash" must be one of sha1, sha224, sha256, sha384, sha512');
  const maxParallel = draft.maxParallel ?? 1;
  if (maxParallel < 1) fail('key "max_parallel" must be at least 1');
  return {
    ...draft,
    lib: required('lib', draft.lib),
    pin: required('pin', draft.pin),
    keyLabel: required('key_label', draft.keyLabel),
    generateKey: draft.generateKey ?? false,
    forceRwSession: draft.forceRwSession ?? false,
    rsaEncryptLocal: draft.rsaEncryptLocal ?? false,
    rsaOaepHash,
    maxParallel,
  };
}

/** Checks the seal list: at most two, and two only for a migration. */
export function checkSealSet(seals: SealConfig[]): void {
  const at = (seal: SealConfig) => [seal.source?.file, seal.source?.line] as const;
  if (seals.length > 2) throw new ConfigError('at most two seal stanzas are allowed (two only for a seal migration)', ...at(seals[2]));
  if (seals.length === 2 && seals.filter((s) => s.disabled).length !== 1) {
    throw new ConfigError('with two seal stanzas exactly one must have disabled = "true" (seal migration)', ...at(seals[1]));
  }
}
