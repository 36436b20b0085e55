/**
 * The `approle` auth method: roles with a role ID and secret IDs, and
 * `login` (no token needed) with both. Vault's paths, fields and answers
 * (builtin/credential/approle).
 *
 * A secret ID is stored only as HMAC-SHA256 under its role's own random key,
 * and found by that HMAC (checked again in constant time). Spending a use
 * happens under a per-secret-ID lock that re-reads the entry, so of two
 * logins racing for a secret ID's last use exactly one gets a token. Expired
 * secret IDs are refused (and deleted) when met.
 *
 * Storage (the mount's own view):
 *   salt                                    32 random bytes (indexes below)
 *   role/<lower-case name>                  RoleEntry
 *   role_id/<HMAC(salt, role_id)>           {name, id}
 *   secret_id[_local]/<HMAC(key, name)>/<HMAC(key, secret_id)>   SecretIdEntry
 *   accessor[_local]/<HMAC(salt, accessor)> {secret_id_hmac}
 */
import crypto from 'node:crypto';
import { badRequest, notFound, permissionDenied, TresorError } from '../../core/errors.ts';
import { KeyedLock } from '../../core/keyed-lock.ts';
import { constantTimeEqual, saltedHash } from '../../core/tokens/token-ids.ts';
import { defineBackend, genericName, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import { getJson, putJson } from '../../engines/storage-json.ts';
import type { LogicalBackend, LogicalRequest, LogicalResponse, LogicalStorage } from '../../engines/types.ts';
import { SYSTEM_DEFAULT_LEASE_TTL } from '../../core/mounts.ts';
import { addressAllowed, cidrSubset, plainAddress, validCidrList } from '../../core/cidr.ts';
import { emptyTokenParams, loginAuth, parseTokenFields, TOKEN_FIELDS, tokenData, upgradeValue, type TokenParams } from '../token-params.ts';

const SECRET_ID_PREFIX = 'secret_id/';
const SECRET_ID_LOCAL_PREFIX = 'secret_id_local/';
/** Vault refuses to HMAC longer values (role names, secret IDs). */
const MAX_HMAC_INPUT = 4096;
const INVALID_CREDENTIALS = 'invalid role or secret ID';
const ZERO_TIME = '0001-01-01T00:00:00Z';
const NO_CONTENT: LogicalResponse = { status: 204 };

interface RoleEntry extends TokenParams {
  role_id: string;
  /** Hex; keys the HMACs of this role's name and secret IDs. */
  hmac_key: string;
  bind_secret_id: boolean;
  secret_id_bound_cidrs: string[];
  secret_id_num_uses: number;
  /** Seconds; 0 = no expiry. */
  secret_id_ttl: number;
  secret_id_prefix: string;
  /** Deprecated fields, kept as Vault keeps them. */
  policies?: string[];
  period?: number;
}

interface SecretIdEntry {
  /** HMAC of the secret ID (also the key's last part), compared in constant time on every read. */
  hmac: string;
  secret_id_accessor: string;
  /** Uses left; 0 = unlimited. */
  secret_id_num_uses: number;
  secret_id_ttl: number;
  /** Unix ms. */
  creation_time: number;
  /** Unix ms; 0 = never. */
  expiration_time: number;
  last_updated_time: number;
  metadata: Record<string, string>;
  cidr_list: string[];
  token_bound_cidrs: string[];
}

interface AccessorEntry {
  accessor: string;
  secret_id_hmac: string;
}

const hmac = (key: string, value: string) => crypto.createHmac('sha256', key).update(value, 'utf8').digest('hex');
const roleKey = (name: string) => `role/${name.toLowerCase()}`;
const accessorPrefix = (role: RoleEntry) => (role.secret_id_prefix === SECRET_ID_LOCAL_PREFIX ? 'accessor_local/' : 'accessor/');
const deprecated = (field: string) => `Deprecated: use "${field}" instead. If this and "${field}" are both given, only "${field}" is used.`;
const iso = (ms: number) => (ms === 0 ? ZERO_TIME : new Date(ms).toISOString());
const roleMissing = (name: string, status = 400) => new TresorError(status, `role "${name}" does not exist`);

/** 128 random bits formatted as a UUID, as Vault's role and secret IDs are. */
async function randomUuid(randomBytes: (n: number) => Promise<Buffer>): Promise<string> {
  const hex = (await randomBytes(16)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A secret ID's metadata (Vault's ParseArbitraryKeyValues): a JSON object of
 * strings, that JSON base64-encoded, or "k1=v1,k2=v2".
 */
function parseMetadata(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const trimmed = text.trim();
  if (trimmed === '') return out;
  const fromJson = (json: string): Record<string, string> | undefined => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== 'string') throw badRequest('failed to parse metadata: values must be strings');
      if (k !== '__proto__') out[k] = v;
    }
    return out;
  };
  const json = fromJson(trimmed) ?? (/^[A-Za-z0-9+/=\s]+$/.test(trimmed) ? fromJson(Buffer.from(trimmed, 'base64').toString('utf8')) : undefined);
  if (json) return json;
  for (const pair of trimmed.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw badRequest('failed to parse metadata: expected "key=value" pairs or a JSON object');
    const key = pair.slice(0, eq).trim();
    if (key !== '__proto__') out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** The role's constraints: at least one must hold, or anyone with the role ID could log in. */
function hasConstraint(role: RoleEntry): boolean {
  return role.bind_secret_id || role.secret_id_bound_cidrs.length > 0 || role.token_bound_cidrs.length > 0;
}

function secretIdData(entry: SecretIdEntry): Record<string, unknown> {
  return {
    secret_id_accessor: entry.secret_id_accessor,
    secret_id_num_uses: entry.secret_id_num_uses,
    secret_id_ttl: entry.secret_id_ttl,
    creation_time: iso(entry.creation_time),
    expiration_time: iso(entry.expiration_time),
    last_updated_time: iso(entry.last_updated_time),
    metadata: entry.metadata,
    cidr_list: entry.cidr_list,
    token_bound_cidrs: entry.token_bound_cidrs ?? [],
  };
}

export function createAppRoleBackend(): LogicalBackend {
  const roleLocks = new KeyedLock();
  const secretLocks = new KeyedLock();
  let saltPromise: Promise<Buffer> | undefined;
  const now = () => Date.now();

  const salt = (req: LogicalRequest): Promise<Buffer> => {
    saltPromise ??= (async () => {
      const existing = await req.storage.get('salt');
      if (existing) return existing;
      const fresh = await req.randomBytes(32);
      await req.storage.put('salt', fresh);
      return fresh;
    })().catch((err) => {
      saltPromise = undefined;
      throw err;
    });
    return saltPromise;
  };
  const roleIdKey = async (req: LogicalRequest, roleId: string) => `role_id/${saltedHash(await salt(req), roleId)}`;
  const accessorKey = async (req: LogicalRequest, role: RoleEntry, accessor: string) => `${accessorPrefix(role)}${saltedHash(await salt(req), accessor)}`;
  const secretKey = (role: RoleEntry, name: string, secretHmac: string) => `${role.secret_id_prefix}${hmac(role.hmac_key, name.toLowerCase())}/${secretHmac}`;
  const withRole = <T>(req: LogicalRequest, name: string, work: () => Promise<T>) => roleLocks.run(`${req.mountPoint}${name.toLowerCase()}`, work);
  const withSecret = <T>(req: LogicalRequest, secretHmac: string, work: () => Promise<T>) => secretLocks.run(`${req.mountPoint}${secretHmac}`, work);
  const maxLeaseTtl = (req: LogicalRequest) => req.maxLeaseTtl ?? SYSTEM_DEFAULT_LEASE_TTL;
  /** Vault's deriveSecretIDTTL: a negative TTL or one past the mount's max becomes the mount's max. */
  const secretIdTtl = (req: LogicalRequest, ttl: number) => (ttl < 0 || ttl > maxLeaseTtl(req) ? maxLeaseTtl(req) : ttl);

  const readRole = async (storage: LogicalStorage, name: string): Promise<RoleEntry | undefined> => {
    const role = await getJson<RoleEntry>(storage, roleKey(name));
    if (!role) return undefined;
    const filled: RoleEntry = { ...emptyTokenParams(), ...role, secret_id_bound_cidrs: role.secret_id_bound_cidrs ?? [] };
    if (filled.token_period === 0 && (filled.period ?? 0) > 0) filled.token_period = filled.period!;
    if (filled.token_policies.length === 0 && filled.policies?.length) filled.token_policies = filled.policies;
    return filled;
  };

  /** The secret ID entry under `secretHmac`, if it is live; an expired one is deleted. Call under the secret's lock. */
  const liveSecret = async (req: LogicalRequest, role: RoleEntry, name: string, secretHmac: string): Promise<SecretIdEntry | undefined> => {
    const key = secretKey(role, name, secretHmac);
    const entry = await getJson<SecretIdEntry>(req.storage, key);
    if (!entry || !constantTimeEqual(entry.hmac ?? '', secretHmac)) return undefined;
    if (entry.expiration_time !== 0 && now() >= entry.expiration_time) {
      await req.storage.delete(await accessorKey(req, role, entry.secret_id_accessor));
      await req.storage.delete(key);
      return undefined;
    }
    return entry;
  };

  const destroySecret = async (req: LogicalRequest, role: RoleEntry, name: string, entry: SecretIdEntry): Promise<void> => {
    // The accessor first, as Vault does: a crash leaves an entry without accessor, which logins refuse and delete.
    await req.storage.delete(await accessorKey(req, role, entry.secret_id_accessor));
    await req.storage.delete(secretKey(role, name, entry.hmac));
  };

  const writeRole = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const name = f.get<string>('role_name');
    if (name.length > MAX_HMAC_INPUT) throw badRequest(`role_name is longer than maximum of ${MAX_HMAC_INPUT} bytes`);
    return withRole(req, name, async () => {
      const existing = await readRole(req.storage, name);
      const creating = !existing;
      const role: RoleEntry = existing ?? {
        ...emptyTokenParams(),
        role_id: '',
        hmac_key: (await req.randomBytes(32)).toString('hex'),
        bind_secret_id: true,
        secret_id_bound_cidrs: [],
        secret_id_num_uses: 0,
        secret_id_ttl: 0,
        secret_id_prefix: SECRET_ID_PREFIX,
      };
      const warnings: string[] = [];
      const tokenType = f.getOk<string>('token_type');
      if (tokenType === 'default-service') warnings.push('default-service has no useful meaning; adjusting to service');
      parseTokenFields(role, f, tokenType === 'default-service' ? 'service' : undefined);

      const local = f.getOk<boolean>('local_secret_ids');
      if (local !== undefined) {
        if (!creating) throw badRequest('local_secret_ids can only be modified during role creation');
        if (local) role.secret_id_prefix = SECRET_ID_LOCAL_PREFIX;
      }
      const previousRoleId = role.role_id;
      const roleId = f.getOk<string>('role_id');
      if (roleId !== undefined) role.role_id = roleId;
      else if (creating) role.role_id = await randomUuid(req.randomBytes);
      if (role.role_id === '') throw badRequest('invalid role_id supplied, or failed to generate a role_id');

      const bind = f.getOk<boolean>('bind_secret_id');
      if (bind !== undefined) role.bind_secret_id = bind;
      const cidrs = f.getOk<string[]>('secret_id_bound_cidrs') ?? f.getOk<string[]>('bound_cidr_list');
      if (cidrs !== undefined) role.secret_id_bound_cidrs = cidrs;
      if (!validCidrList(role.secret_id_bound_cidrs)) throw badRequest('invalid CIDR blocks');
      const numUses = f.getOk<number>('secret_id_num_uses');
      if (numUses !== undefined) role.secret_id_num_uses = numUses;
      if (role.secret_id_num_uses < 0) throw badRequest('secret_id_num_uses cannot be negative');
      const ttl = f.getOk<number>('secret_id_ttl');
      if (ttl !== undefined) role.secret_id_ttl = ttl;

      role.policies = upgradeValue(f, 'policies', 'token_policies', role, role.policies);
      role.period = upgradeValue(f, 'period', 'token_period', role, role.period);
      if ((role.period ?? 0) > maxLeaseTtl(req)) {
        throw badRequest(`period of "${role.period}s" is greater than the backend's maximum lease TTL of "${maxLeaseTtl(req)}s"`);
      }
      if (role.token_max_ttl > maxLeaseTtl(req)) {
        warnings.push("token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be truncated");
      }
      if (!hasConstraint(role)) throw badRequest('at least one constraint should be enabled on the role');

      // The role ID index: refused when another role holds the ID; moved when it changes.
      const newIndex = await roleIdKey(req, role.role_id);
      const holder = await getJson<{ name: string }>(req.storage, newIndex);
      if (holder && holder.name !== name.toLowerCase()) throw badRequest('role_id already in use');
      if (previousRoleId && previousRoleId !== role.role_id) await req.storage.delete(await roleIdKey(req, previousRoleId));
      const stored: RoleEntry = { ...role };
      if (!stored.policies?.length) delete stored.policies;
      if (!stored.period) delete stored.period;
      await putJson(req.storage, roleKey(name), stored);
      if (!holder) await putJson(req.storage, newIndex, { name: name.toLowerCase(), id: saltedHash(await salt(req), role.role_id) });
      return warnings.length ? { warnings } : NO_CONTENT;
    });
  };

  const readRoleData = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const role = await readRole(req.storage, f.get<string>('role_name'));
    if (!role) throw notFound();
    const data: Record<string, unknown> = {
      bind_secret_id: role.bind_secret_id,
      secret_id_bound_cidrs: role.secret_id_bound_cidrs,
      secret_id_num_uses: role.secret_id_num_uses,
      secret_id_ttl: role.secret_id_ttl,
      local_secret_ids: role.secret_id_prefix === SECRET_ID_LOCAL_PREFIX,
      ...tokenData(role),
    };
    if (role.period) data.period = role.period;
    if (role.policies?.length) data.policies = role.policies;
    const res: LogicalResponse = { data };
    if (!hasConstraint(role)) res.warnings = ['Role does not have any constraints set on it. Updates to this role will require a constraint to be set'];
    return res;
  };

  const deleteRole = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const name = f.get<string>('role_name');
    return withRole(req, name, async () => {
      const role = await readRole(req.storage, name);
      if (!role) return NO_CONTENT;
      const prefix = `${role.secret_id_prefix}${hmac(role.hmac_key, name.toLowerCase())}/`;
      for (const secretHmac of await req.storage.list(prefix)) {
        await withSecret(req, secretHmac, async () => {
          const entry = await getJson<SecretIdEntry>(req.storage, prefix + secretHmac);
          if (entry) await req.storage.delete(await accessorKey(req, role, entry.secret_id_accessor));
          await req.storage.delete(prefix + secretHmac);
        });
      }
      await req.storage.delete(await roleIdKey(req, role.role_id));
      await req.storage.delete(roleKey(name));
      return NO_CONTENT;
    });
  };

  const updateRoleId = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const name = f.get<string>('role_name');
    return withRole(req, name, async () => {
      const role = await readRole(req.storage, name);
      if (!role) throw notFound('unsupported path');
      const roleId = f.get<string>('role_id');
      if (roleId === '') throw badRequest('missing role_id');
      if (roleId === role.role_id) return NO_CONTENT;
      const newIndex = await roleIdKey(req, roleId);
      const holder = await getJson<{ name: string }>(req.storage, newIndex);
      if (holder && holder.name !== name.toLowerCase()) throw badRequest('role_id already in use');
      await req.storage.delete(await roleIdKey(req, role.role_id));
      const stored: RoleEntry = { ...role, role_id: roleId };
      if (!stored.policies?.length) delete stored.policies;
      if (!stored.period) delete stored.period;
      await putJson(req.storage, roleKey(name), stored);
      await putJson(req.storage, newIndex, { name: name.toLowerCase(), id: saltedHash(await salt(req), roleId) });
      return NO_CONTENT;
    });
  };

  /** Issues a secret ID (generated or custom) against a role (Vault's handleRoleSecretIDCommon). */
  const issueSecretId = async (req: LogicalRequest, f: FieldData, secretId: string): Promise<LogicalResponse> => {
    const name = f.get<string>('role_name');
    if (secretId === '') throw badRequest('missing secret_id');
    if (secretId.length > MAX_HMAC_INPUT) throw badRequest(`secret_id is longer than maximum of ${MAX_HMAC_INPUT} bytes`);
    const role = await readRole(req.storage, name);
    if (!role) throw roleMissing(name, 404);
    if (!role.bind_secret_id) throw badRequest('bind_secret_id is not set on the role');
    const cidrList = f.get<string[]>('cidr_list');
    if (!validCidrList(cidrList)) throw badRequest('failed to validate CIDR blocks');
    if (!cidrSubset(role.secret_id_bound_cidrs, cidrList)) {
      throw badRequest('failed to verify subset relationship between CIDR blocks on the role and CIDR blocks on the secret ID');
    }
    const tokenCidrs = f.get<string[]>('token_bound_cidrs');
    if (!validCidrList(tokenCidrs)) throw badRequest('failed to validate token CIDR blocks');
    if (!cidrSubset(role.token_bound_cidrs, tokenCidrs)) {
      throw badRequest('failed to verify subset relationship between CIDR blocks on the role and CIDR blocks on the secret ID');
    }
    let numUses = role.secret_id_num_uses;
    const askedUses = f.getOk<number>('num_uses');
    if (askedUses !== undefined) {
      if (askedUses < 0) throw badRequest('num_uses cannot be negative');
      if ((askedUses === 0 && role.secret_id_num_uses > 0) || (role.secret_id_num_uses > 0 && askedUses > role.secret_id_num_uses)) {
        throw badRequest("num_uses cannot be higher than the role's secret_id_num_uses");
      }
      numUses = askedUses;
    }
    let ttl = role.secret_id_ttl;
    const askedTtl = f.getOk<number>('ttl');
    if (askedTtl !== undefined) {
      if ((askedTtl === 0 && role.secret_id_ttl > 0) || (role.secret_id_ttl > 0 && askedTtl > role.secret_id_ttl)) {
        throw badRequest("ttl cannot be longer than the role's secret_id_ttl");
      }
      ttl = askedTtl;
    }
    const metadata = parseMetadata(f.get<string>('metadata'));

    const secretHmac = hmac(role.hmac_key, secretId);
    const accessor = await randomUuid(req.randomBytes);
    const effectiveTtl = secretIdTtl(req, ttl);
    await withSecret(req, secretHmac, async () => {
      const key = secretKey(role, name, secretHmac);
      if (await req.storage.get(key)) throw badRequest('SecretID is already registered');
      const t = now();
      const entry: SecretIdEntry = {
        hmac: secretHmac,
        secret_id_accessor: accessor,
        secret_id_num_uses: numUses,
        secret_id_ttl: ttl,
        creation_time: t,
        expiration_time: effectiveTtl > 0 ? t + effectiveTtl * 1000 : 0,
        last_updated_time: t,
        metadata,
        cidr_list: cidrList,
        token_bound_cidrs: tokenCidrs,
      };
      // The accessor index first: an entry is never without its accessor.
      await putJson(req.storage, await accessorKey(req, role, accessor), { accessor, secret_id_hmac: secretHmac } satisfies AccessorEntry);
      await putJson(req.storage, key, entry);
    });
    return {
      data: { secret_id: secretId, secret_id_accessor: accessor, secret_id_ttl: effectiveTtl, secret_id_num_uses: numUses },
    };
  };

  const listSecretIds = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const name = f.get<string>('role_name');
    const role = await readRole(req.storage, name);
    if (!role) throw roleMissing(name);
    const prefix = `${role.secret_id_prefix}${hmac(role.hmac_key, name.toLowerCase())}/`;
    const keys: string[] = [];
    for (const secretHmac of await req.storage.list(prefix)) {
      const entry = await getJson<SecretIdEntry>(req.storage, prefix + secretHmac);
      if (entry && (entry.expiration_time === 0 || now() < entry.expiration_time)) keys.push(entry.secret_id_accessor);
    }
    if (keys.length === 0) throw notFound();
    return { data: { keys } };
  };

  /** The role and the HMAC of the request's secret_id, for lookup and destroy. */
  const roleAndSecret = async (req: LogicalRequest, f: FieldData): Promise<{ name: string; role: RoleEntry; secretHmac: string }> => {
    const name = f.get<string>('role_name');
    const secretId = f.get<string>('secret_id');
    if (secretId === '') throw badRequest('missing secret_id');
    const role = await readRole(req.storage, name);
    if (!role) throw roleMissing(name);
    return { name, role, secretHmac: hmac(role.hmac_key, secretId) };
  };

  const lookupSecretId = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const { name, role, secretHmac } = await roleAndSecret(req, f);
    return withSecret(req, secretHmac, async () => {
      const entry = await liveSecret(req, role, name, secretHmac);
      if (!entry) return NO_CONTENT;
      if (!(await req.storage.get(await accessorKey(req, role, entry.secret_id_accessor)))) {
        await req.storage.delete(secretKey(role, name, secretHmac));
        throw badRequest('invalid secret id');
      }
      return { data: secretIdData(entry) };
    });
  };

  const destroySecretId = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const { name, role, secretHmac } = await roleAndSecret(req, f);
    return withSecret(req, secretHmac, async () => {
      const entry = await getJson<SecretIdEntry>(req.storage, secretKey(role, name, secretHmac));
      if (entry && constantTimeEqual(entry.hmac ?? '', secretHmac)) await destroySecret(req, role, name, entry);
      return NO_CONTENT;
    });
  };

  /** The role and the accessor's index entry, for the accessor paths. */
  const roleAndAccessor = async (req: LogicalRequest, f: FieldData, missingStatus: number) => {
    const name = f.get<string>('role_name');
    const accessor = f.get<string>('secret_id_accessor');
    if (accessor === '') throw badRequest('missing secret_id_accessor');
    const role = await readRole(req.storage, name);
    if (!role) throw roleMissing(name);
    const index = await getJson<AccessorEntry>(req.storage, await accessorKey(req, role, accessor));
    if (!index || !constantTimeEqual(index.accessor ?? '', accessor)) {
      throw new TresorError(missingStatus, 'failed to find accessor entry for secret_id_accessor');
    }
    return { name, role, index };
  };

  const lookupAccessor = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const { name, role, index } = await roleAndAccessor(req, f, 404);
    return withSecret(req, index.secret_id_hmac, async () => {
      const entry = await liveSecret(req, role, name, index.secret_id_hmac);
      return entry ? { data: secretIdData(entry) } : NO_CONTENT;
    });
  };

  const destroyAccessor = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const { name, role, index } = await roleAndAccessor(req, f, 400);
    return withSecret(req, index.secret_id_hmac, async () => {
      const entry = await getJson<SecretIdEntry>(req.storage, secretKey(role, name, index.secret_id_hmac));
      if (!entry) throw permissionDenied('invalid secret id accessor');
      await destroySecret(req, role, name, entry);
      return NO_CONTENT;
    });
  };

  const login = async (req: LogicalRequest, f: FieldData): Promise<LogicalResponse> => {
    const roleId = f.get<string>('role_id').trim();
    if (roleId === '') throw badRequest('missing role_id');
    const indexKey = await roleIdKey(req, roleId);
    const index = await getJson<{ name: string; id: string }>(req.storage, indexKey);
    if (!index || !constantTimeEqual(index.id ?? '', indexKey.slice('role_id/'.length))) throw badRequest(INVALID_CREDENTIALS);
    const name = index.name;
    const role = await readRole(req.storage, name);
    if (!role) throw badRequest(INVALID_CREDENTIALS);
    const source = req.remoteAddress ? plainAddress(req.remoteAddress) : '';

    // Every address check comes before a use is spent: a refused login changes nothing.
    const checkSource = (entry: SecretIdEntry | undefined, tokenCidrs: string[]) => {
      if (entry?.cidr_list.length) {
        if (!cidrSubset(role.secret_id_bound_cidrs, entry.cidr_list)) {
          throw badRequest('failed to verify subset relationship between CIDR blocks on the role and CIDR blocks on the secret ID');
        }
        if (!addressAllowed(req.remoteAddress, entry.cidr_list)) {
          throw badRequest(`source address "${source}" unauthorized by CIDR restrictions on the secret ID`);
        }
      }
      if (role.secret_id_bound_cidrs.length && !addressAllowed(req.remoteAddress, role.secret_id_bound_cidrs)) {
        throw badRequest(`source address "${source}" unauthorized by CIDR restrictions on the role`);
      }
      if (tokenCidrs.length && !addressAllowed(req.remoteAddress, tokenCidrs)) throw permissionDenied();
    };

    let entry: SecretIdEntry | undefined;
    if (role.bind_secret_id) {
      const secretId = f.get<string>('secret_id').trim();
      if (secretId === '') throw badRequest('missing secret_id');
      if (secretId.length > MAX_HMAC_INPUT) throw badRequest(INVALID_CREDENTIALS);
      const secretHmac = hmac(role.hmac_key, secretId);
      entry = await withSecret(req, secretHmac, async () => {
        const found = await liveSecret(req, role, name, secretHmac);
        if (!found) throw badRequest(INVALID_CREDENTIALS);
        // A secret ID without its accessor is revoked on sight.
        if (!(await req.storage.get(await accessorKey(req, role, found.secret_id_accessor)))) {
          await req.storage.delete(secretKey(role, name, secretHmac));
          throw badRequest(INVALID_CREDENTIALS);
        }
        checkSource(found, found.token_bound_cidrs?.length ? found.token_bound_cidrs : role.token_bound_cidrs);
        if (found.secret_id_num_uses === 1) {
          await destroySecret(req, role, name, found);
        } else if (found.secret_id_num_uses > 1) {
          await putJson(req.storage, secretKey(role, name, secretHmac), {
            ...found,
            secret_id_num_uses: found.secret_id_num_uses - 1,
            last_updated_time: now(),
          });
        }
        return found;
      });
    } else {
      checkSource(undefined, role.token_bound_cidrs);
    }

    const metadata: Record<string, string> = { ...(entry?.metadata ?? {}), role_name: name };
    // Vault names an AppRole login's entity alias by the role ID.
    const auth = { ...loginAuth(role, metadata, ''), aliasName: roleId };
    if (entry?.token_bound_cidrs?.length) auth.boundCidrs = entry.token_bound_cidrs;
    return { login: auth };
  };

  const ROLE_NAME: FieldSchemas = { role_name: { type: 'string', description: `Name of the role (at most ${MAX_HMAC_INPUT} bytes).` } };
  const SECRET_ID_FIELDS: FieldSchemas = {
    metadata: { type: 'string', description: 'Metadata tied to the secret ID: a JSON object of strings (or "k=v,k2=v2"); shown in the token\'s metadata.' },
    cidr_list: { type: 'comma-string-slice', description: 'CIDR blocks the secret ID may log in from; within the role\'s secret_id_bound_cidrs.' },
    token_bound_cidrs: { type: 'comma-string-slice', description: 'CIDR blocks the tokens of this secret ID may be used from; within the role\'s token_bound_cidrs.' },
    num_uses: { type: 'int', description: 'Logins the secret ID allows (0 unlimited); at most the role\'s secret_id_num_uses.' },
    ttl: { type: 'duration', description: 'Lifetime of the secret ID; at most the role\'s secret_id_ttl.' },
  };
  const SECRET_ID: FieldSchemas = { secret_id: { type: 'string', description: 'A secret ID of the role.', sensitive: true } };
  const ACCESSOR: FieldSchemas = { secret_id_accessor: { type: 'string', description: 'Accessor of a secret ID.' } };
  const roleFields: FieldSchemas = {
    ...ROLE_NAME,
    bind_secret_id: { type: 'bool', default: true, description: 'Require a secret ID at login (default true).' },
    bound_cidr_list: { type: 'comma-string-slice', description: deprecated('secret_id_bound_cidrs') },
    secret_id_bound_cidrs: { type: 'comma-string-slice', description: 'CIDR blocks logins with this role may come from.' },
    policies: { type: 'comma-string-slice', description: deprecated('token_policies') },
    secret_id_num_uses: { type: 'int', description: 'Logins each secret ID allows; 0 is unlimited.' },
    secret_id_ttl: { type: 'duration', description: 'Lifetime of the secret IDs; 0 is no expiry (the mount\'s max lease TTL caps it).' },
    period: { type: 'duration', description: deprecated('token_period') },
    role_id: { type: 'string', description: 'The role ID; a random UUID by default.' },
    local_secret_ids: { type: 'bool', description: 'Keep the secret IDs local to this cluster; only when the role is created.' },
    ...TOKEN_FIELDS,
  };
  const role = (rest: string) => `role/${genericName('role_name')}${rest}`;

  const paths: PathDeclaration<LogicalRequest>[] = [
    {
      pattern: 'role/?',
      synopsis: 'List the roles.',
      operations: {
        list: {
          summary: 'List roles.',
          handler: async (req) => {
            const keys = await req.storage.list('role/');
            if (keys.length === 0) throw notFound();
            return { data: { keys } };
          },
        },
      },
    },
    {
      pattern: role(''),
      fields: roleFields,
      synopsis: 'Register a role.',
      description: 'A role stands for an application or machine; logins with its role ID (and, with bind_secret_id, one of its secret IDs) get tokens with its token settings.',
      existenceCheck: async (req, f) => (await readRole(req.storage, f.get<string>('role_name'))) !== undefined,
      operations: {
        read: { summary: 'Read a role.', handler: readRoleData },
        update: { summary: 'Create or update a role.', handler: writeRole },
        delete: { summary: 'Delete a role and its secret IDs.', handler: deleteRole },
      },
    },
    {
      pattern: role('/role-id'),
      fields: { ...ROLE_NAME, role_id: { type: 'string', description: 'The new role ID.' } },
      synopsis: "Read or set the role's role ID.",
      operations: {
        read: {
          summary: 'Read the role ID.',
          handler: async (req, f) => {
            const found = await readRole(req.storage, f.get<string>('role_name'));
            if (!found) throw notFound();
            return { data: { role_id: found.role_id } };
          },
        },
        update: { summary: 'Set the role ID.', handler: updateRoleId },
      },
    },
    {
      pattern: role('/secret-id/?'),
      fields: { ...ROLE_NAME, ...SECRET_ID_FIELDS },
      synopsis: 'Generate a secret ID for the role, or list the accessors of its secret IDs.',
      operations: {
        update: { summary: 'Generate a secret ID.', handler: async (req, f) => issueSecretId(req, f, await randomUuid(req.randomBytes)) },
        list: { summary: 'List secret ID accessors.', handler: listSecretIds },
      },
    },
    {
      pattern: role('/secret-id/lookup/?'),
      fields: { ...ROLE_NAME, ...SECRET_ID },
      synopsis: 'Read the properties of a secret ID.',
      operations: { update: { summary: 'Look up a secret ID.', handler: lookupSecretId } },
    },
    {
      pattern: role('/secret-id/destroy/?'),
      fields: { ...ROLE_NAME, ...SECRET_ID },
      synopsis: 'Destroy a secret ID.',
      operations: {
        update: { summary: 'Destroy a secret ID.', handler: destroySecretId },
        delete: { summary: 'Destroy a secret ID.', handler: destroySecretId },
      },
    },
    {
      pattern: role('/secret-id-accessor/lookup/?'),
      fields: { ...ROLE_NAME, ...ACCESSOR },
      synopsis: 'Read the properties of a secret ID by its accessor.',
      operations: { update: { summary: 'Look up a secret ID by accessor.', handler: lookupAccessor } },
    },
    {
      pattern: role('/secret-id-accessor/destroy/?'),
      fields: { ...ROLE_NAME, ...ACCESSOR },
      synopsis: 'Destroy a secret ID by its accessor.',
      operations: {
        update: { summary: 'Destroy a secret ID by accessor.', handler: destroyAccessor },
        delete: { summary: 'Destroy a secret ID by accessor.', handler: destroyAccessor },
      },
    },
    {
      pattern: role('/custom-secret-id'),
      fields: { ...ROLE_NAME, ...SECRET_ID, ...SECRET_ID_FIELDS },
      synopsis: 'Assign a secret ID of your choice to the role.',
      operations: { update: { summary: 'Assign a custom secret ID.', handler: (req, f) => issueSecretId(req, f, f.get<string>('secret_id')) } },
    },
    {
      pattern: 'login',
      unauthenticated: true,
      fields: {
        role_id: { type: 'string', description: 'The role ID of the role.' },
        secret_id: { type: 'string', default: '', description: 'A secret ID of the role (needed when it binds secret IDs).', sensitive: true },
      },
      synopsis: 'Log in with a role ID and secret ID.',
      description: 'Answers a token with the role\'s token settings. A secret ID with a use limit loses one use; its last use deletes it.',
      operations: { update: { summary: 'Log in.', handler: login } },
    },
  ];
  return defineBackend('approle', paths);
}
