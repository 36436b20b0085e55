/**
 * `seal "pkcs11" { ... }` and `seal "shamir" { ... }` stanzas, and the
 * VAULT_HSM_* / VAULT_SEAL_TYPE environment variables that override them.
 */
import { BodyReader, parseBoolean, type DecodedBlock } from './hcl.ts';
import { ConfigError } from './errors.ts';
import type { ConfigSource, Pkcs11SealConfig, SealConfig, ShamirSealConfig, TransitSealConfig } from './types.ts';

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
export type TransitDraft = Partial<TransitSealConfig> & { type: 'transit'; disabled: boolean; source?: ConfigSource };
export type SealDraft = Pkcs11Draft | TransitDraft | ShamirSealConfig;

type TransitProp = Exclude<keyof TransitSealConfig, 'type' | 'disabled' | 'source'>;
interface TransitField {
  key: string;
  env: string;
  prop: TransitProp;
  type: 'string' | 'bool';
  /** True: the environment variable wins over the stanza (Vault's VAULT_TRANSIT_SEAL_*); false: it only fills a missing key. */
  envWins: boolean;
}

/**
 * Stanza key and environment variable for every transit option. As in
 * Vault, VAULT_TRANSIT_SEAL_* and VAULT_NAMESPACE override the stanza; the
 * general client variables (VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT, ...) are
 * used when the stanza leaves the key out.
 */
const TRANSIT_FIELDS: readonly TransitField[] = [
  { key: 'address', env: 'VAULT_ADDR', prop: 'address', type: 'string', envWins: false },
  { key: 'token', env: 'VAULT_TOKEN', prop: 'token', type: 'string', envWins: false },
  { key: 'key_name', env: 'VAULT_TRANSIT_SEAL_KEY_NAME', prop: 'keyName', type: 'string', envWins: true },
  { key: 'mount_path', env: 'VAULT_TRANSIT_SEAL_MOUNT_PATH', prop: 'mountPath', type: 'string', envWins: true },
  { key: 'namespace', env: 'VAULT_NAMESPACE', prop: 'namespace', type: 'string', envWins: true },
  { key: 'key_id_prefix', env: 'VAULT_TRANSIT_SEAL_KEY_ID_PREFIX', prop: 'keyIdPrefix', type: 'string', envWins: true },
  { key: 'disable_renewal', env: 'VAULT_TRANSIT_SEAL_DISABLE_RENEWAL', prop: 'disableRenewal', type: 'bool', envWins: true },
  { key: 'tls_ca_cert', env: 'VAULT_CACERT', prop: 'tlsCaCert', type: 'string', envWins: false },
  { key: 'tls_client_cert', env: 'VAULT_CLIENT_CERT', prop: 'tlsClientCert', type: 'string', envWins: false },
  { key: 'tls_client_key', env: 'VAULT_CLIENT_KEY', prop: 'tlsClientKey', type: 'string', envWins: false },
  { key: 'tls_server_name', env: 'VAULT_TLS_SERVER_NAME', prop: 'tlsServerName', type: 'string', envWins: false },
  { key: 'tls_skip_verify', env: 'VAULT_SKIP_VERIFY', prop: 'tlsSkipVerify', type: 'bool', envWins: false },
];

/** Reads one `seal "<type>"` block (throws HclDecodeError). */
export function readSealBlock(block: DecodedBlock, source: ConfigSource): SealDraft {
  const type = block.labels[0];
  const reader = new BodyReader(block.body, `seal "${type}"`, block);
  if (type === 'shamir') {
    reader.allowOnly(['disabled']);
    return { type, disabled: reader.bool('disabled') ?? false, source };
  }
  if (type === 'transit') {
    reader.allowOnly(['disabled', 'name', 'priority', ...TRANSIT_FIELDS.map((f) => f.key)]);
    const draft: TransitDraft = { type, disabled: reader.bool('disabled') ?? false, source, ...readIdentity(reader) };
    const target = draft as Record<string, unknown>;
    for (const field of TRANSIT_FIELDS) {
      const value = field.type === 'bool' ? reader.bool(field.key) : reader.string(field.key);
      if (value !== undefined) target[field.prop] = value;
    }
    return draft;
  }
  if (type !== 'pkcs11') throw reader.error(`unsupported seal type "${type}" (supported: pkcs11, transit, shamir)`);
  reader.allowOnly(['disabled', 'name', 'priority', ...PKCS11_FIELDS.map((f) => f.key)]);
  const draft: Pkcs11Draft = { type, disabled: reader.bool('disabled') ?? false, source, ...readIdentity(reader) };
  const target = draft as Record<string, unknown>;
  for (const field of PKCS11_FIELDS) {
    const value = field.type === 'bool' ? reader.bool(field.key) : field.type === 'int' ? reader.integer(field.key) : reader.string(field.key);
    if (value !== undefined) target[field.prop] = value;
  }
  return draft;
}

