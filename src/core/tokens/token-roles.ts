/**
 * Token roles (Vault's auth/token/roles/<role_name>): named rules for
 * auth/token/create/<role_name> that loosen or tighten the usual ones — the
 * policies a token may get regardless of its parent's, orphan tokens without
 * sudo, periodic tokens without sudo, bound CIDRs, batch tokens. Stored as
 * JSON at roles/<name> in the token store's view.
 */
import type { LogicalStorage } from '../../engines/types.ts';
import type { FieldData, FieldSchemas, PathDeclaration } from '../../framework/index.ts';
import { genericName } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../../engines/types.ts';
import { badRequest, internalError, notFound } from '../errors.ts';
import { normaliseCidrs } from './cidrs.ts';
import { sanitizePolicies } from './policies.ts';

export type RoleTokenType = 'service' | 'batch' | 'default-service' | 'default-batch';
const ROLE_TOKEN_TYPES: readonly string[] = ['service', 'batch', 'default-service', 'default-batch'];

/** A stored role, with Vault's field names (the deprecated period / explicit_max_ttl / bound_cidrs kept for reads). */
export interface TokenRole {
  name: string;
  allowed_policies: string[];
  disallowed_policies: string[];
  allowed_policies_glob: string[];
  disallowed_policies_glob: string[];
  orphan: boolean;
  renewable: boolean;
  path_suffix: string;
  /** Seconds. */
  token_period: number;
  token_explicit_max_ttl: number;
  token_bound_cidrs: string[];
  token_type: RoleTokenType;
  token_no_default_policy: boolean;
  token_num_uses: number;
  /** Lower-cased; null until set (Vault reads it back as null). */
  allowed_entity_aliases: string[] | null;
  period: number;
  explicit_max_ttl: number;
  bound_cidrs: string[];
}

/** Vault's rule for a role's path suffix (anchored here: Vault's is matched anywhere in the value). */
const PATH_SUFFIX = /^\w[\w.-]+\w$/;
const PATH_SUFFIX_TEXT = String.raw`\w[\w-.]+\w`;

export class TokenRoleStore {
  constructor(private readonly storage: LogicalStorage) {}

  async get(name: string): Promise<TokenRole | undefined> {
    const raw = await this.storage.get(name);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw.toString('utf8')) as TokenRole;
    } catch {
      throw internalError('a stored token role is not valid JSON');
    }
  }

  async put(role: TokenRole): Promise<void> {
    await this.storage.put(role.name, Buffer.from(JSON.stringify(role), 'utf8'));
  }

  async delete(name: string): Promise<void> {
    await this.storage.delete(name);
  }

  async list(): Promise<string[]> {
    return (await this.storage.list('')).filter((k) => !k.endsWith('/'));
  }
}

/** Vault's strutil.RemoveDuplicates(list, true): trimmed, lower-cased, no empties, unique, sorted. */
export function uniqueLowercase(items: readonly string[]): string[] {
  return [...new Set(items.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))].sort();
}

/** go-glob's match (Vault's strutil.StrListContainsGlob): `*` stands for any run of characters, anywhere. */
export function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === value;
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (!value.startsWith(first) || value.length < first.length + last.length) return false;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = value.indexOf(parts[i], at);
    if (found === -1) return false;
    at = found + parts[i].length;
  }
  return value.length - last.length >= at && value.endsWith(last);
}

export const containsGlob = (patterns: readonly string[], value: string) => patterns.some((p) => globMatch(p, value));

