import { badRequest } from '../errors.ts';
import { RESPONSE_WRAPPING_POLICY_NAME } from '../acl/default-policy.ts';
import { isPolicySubset, sanitizePolicies } from './policies.ts';
import type { TokenEntry, TokenType } from './token-entry.ts';
import { containsGlob, uniqueLowercase, type TokenRole } from './token-roles.ts';
import type { TokenSpec } from './token-store.ts';

/**
 * The create request's fields, already decoded by the framework from the
 * path's schema (Vault's names in comments). Optional members are the
 * fields whose absence matters; the others carry their defaults.
 */
export interface TokenCreateRequest {
  /** `id`: a chosen token value (root or sudo only). */
  id?: string;
  /** `policies`. */
  policies?: string[];
  /** `meta`: undefined stores null metadata, as Vault does for an absent map. */
  meta?: Record<string, string>;
  /** `no_parent`. */
  noParent: boolean;
  /** `no_default_policy`. */
  noDefaultPolicy: boolean;
  /** `renewable` (Vault's default: true). */
  renewable: boolean;
  /** `ttl`, `explicit_max_ttl`, `period`: seconds, 0 when not given. */
  ttl: number;
  explicitMaxTtl: number;
  period: number;
  /** `display_name`; '' when not given. */
  displayName: string;
  /** `num_uses`: 0 is unlimited. */
  numUses: number;
  /** `type`. */
  type?: string;
  /** `entity_alias`: only with a role that allows it. */
  entityAlias?: string;
}

export interface CreateContext {
  /** The caller's own (live) token entry. */
  caller: TokenEntry;
  /** The caller's policies (req.auth.policies); "root" makes the caller privileged. */
  callerPolicies: string[];
  /** The caller holds sudo on the create path (Vault: "root or sudo"). */
  callerSudo?: boolean;
  /** True for auth/token/create-orphan. */
  orphanEndpoint: boolean;
  /** The role of auth/token/create/<role_name>. */
  role?: TokenRole;
  /** Full request path, recorded as the token's `path` (a role's path suffix is appended). */
  path: string;
  defaultTtl: number;
  maxTtl: number;
}

export interface TokenDecision {
  spec: TokenSpec;
  warnings: string[];
  /** The entity alias (on the token store's mount) whose entity the token gets; resolved by the caller once every check passed. */
  entityAlias?: string;
}

const DISPLAY_NAME_UNSAFE = /[^a-zA-Z0-9-]/g;

/**
 * Applies Vault's token-creation rules (handleCreateCommon) to a decoded
 * create request and returns the spec to store, plus warnings. Checks the
 * field types cannot express (privileges, policy subsets, a role's rules,
 * ranges, TTL caps) happen here, in Vault's order. Every violation is a 400,
 * raised before anything is stored.
 */