function readIdentity(reader: BodyReader): { name?: string; priority?: number } {
  const out: { name?: string; priority?: number } = {};
  const name = reader.string('name');
  if (name !== undefined) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw reader.error('key "name" may hold only letters, digits, "-", "_" and "."', reader.attribute('name'));
    out.name = name;
  }
  const priority = reader.integer('priority');
  if (priority !== undefined) {
    if (priority < 1) throw reader.error('key "priority" must be at least 1', reader.attribute('priority'));
    out.priority = priority;
  }
  return out;
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
  if (sealType && sealType !== 'pkcs11' && sealType !== 'shamir' && sealType !== 'transit') {
    throw new ConfigError(`environment variable ${typeVariable} must be "pkcs11", "transit" or "shamir"`);
  }
  const result = [...seals];
  if (sealType === 'pkcs11' && env.VAULT_HSM_LIB && !result.some((s) => s.type === 'pkcs11')) {
    result.push({ type: 'pkcs11', disabled: false });
  }
  if (sealType === 'transit' && !result.some((s) => s.type === 'transit')) {
    result.push({ type: 'transit', disabled: false });
  }
  const overrides = readEnvironmentOverrides(env);
  return result.map((seal) => (seal.type === 'pkcs11' ? { ...seal, ...overrides } : seal.type === 'transit' ? applyTransitEnvironment(seal, env) : seal));
}

function applyTransitEnvironment(draft: TransitDraft, env: NodeJS.ProcessEnv): TransitDraft {
  const result: Record<string, unknown> = { ...draft };
  for (const field of TRANSIT_FIELDS) {
    const raw = env[field.env];
    if (raw === undefined || raw === '') continue;
    if (!field.envWins && result[field.prop] !== undefined) continue;
    if (field.type === 'bool') {
      const parsed = parseBoolean(raw.trim());
      if (parsed === undefined) throw new ConfigError(`environment variable ${field.env} must be a boolean`);
      result[field.prop] = parsed;
    } else {
      result[field.prop] = raw;
    }
  }
  return result as TransitDraft;
}

function finishTransit(draft: TransitDraft): TransitSealConfig {
  const fail = (message: string): never => {
    const where = draft.source ? 'seal "transit"' : 'seal "transit" (from environment)';
    throw new ConfigError(`${where}: ${message}`, draft.source?.file, draft.source?.line);
  };
  const address = draft.address ?? fail('missing required key "address" (or VAULT_ADDR)');
  if (!/^https?:\/\/[^/\s]+/.test(address)) fail('key "address" must be an http:// or https:// URL');
  const token = draft.token ?? fail('missing required key "token" (or VAULT_TOKEN)');
  const keyName = draft.keyName ?? fail('missing required key "key_name" (or VAULT_TRANSIT_SEAL_KEY_NAME)');
  if (keyName.includes('/')) fail('key "key_name" must not contain "/"');
  let mountPath = (draft.mountPath ?? 'transit/').replace(/^\/+/, '');
  if (mountPath === '') fail('key "mount_path" must not be empty');
  if (!mountPath.endsWith('/')) mountPath += '/';
  if ((draft.tlsClientCert === undefined) !== (draft.tlsClientKey === undefined)) fail('keys "tls_client_cert" and "tls_client_key" must be given together');
  return {
    ...draft,
    address,
    token,
    keyName,
    mountPath,
    tlsSkipVerify: draft.tlsSkipVerify ?? false,
    disableRenewal: draft.disableRenewal ?? false,
  };
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
  if (draft.type === 'transit') return finishTransit(draft);
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

/** The name a seal goes by in multiseal blobs and status: its `name`, else its type. */
export function sealName(seal: SealConfig): string {
  return (seal.type !== 'shamir' ? seal.name : undefined) ?? seal.type;
}

/**
 * Checks the seal list. Without enable_multiseal: at most two, and two only
 * for a migration (one disabled). With it: every enabled stanza an
 * auto-unseal seal with a unique name and a unique priority.
 */
export function checkSealSet(seals: SealConfig[], enableMultiseal = false): void {
  const at = (seal: SealConfig) => [seal.source?.file, seal.source?.line] as const;
  const label = (seal: SealConfig) => `seal "${seal.type}" (name "${sealName(seal)}")`;
  if (enableMultiseal) {
    const enabled = seals.filter((s) => !s.disabled);
    const names = new Map<string, SealConfig>();
    const priorities = new Map<number, SealConfig>();
    for (const seal of enabled) {
      if (seal.type === 'shamir') throw new ConfigError('seal "shamir": enable_multiseal takes only auto-unseal seals (pkcs11, transit)', ...at(seal));
      const name = sealName(seal);
      if (names.has(name)) throw new ConfigError(`${label(seal)}: another seal stanza already has the name "${name}"; give each seal its own name`, ...at(seal));
      names.set(name, seal);
      if (seal.priority === undefined) throw new ConfigError(`${label(seal)}: missing required key "priority" (enable_multiseal is set)`, ...at(seal));
      const other = priorities.get(seal.priority);
      if (other) throw new ConfigError(`${label(seal)}: priority ${seal.priority} is also the priority of seal "${sealName(other)}"; priorities must differ`, ...at(seal));
      priorities.set(seal.priority, seal);
    }
    if (enabled.length === 0) throw new ConfigError('enable_multiseal is set but no seal stanza is enabled');
    return;
  }
  if (seals.length > 2) throw new ConfigError('at most two seal stanzas are allowed (two only for a seal migration; several seals need enable_multiseal = true)', ...at(seals[2]));
  if (seals.length === 2 && seals.filter((s) => s.disabled).length !== 1) {
    throw new ConfigError(
      `${label(seals[1])}: with two seal stanzas exactly one must have disabled = "true" (seal migration), or set enable_multiseal = true to use both`,
      ...at(seals[1]),
    );
  }
}
