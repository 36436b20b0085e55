import type { TokenEntry } from './token-entry.ts';

const rfc3339 = (ms: number) => new Date(ms).toISOString();

/** Whole seconds left before the token expires; 0 for non-expiring tokens. */
export function remainingTtl(entry: TokenEntry, nowMs: number): number {
  return entry.expireTime === 0 ? 0 : Math.max(0, Math.floor((entry.expireTime - nowMs) / 1000));
}

/**
 * Vault's `auth` block for token create/renew responses:
 * {client_token, accessor, policies, token_policies, metadata, lease_duration,
 *  renewable, entity_id, token_type, orphan, mfa_requirement, num_uses}.
 * `clientToken` is '' when the caller did not present the raw token (renew-accessor).
 */
export function authBlock(entry: TokenEntry, clientToken: string, leaseDuration: number): Record<string, unknown> {
  return {
    client_token: clientToken,
    accessor: entry.accessor,
    policies: entry.policies,
    token_policies: entry.policies,
    metadata: entry.meta,
    lease_duration: leaseDuration,
    renewable: entry.renewable,
    entity_id: entry.entityId,
    token_type: entry.type,
    orphan: entry.orphan,
    mfa_requirement: null,
    num_uses: entry.numUses,
  };
}

/**
 * Vault's `data` for token lookups. `id` is the raw token when the caller
 * supplied it (lookup, lookup-self) and '' otherwise (lookup-accessor).
 * Times: creation_time is unix seconds, issue_time/expire_time RFC 3339
 * (expire_time null when the token never expires); TTLs in seconds.
 */
export function lookupData(entry: TokenEntry, clientToken: string, nowMs: number): Record<string, unknown> {
  const data: Record<string, unknown> = {
    accessor: entry.accessor,
    creation_time: entry.creationTime,
    creation_ttl: entry.ttl,
    display_name: entry.displayName,
    entity_id: entry.entityId,
    expire_time: entry.expireTime === 0 ? null : rfc3339(entry.expireTime),
    explicit_max_ttl: entry.explicitMaxTtl,
    id: clientToken,
    issue_time: rfc3339(entry.creationTime * 1000),
    meta: entry.meta,
    num_uses: entry.numUses,
    orphan: entry.orphan,
    path: entry.path,
    policies: entry.policies,
    renewable: entry.renewable,
    ttl: remainingTtl(entry, nowMs),
    type: entry.type,
  };
  if (entry.period > 0) data.period = entry.period;
  if (entry.role) data.role = entry.role;
  if (entry.boundCidrs?.length) data.bound_cidrs = entry.boundCidrs;
  return data;
}