export function decideTokenSpec(req: TokenCreateRequest, ctx: CreateContext): TokenDecision {
  const { caller, role } = ctx;
  if (caller.type === 'batch') throw badRequest('batch tokens cannot create more tokens');
  // A use-limited token could escape its limit through an unlimited child (Vault checks this first).
  // LAST_USE_IN_PROGRESS (-1) counts as limited too: that token is spending its last use right now.
  if (caller.numUses !== 0) throw badRequest('restricted use token cannot generate child tokens');

  const privileged = ctx.callerPolicies.includes('root') || ctx.callerSudo === true;
  const warnings: string[] = [];
  const requirePrivilege = (what: string) => {
    if (!privileged) throw badRequest(`root or sudo privileges required to ${what}`);
  };

  const type = decideType(req.type ?? '', role);
  let renewable = req.renewable;
  if (type === 'batch') {
    const badReason = req.explicitMaxTtl !== 0 ? 'explicit_max_ttl' : req.numUses !== 0 ? 'num_uses' : req.period !== 0 ? 'period' : '';
    if (badReason) throw badRequest(`batch tokens cannot have "${badReason}" set`);
    renewable = false;
  }
  // The type says integer; the range is this rule's.
  if (req.numUses < 0) throw badRequest('num_uses must be a non-negative integer');

  const entityAlias = req.entityAlias ? checkEntityAlias(req.entityAlias, role) : undefined;

  let numUses = req.numUses;
  let path = ctx.path;
  if (role) {
    if (!role.renewable) renewable = false;
    // 0 is unlimited: the role's limit applies unless the request asks for fewer uses.
    if (role.token_num_uses !== 0 && (numUses === 0 || role.token_num_uses < numUses)) numUses = role.token_num_uses;
    if (role.path_suffix) path = `${path}/${role.path_suffix}`;
  }

  const displayName = req.displayName
    ? `token-${req.displayName}`.replace(DISPLAY_NAME_UNSAFE, '-').replace(/-+$/, '')
    : 'token';

  const customToken = req.id;
  if (customToken !== undefined && customToken !== '') requirePrivilege('specify token id');

  // Policies are decided before the orphan check, in Vault's order.
  const policies = decidePolicies(req, caller.policies, privileged, role);
  if (policies.length === 0) throw badRequest('token must have at least one policy');
  if (policies.includes('root') && type === 'batch') throw badRequest('batch tokens cannot be root tokens');

  let orphan: boolean;
  if (role) {
    orphan = role.orphan;
  } else if (req.noParent) {
    requirePrivilege('create orphan token');
    orphan = true;
  } else {
    orphan = ctx.orphanEndpoint;
  }
  // A role's CIDRs replace the parent's (roles may widen them); a plain child keeps its parent's.
  let boundCidrs = role ? role.token_bound_cidrs : !orphan ? (caller.boundCidrs ?? []) : [];

  let { period, explicitMaxTtl } = req;
  if (period > 0) requirePrivilege('create periodic token');
  if (role && type !== 'batch') {
    if (role.token_explicit_max_ttl !== 0) {
      if (explicitMaxTtl === 0) explicitMaxTtl = role.token_explicit_max_ttl;
      else {
        explicitMaxTtl = Math.min(explicitMaxTtl, role.token_explicit_max_ttl);
        warnings.push(`Explicit max TTL specified both during creation call and in role; using the lesser value of ${explicitMaxTtl} seconds`);
      }
    }
    if (role.token_period !== 0) {
      if (period === 0) period = role.token_period;
      else {
        period = Math.min(period, role.token_period);
        warnings.push(`Period specified both during creation call and in role; using the lesser value of ${period} seconds`);
      }
    }
  }

  let ttl = period > 0 ? period : req.ttl;
  const isRootToken = policies.length === 1 && policies[0] === 'root';
  if (ttl === 0 && explicitMaxTtl === 0 && isRootToken) {
    if (caller.expireTime !== 0) throw badRequest('expiring root tokens cannot create non-expiring root tokens');
  } else {
    if (ttl === 0) ttl = ctx.defaultTtl;
    // Periodic tokens may live forever through renewals; only explicit_max_ttl bounds them.
    const caps: Array<[number, string]> = [[explicitMaxTtl, 'explicit max TTL']];
    if (period === 0) caps.push([ctx.maxTtl, 'max TTL']);
    for (const [cap, name] of caps) {
      if (cap > 0 && ttl > cap) {
        ttl = cap;
        warnings.push(`TTL of the token was capped by its ${name}`);
      }
    }
  }
  // Non-expiring (root) tokens are neither renewable nor CIDR-bound, as in Vault.
  if (ttl === 0) boundCidrs = [];

  const spec: TokenSpec = {
    policies,
    parent: orphan ? '' : caller.id,
    path,
    displayName,
    meta: req.meta ?? null,
    numUses,
    ttl,
    explicitMaxTtl,
    period,
    // A token that never expires has nothing to renew.
    renewable: ttl > 0 && renewable,
    entityId: orphan ? '' : caller.entityId,
    // Vault ignores a chosen id for batch tokens (their text is their content).
    token: type === 'batch' ? undefined : customToken || undefined,
    type,
    ...(role ? { role: role.name } : {}),
    ...(boundCidrs.length ? { boundCidrs } : {}),
  };
  return { spec, warnings, ...(entityAlias !== undefined ? { entityAlias } : {}) };
}

/** The token's type from the request's `type` and the role's token_type (Vault's precedence). */
function decideType(requested: string, role: TokenRole | undefined): TokenType {
  let asked = requested;
  if (role) {
    switch (role.token_type) {
      case 'default-batch':
        if (asked === '') asked = 'batch';
        break;
      case 'service':
      case 'batch':
        asked = role.token_type;
        break;
      default:
        // default-service: the request's choice, else service.
        break;
    }
  }
  if (asked === '' || asked === 'service') return 'service';
  if (asked === 'batch') return 'batch';
  throw badRequest("invalid 'token_type' value");
}