/** Seconds to Vault's role-read integers. */
function roleData(role: TokenRole): Record<string, unknown> {
  const data: Record<string, unknown> = {
    allowed_entity_aliases: role.allowed_entity_aliases,
    allowed_policies: role.allowed_policies,
    allowed_policies_glob: role.allowed_policies_glob,
    disallowed_policies: role.disallowed_policies,
    disallowed_policies_glob: role.disallowed_policies_glob,
    explicit_max_ttl: role.explicit_max_ttl,
    name: role.name,
    orphan: role.orphan,
    path_suffix: role.path_suffix,
    period: role.period,
    renewable: role.renewable,
    token_explicit_max_ttl: role.token_explicit_max_ttl,
    token_no_default_policy: role.token_no_default_policy,
    token_period: role.token_period,
    token_type: role.token_type,
  };
  if (role.token_bound_cidrs.length > 0) data.token_bound_cidrs = role.token_bound_cidrs;
  if (role.bound_cidrs.length > 0) data.bound_cidrs = role.bound_cidrs;
  if (role.token_num_uses > 0) data.token_num_uses = role.token_num_uses;
  return data;
}

function newRole(name: string): TokenRole {
  return {
    name, allowed_policies: [], disallowed_policies: [], allowed_policies_glob: [], disallowed_policies_glob: [],
    orphan: false, renewable: true, path_suffix: '', token_period: 0, token_explicit_max_ttl: 0, token_bound_cidrs: [],
    token_type: 'default-service', token_no_default_policy: false, token_num_uses: 0, allowed_entity_aliases: null,
    period: 0, explicit_max_ttl: 0, bound_cidrs: [],
  };
}

function cidrsOf(fields: FieldData, name: string, prefix: string): string[] {
  const cidrs = normaliseCidrs(fields.get<string[]>(name));
  if (!cidrs) throw badRequest(`${prefix}${name}: not a list of IP addresses or CIDR blocks`);
  return cidrs;
}

/**
 * Applies a create/update request to a role (a new one when `existing` is
 * undefined: fields left out take their defaults; an existing role keeps
 * them). Every check runs before anything is stored, in Vault's order,
 * with Vault's texts; returns the role to store and the warnings.
 */
