import { badRequest } from '../errors.ts';
import {
  durationSeconds, optionalBool, optionalNonNegativeInt, optionalString, optionalStringList, optionalStringMap,
} from '../request-fields.ts';
import { RESPONSE_WRAPPING_POLICY_NAME } from '../acl/default-policy.ts';
import { isPolicySubset, sanitizePolicies } from './policies.ts';
import type { TokenEntry } from './token-entry.ts';
import type { TokenSpec } from './token-store.ts';

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
const SUPPORTED_TYPES = new Set(['service', 'default', 'default-service']);

/**
 * Applies Vault's token-creation rules to a request body and returns the
 * spec to store, plus warnings. Body fields: id, policies, meta, no_parent,
 * no_default_policy, renewable (default true), ttl, explicit_max_ttl,
 * period, display_name, num_uses, type. Every violation is a 400.
 */
export function decideTokenSpec(data: Record<string, unknown>, ctx: CreateContext): { spec: TokenSpec; warnings: string[] } {
  // A use-limited token could escape its limit through an unlimited child (Vault checks this first).
  // LAST_USE_IN_PROGRESS (-1) counts as limited too: that token is spending its last use right now.
  if (ctx.caller.numUses !== 0) throw badRequest('restricted use token cannot generate child tokens');

  const privileged = ctx.callerPolicies.includes('root') || ctx.callerSudo === true;
  const warnings: string[] = [];
  const requirePrivilege = (what: string) => {
    if (!privileged) throw badRequest(`root or sudo privileges required to ${what}`);
  };

  const type = optionalString(data.type, 'type');
  if (type !== undefined && !SUPPORTED_TYPES.has(type)) throw badRequest("unsupported token type: only service tokens are available");

  const customToken = optionalString(data.id, 'id');
  if (customToken !== undefined && customToken !== '') requirePrivilege('specify token id');

  // Policies are decided before the orphan check, in Vault's order.
  const noDefaultPolicy = optionalBool(data.no_default_policy, 'no_default_policy') ?? false;
  const policies = decidePolicies(optionalStringList(data.policies, 'policies'), ctx.caller.policies, privileged, noDefaultPolicy);
  if (policies.length === 0) throw badRequest('token must have at least one policy');

  const noParent = optionalBool(data.no_parent, 'no_parent') ?? false;
  if (noParent && !ctx.orphanEndpoint) requirePrivilege('create orphan token');
  const orphan = noParent || ctx.orphanEndpoint;

  const period = durationSeconds(data.period, 'period');
  if (period > 0) requirePrivilege('create periodic token');
  const explicitMaxTtl = durationSeconds(data.explicit_max_ttl, 'explicit_max_ttl');
  let ttl = period > 0 ? period : durationSeconds(data.ttl, 'ttl');
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

  const renewableRequested = optionalBool(data.renewable, 'renewable') ?? true;
  const displayNameInput = optionalString(data.display_name, 'display_name');
  const displayName = displayNameInput
    ? `token-${displayNameInput}`.replace(DISPLAY_NAME_UNSAFE, '-').replace(/-+$/, '')
    : 'token';

  const spec: TokenSpec = {
    policies,
    parent: orphan ? '' : ctx.caller.id,
    path: ctx.path,
    displayName,
    meta: optionalStringMap(data.meta, 'meta') ?? null,
    numUses: optionalNonNegativeInt(data.num_uses, 'num_uses') ?? 0,
    ttl,
    explicitMaxTtl,
    period,
    // A token that never expires has nothing to renew.
    renewable: ttl > 0 && renewableRequested,
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