/** `entity_alias`: only against a role, and only a name (or glob) the role's allowed_entity_aliases lists. */
function checkEntityAlias(alias: string, role: TokenRole | undefined): string {
  if (!role) throw badRequest("'entity_alias' is only allowed in combination with token role");
  const lower = alias.toLowerCase();
  const allowed = role.allowed_entity_aliases ?? [];
  if (!allowed.includes(lower) && !containsGlob(allowed, lower)) throw badRequest("invalid 'entity_alias' value");
  return alias;
}

/**
 * The child's policy set, by Vault's rules (resolveTokenPolicies), on
 * normalised names (trimmed, lower-cased), so "Root" or " root" are root:
 * - a role with allowed or disallowed policies decides alone (the parent's
 *   policies do not bound it): requested policies must be in the allowed
 *   lists (literal or glob), none in the disallowed ones; nothing requested
 *   means the role's allowed list, or the parent's policies when it has
 *   none; default is added unless disallowed or no_default_policy;
 * - otherwise, no policies requested: exactly the parent's (default is not added);
 * - without root or sudo: the request must be a subset of the parent's own
 *   policies, "default" included, and default is added only when the parent
 *   has it;
 * - with root or sudo: any policies, default added;
 * then no_default_policy removes default. Whatever the path, a set holding
 * root needs a parent holding root: sudo (or a role) never lifts that.
 */
function decidePolicies(req: TokenCreateRequest, parentPolicies: string[], privileged: boolean, role: TokenRole | undefined): string[] {
  const requested = req.policies ?? [];
  const noDefaultPolicy = req.noDefaultPolicy;
  const parent = sanitizePolicies(parentPolicies, false);
  let policies: string[];
  const roleDecides = role && (role.allowed_policies.length > 0 || role.disallowed_policies.length > 0 ||
    role.allowed_policies_glob.length > 0 || role.disallowed_policies_glob.length > 0);
  if (role && roleDecides) {
    // The role's token_no_default_policy counts here only (as in Vault); no_default_policy also strips an explicit "default" below.
    const addDefault = !noDefaultPolicy && !role.token_no_default_policy && !role.disallowed_policies.includes('default') && !containsGlob(role.disallowed_policies_glob, 'default');
    let chosen = requested.length > 0 ? sanitizePolicies(requested, addDefault) : [];
    if (role.allowed_policies.length > 0 || role.allowed_policies_glob.length > 0) {
      const allowed = sanitizePolicies(role.allowed_policies, addDefault);
      if (chosen.length === 0) {
        chosen = allowed;
      } else {
        const globs = sanitizePolicies(role.allowed_policies_glob, false);
        if (chosen.some((p) => !allowed.includes(p) && !containsGlob(globs, p))) {
          throw badRequest(`token policies (${goQuoted(chosen)}) must be subset of the role's allowed policies (${goQuoted(allowed)}) or glob policies (${goQuoted(globs)})`);
        }
      }
    } else if (chosen.length === 0) {
      chosen = sanitizePolicies(parent, addDefault);
    }
    const disallowed = uniqueLowercase(role.disallowed_policies);
    const disallowedGlobs = uniqueLowercase(role.disallowed_policies_glob);
    for (const p of chosen) {
      if (disallowed.includes(p) || containsGlob(disallowedGlobs, p)) throw badRequest(`token policy "${p}" is disallowed by this role`);
    }
    policies = sanitizePolicies(chosen, false);
  } else if (requested.length === 0) {
    policies = parent;
  } else if (!privileged) {
    const asked = sanitizePolicies(requested, false);
    if (!isPolicySubset(asked, parent)) throw badRequest('child policies must be subset of parent');
    policies = sanitizePolicies(asked, !noDefaultPolicy && parent.includes('default'));
  } else {
    policies = sanitizePolicies(requested, !noDefaultPolicy);
  }
  if (noDefaultPolicy) policies = policies.filter((p) => p !== 'default');
  if (policies.includes('root') && !parent.includes('root')) {
    throw badRequest('root tokens may not be created without parent token being root');
  }
  // Only the core mints wrapping tokens: a token holding this policy would pass for one.
  if (policies.includes(RESPONSE_WRAPPING_POLICY_NAME)) throw badRequest(`cannot assign policy "${RESPONSE_WRAPPING_POLICY_NAME}"`);
  return policies;
}

/** A list as Go's %q prints a []string: ["a" "b"]. */
function goQuoted(items: string[]): string {
  return `[${items.map((i) => JSON.stringify(i)).join(' ')}]`;
}