export function decideRole(name: string, existing: TokenRole | undefined, fields: FieldData, systemMaxTtl: number): { role: TokenRole; warnings: string[] } {
  const role: TokenRole = existing ? { ...existing } : newRole(name);
  const warnings: string[] = [];
  const given = (field: string) => fields.has(field);

  if (given('orphan')) role.orphan = fields.get<boolean>('orphan');
  if (given('renewable')) role.renewable = fields.get<boolean>('renewable');
  if (given('path_suffix')) {
    const suffix = fields.get<string>('path_suffix');
    if (suffix !== '' && !PATH_SUFFIX.test(suffix)) {
      throw badRequest(`given role path suffix contains invalid characters; must match ${PATH_SUFFIX_TEXT}`);
    }
    role.path_suffix = suffix;
  }
  if (role.path_suffix.includes('..')) throw badRequest('error registering path suffix: path cannot contain parent references');
  if (given('allowed_policies')) role.allowed_policies = sanitizePolicies(fields.get<string[]>('allowed_policies'), false);
  if (given('disallowed_policies')) role.disallowed_policies = uniqueLowercase(fields.get<string[]>('disallowed_policies'));
  if (given('allowed_policies_glob')) role.allowed_policies_glob = sanitizePolicies(fields.get<string[]>('allowed_policies_glob'), false);
  if (given('disallowed_policies_glob')) role.disallowed_policies_glob = uniqueLowercase(fields.get<string[]>('disallowed_policies_glob'));

  // The token_* fields (Vault's tokenutil.ParseTokenFields), then the deprecated spellings.
  if (given('token_type')) {
    const type = fields.get<string>('token_type');
    if (!ROLE_TOKEN_TYPES.includes(type)) throw badRequest("invalid 'token_type' value");
    role.token_type = type as RoleTokenType;
  }
  const parsePrefix = 'error parsing role fields: ';
  if (given('token_bound_cidrs')) role.token_bound_cidrs = cidrsOf(fields, 'token_bound_cidrs', parsePrefix);
  if (given('token_explicit_max_ttl')) role.token_explicit_max_ttl = fields.get<number>('token_explicit_max_ttl');
  if (given('token_no_default_policy')) role.token_no_default_policy = fields.get<boolean>('token_no_default_policy');
  if (given('token_period')) role.token_period = fields.get<number>('token_period');
  if (given('token_num_uses')) {
    const uses = fields.get<number>('token_num_uses');
    if (uses < 0) throw badRequest(`${parsePrefix}'token_num_uses' cannot be negative`);
    role.token_num_uses = uses;
  }

  if (!given('token_period')) {
    if (given('period')) role.period = role.token_period = fields.get<number>('period');
  } else {
    if (given('period')) warnings.push("Both 'token_period' and deprecated 'period' value supplied, ignoring the deprecated value");
    role.period = 0;
  }
  if (!given('token_bound_cidrs')) {
    if (given('bound_cidrs')) {
      const cidrs = normaliseCidrs(fields.get<string[]>('bound_cidrs'));
      if (!cidrs) throw badRequest('error parsing bound_cidrs: not a list of IP addresses or CIDR blocks');
      role.bound_cidrs = role.token_bound_cidrs = cidrs;
    }
  } else {
    if (given('bound_cidrs')) warnings.push("Both 'token_bound_cidrs' and deprecated 'bound_cidrs' value supplied, ignoring the deprecated value");
    role.bound_cidrs = [];
  }
  let finalExplicitMaxTtl = role.token_explicit_max_ttl;
  if (!given('token_explicit_max_ttl')) {
    if (given('explicit_max_ttl')) role.explicit_max_ttl = role.token_explicit_max_ttl = fields.get<number>('explicit_max_ttl');
    finalExplicitMaxTtl = role.explicit_max_ttl;
  } else {
    if (given('explicit_max_ttl')) {
      warnings.push("Both 'token_explicit_max_ttl' and deprecated 'explicit_max_ttl' value supplied, ignoring the deprecated value");
    }
    role.explicit_max_ttl = 0;
  }
  if (finalExplicitMaxTtl !== 0 && systemMaxTtl !== 0 && finalExplicitMaxTtl > systemMaxTtl) {
    warnings.push(
      `Given explicit max TTL of ${finalExplicitMaxTtl} is greater than system/mount allowed value of ${systemMaxTtl} seconds; until this is fixed attempting to create tokens against this role will result in an error`,
    );
  }

  if (role.token_type === 'batch') {
    if (!role.orphan) throw badRequest("'token_type' cannot be 'batch' when role is set to generate non-orphan tokens");
    if (role.period !== 0 || role.token_period !== 0) throw badRequest("'token_type' cannot be 'batch' when role is set to generate periodic tokens");
    if (role.renewable) throw badRequest("'token_type' cannot be 'batch' when role is set to generate renewable tokens");
    if (role.explicit_max_ttl !== 0 || role.token_explicit_max_ttl !== 0) {
      throw badRequest("'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max TTL");
    }
  }
  if (role.token_type === 'batch' || role.token_type === 'default-batch') {
    if (role.token_period !== 0) throw badRequest(`${parsePrefix}'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens`);
    if (role.token_num_uses !== 0) {
      throw badRequest(`${parsePrefix}'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count`);
    }
  }
  if (given('allowed_entity_aliases')) role.allowed_entity_aliases = uniqueLowercase(fields.get<string[]>('allowed_entity_aliases'));
  return { role, warnings };
}

