import { badRequest } from '../errors.ts';
import { RESPONSE_WRAPPING_POLICY_NAME } from '../acl/default-policy.ts';
import { isPolicySubset, sanitizePolicies } from './policies.ts';
import type { TokenEntry } from './token-entry.ts';
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
  /** Full request path, recorded as the token's `path`. */
  path: string;
  defaultTtl: number;
  maxTtl: number;
}

const DISPLAY_NAME_UNSAFE = /[^a-zA-Z0-9-]/g;
// '' is Vault's "not chosen": a service token.
const SUPPORTED_TYPES = new Set(['', 'service', 'default', 'default-service']);

/**
 * Applies Vault's token-creation rules to a decoded create request and
 * returns the spec to store, plus warnings. Checks the field types cannot
 * express (privileges, policy subsets, ranges, TTL caps) happen here, in
 * Vault's order. Every violation is a 400.
 */
export function decideTokenSpec(req: TokenCreateRequest, ctx: CreateContext): { spec: TokenSpec; warnings: string[] } {
  // A use-limited token could escape its limit through an unlimited child (Vault checks this first).
  // LAST_USE_IN_PROGRESS (-1) counts as limited too: that token is spending its last use right now.
  if (ctx.caller.numUses !== 0) throw badRequest('restricted use token cannot generate child tokens');

  const privileged = ctx.callerPolicies.includes('root') || ctx.callerSudo === true;
  const warnings: string[] = [];
  const requirePrivilege = (what: string) => {
    if (!privileged) throw badRequest(`root or sudo privileges required to ${what}`);
  };

  if (req.type !== undefined && !SUPPORTED_TYPES.has(req.type)) throw badRequest("unsupported token type: only service tokens are available");

  const customToken = req.id;
  if (customToken !== undefined && customToken !== '') requirePrivilege('specify token id');

  // Policies are decided before the orphan check, in Vault's order.
  const policies = decidePolicies(req.policies, ctx.caller.policies, privileged, req.noDefaultPolicy);
  if (policies.length === 0) throw badRequest('token must have at least one policy');

  if (req.noParent && !ctx.orphanEndpoint) requirePrivilege('create orphan token');
  const orphan = req.noParent || ctx.orphanEndpoint;

  const { period, explicitMaxTtl } = req;
  if (period > 0) requirePrivilege('create periodic token');
  let ttl = period > 0 ? period : req.ttl;
  const isRootToken = policies.length === 1 && policies[0] === 'root';
  if (ttl === 0 && explicitMaxTtl === 0 && isRootToken) {
    if (ctx.caller.expireTime !== 0) throw badRequest('expiring root tokens cannot create non-expiring root tokens');
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

  const displayName = req.displayName
    ? `token-${req.displayName}`.replace(DISPLAY_NAME_UNSAFE, '-').replace(/-+$/, '')
    : 'token';
  // The type says integer; the range is this rule's.
  if (req.numUses < 0) throw badRequest('num_uses must be a non-negative integer');

  const spec: TokenSpec = {
    policies,
    parent: orphan ? '' : ctx.caller.id,
    path: ctx.path,
    displayName,
    meta: req.meta ?? null,
    numUses: req.numUses,
    ttl,
    explicitMaxTtl,
    period,
    // A token that never expires has nothing to renew.
    renewable: ttl > 0 && req.renewable,
    entityId: orphan ? '' : ctx.caller.entityId,
    token: customToken || undefined,
  };
  return { spec, warnings };
}

/**
 * The child's policy set, by Vault's rules (handleCreateCommon), on
 * normalised names (trimmed, lower-cased), so "Root" or " root" are root:
 * - no policies requested: exactly the parent's (default is not added);
 * - without root or sudo: the request must be a subset of the parent's own
 *   policies, "default" included, and default is added only when the parent
 *   has it;
 * - with root or sudo: any policies, default added;
 * then no_default_policy removes default. Whatever the path, a set holding
 * root needs a parent holding root: sudo never lifts that.
 */
function decidePolicies(requested: string[] | undefined, parentPolicies: string[], privileged: boolean, noDefaultPolicy: boolean): string[] {
  const parent = sanitizePolicies(parentPolicies, false);
  let policies: string[];
  if (!requested || requested.length === 0) {
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
