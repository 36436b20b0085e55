/**
 * The token settings every auth method's users and roles carry (Vault's
 * tokenutil): the `token_*` fields, their checks, how they read back, and
 * the login answer built from them. Tresor issues service tokens only, so
 * `token_type` takes "service" (or "default", the same here).
 */
import { badRequest } from '../core/errors.ts';
import type { FieldData, FieldSchemas } from '../framework/index.ts';
import type { LoginAuth } from '../engines/types.ts';
import { validCidrList } from '../core/cidr.ts';

/** As stored, with Vault's field names. */
export interface TokenParams {
  token_bound_cidrs: string[];
  token_explicit_max_ttl: number;
  token_max_ttl: number;
  token_no_default_policy: boolean;
  token_num_uses: number;
  token_period: number;
  token_policies: string[];
  /** "default" until set; "service" once set so. */
  token_type: string;
  token_ttl: number;
}

export const emptyTokenParams = (): TokenParams => ({
  token_bound_cidrs: [],
  token_explicit_max_ttl: 0,
  token_max_ttl: 0,
  token_no_default_policy: false,
  token_num_uses: 0,
  token_period: 0,
  token_policies: [],
  token_type: 'default',
  token_ttl: 0,
});

/** Vault's token fields (tokenutil.TokenFields), for any path that configures tokens. */
export const TOKEN_FIELDS: FieldSchemas = {
  token_bound_cidrs: {
    type: 'comma-string-slice',
    description: 'CIDR blocks (or addresses) the generated tokens may be used from; any address when empty.',
  },
  token_explicit_max_ttl: {
    type: 'duration',
    description: 'A hard limit on the generated tokens\' life, renewals included.',
  },
  token_max_ttl: { type: 'duration', description: 'The maximum lifetime of the generated tokens (renewals stop there).' },
  token_no_default_policy: { type: 'bool', description: 'Do not add the "default" policy to the generated tokens.' },
  token_num_uses: { type: 'int', description: 'How many requests a generated token may make; 0 is unlimited.' },
  token_period: { type: 'duration', description: 'Make periodic tokens, renewed to this TTL each time, with no max lifetime.' },
  token_policies: { type: 'comma-string-slice', description: 'Policies of the generated tokens.' },
  token_type: { type: 'string', default: 'default-service', description: 'The type of token to generate; only service tokens are available.' },
  token_ttl: { type: 'duration', description: 'The initial TTL of the generated tokens; the mount\'s default when 0.' },
};

/** The refusal of batch tokens (Tresor has none yet). */
export const BATCH_UNSUPPORTED = 'unsupported token type: only service tokens are available';

/**
 * Applies the token fields the request gave to `params` (Vault's
 * ParseTokenFields, same order and texts; values are never echoed).
 * Throws a 400 before anything is stored. `tokenTypeOverride` stands for
 * the given token_type (AppRole maps "default-service" to "service").
 */
export function parseTokenFields(params: TokenParams, f: FieldData, tokenTypeOverride?: string): void {
  const cidrs = f.getOk<string[]>('token_bound_cidrs');
  if (cidrs !== undefined) {
    if (!validCidrList(cidrs, true)) throw badRequest("'token_bound_cidrs' must be a list of IP addresses or CIDR blocks");
    params.token_bound_cidrs = cidrs;
  }
  const explicitMax = f.getOk<number>('token_explicit_max_ttl');
  if (explicitMax !== undefined) params.token_explicit_max_ttl = explicitMax;
  const maxTtl = f.getOk<number>('token_max_ttl');
  if (maxTtl !== undefined) params.token_max_ttl = maxTtl;
  if (params.token_max_ttl < 0) throw badRequest("'token_max_ttl' cannot be negative");
  const noDefault = f.getOk<boolean>('token_no_default_policy');
  if (noDefault !== undefined) params.token_no_default_policy = noDefault;
  const period = f.getOk<number>('token_period');
  if (period !== undefined) params.token_period = period;
  if (params.token_period < 0) throw badRequest("'token_period' cannot be negative");
  const policies = f.getOk<string[]>('token_policies');
  if (policies !== undefined) params.token_policies = policies;
  const type = tokenTypeOverride ?? f.getOk<string>('token_type');
  if (type !== undefined) params.token_type = tokenType(type);
  const numUses = f.getOk<number>('token_num_uses');
  if (numUses !== undefined) params.token_num_uses = numUses;
  if (params.token_num_uses < 0) throw badRequest("'token_num_uses' cannot be negative");
  const ttl = f.getOk<number>('token_ttl');
  if (ttl !== undefined) params.token_ttl = ttl;
  if (params.token_ttl < 0) throw badRequest("'token_ttl' cannot be negative");
  if (params.token_ttl > 0 && params.token_max_ttl > 0 && params.token_ttl > params.token_max_ttl) {
    throw badRequest("'token_ttl' cannot be greater than 'token_max_ttl'");
  }
}

/** A `token_type` value as stored; batch types are refused (service tokens only). */
function tokenType(value: string): string {
  switch (value) {
    case '':
    case 'default':
      return 'default';
    case 'service':
      return 'service';
    case 'batch':
    case 'default-batch':
      throw badRequest(BATCH_UNSUPPORTED);
    default:
      throw badRequest("invalid 'token_type' value");
  }
}

/** The token fields as a user or role reads back (Vault's PopulateTokenData). */
export function tokenData(params: TokenParams): Record<string, unknown> {
  return {
    token_bound_cidrs: params.token_bound_cidrs ?? [],
    token_explicit_max_ttl: params.token_explicit_max_ttl,
    token_max_ttl: params.token_max_ttl,
    token_no_default_policy: params.token_no_default_policy,
    token_num_uses: params.token_num_uses,
    token_period: params.token_period,
    token_policies: params.token_policies ?? [],
    token_type: params.token_type || 'default',
    token_ttl: params.token_ttl,
  };
}

/** The login answer for a user or role (Vault's PopulateTokenAuth). */
export function loginAuth(params: TokenParams, metadata: Record<string, string>, displayName: string): LoginAuth {
  return {
    policies: params.token_policies ?? [],
    noDefaultPolicy: params.token_no_default_policy,
    metadata,
    displayName,
    ttl: params.token_ttl,
    maxTtl: params.token_max_ttl,
    explicitMaxTtl: params.token_explicit_max_ttl,
    period: params.token_period,
    numUses: params.token_num_uses,
    boundCidrs: params.token_bound_cidrs ?? [],
  };
}

/**
 * Vault's tokenutil.UpgradeValue: the new field wins; the old one, given
 * alone, sets both; the new one given alone clears the old one. Returns the
 * old field's stored value (undefined = not kept).
 */
export function upgradeValue<T>(
  f: FieldData,
  oldName: string,
  newName: keyof TokenParams,
  params: TokenParams,
  legacy: T | undefined,
): T | undefined {
  const newGiven = f.has(newName);
  const oldValue = f.getOk<T>(oldName);
  if (!newGiven) {
    if (oldValue !== undefined) (params as unknown as Record<string, unknown>)[newName] = oldValue;
    return oldValue ?? legacy;
  }
  return oldValue !== undefined ? ((params as unknown as Record<string, unknown>)[newName] as T) : undefined;
}