/** The role fields, as Vault's roles/<role_name> declares them. */
const ROLE_FIELDS: FieldSchemas = {
  role_name: { type: 'string', description: 'Name of the role.' },
  allowed_policies: { type: 'comma-string-slice', description: 'Policies a token created against the role may have; with it, the token needs none of its parent\'s. Without any allowed or disallowed list, the usual subset-of-parent rule applies.' },
  disallowed_policies: { type: 'comma-string-slice', description: 'Policies a token created against the role may never have (matched literally).' },
  allowed_policies_glob: { type: 'comma-string-slice', description: 'Like allowed_policies, with "*" globs.' },
  disallowed_policies_glob: { type: 'comma-string-slice', description: 'Like disallowed_policies, with "*" globs.' },
  orphan: { type: 'bool', description: 'Tokens created against the role have no parent (no sudo needed).' },
  renewable: { type: 'bool', default: true, description: 'Tokens created against the role may be renewed.' },
  path_suffix: { type: 'string', description: String.raw`Appended to the created tokens' path (auth/token/create/<role>/<suffix>); must match \w[\w-.]+\w.` },
  period: { type: 'duration', description: 'Deprecated: use token_period.' },
  explicit_max_ttl: { type: 'duration', description: 'Deprecated: use token_explicit_max_ttl.' },
  bound_cidrs: { type: 'comma-string-slice', description: 'Deprecated: use token_bound_cidrs.' },
  allowed_entity_aliases: { type: 'comma-string-slice', description: 'Entity alias names (globs allowed, not case sensitive) that create calls may name in entity_alias to tie the token to that alias\'s entity.' },
  token_bound_cidrs: { type: 'comma-string-slice', description: 'IP addresses or CIDR blocks the created tokens may be used from.' },
  token_explicit_max_ttl: { type: 'duration', description: 'Hard limit on the created tokens\' life, renewals included; the lesser of this and a requested one applies.' },
  token_period: { type: 'duration', description: 'Created tokens are periodic with this period (no sudo needed); the lesser of this and a requested period applies.' },
  token_type: { type: 'string', default: 'default-service', description: 'Type of the created tokens: service, batch, default-service or default-batch (the create call\'s type, else service / batch).' },
  token_no_default_policy: { type: 'bool', description: 'Do not add the default policy to the created tokens.' },
  token_num_uses: { type: 'int', description: 'Use limit of the created tokens (the lesser of this and a requested one); 0 is unlimited.' },
};

export interface RolePathDeps {
  roles: TokenRoleStore;
  maxTtl: number;
}

/** roles/ and roles/<role_name>, declared with the framework. */
export function rolePaths(deps: RolePathDeps): PathDeclaration<LogicalRequest>[] {
  const name = (fields: FieldData) => fields.get<string>('role_name');
  return [
    {
      pattern: 'roles/?',
      synopsis: 'List the token roles.',
      operations: {
        list: {
          summary: 'List token roles.',
          handler: async () => {
            const keys = await deps.roles.list();
            if (keys.length === 0) throw notFound();
            return { data: { keys } };
          },
        },
      },
    },
    {
      pattern: `roles/${genericName('role_name')}`,
      fields: ROLE_FIELDS,
      existenceCheck: async (_req, fields) => (await deps.roles.get(name(fields))) !== undefined,
      synopsis: 'Create, read, update or delete a token role.',
      description:
        'A role sets the rules of auth/token/create/<role_name>: allowed and disallowed policies (which replace the subset-of-parent rule), orphan, periodic and batch tokens without sudo, bound CIDRs, a use limit and a path suffix. A write to an existing role changes only the fields it names.',
      operations: {
        read: {
          summary: 'Read a token role.',
          handler: async (_req, fields): Promise<LogicalResponse> => {
            const role = await deps.roles.get(name(fields));
            if (!role) throw notFound();
            return { data: roleData(role) };
          },
        },
        update: {
          summary: 'Create or update a token role.',
          handler: async (_req, fields): Promise<LogicalResponse> => {
            const existing = await deps.roles.get(name(fields));
            const { role, warnings } = decideRole(name(fields), existing, fields, deps.maxTtl);
            await deps.roles.put(role);
            return warnings.length > 0 ? { warnings } : { status: 204 };
          },
        },
        delete: {
          summary: 'Delete a token role.',
          handler: async (_req, fields): Promise<LogicalResponse> => {
            await deps.roles.delete(name(fields));
            return { status: 204 };
          },
        },
      },
    },
  ];
}
