/**
 * Turning an auth method's login answer into a token, as Vault's core does
 * for every login (request_handling.go, RegisterAuth): the policies are
 * sanitised ("default" added unless refused, root refused), the TTL is
 * decided against the mount's default and max lease TTLs
 * (framework.CalculateTTL), and the token is an orphan recorded with the
 * mount that issued it, so disabling the mount revokes it.
 */
import type { LoginAuth } from '../../engines/types.ts';
import { addressAllowed } from '../cidr.ts';
import { badRequest, permissionDenied } from '../errors.ts';
import { SYSTEM_DEFAULT_LEASE_TTL, type MountEntry } from '../mounts.ts';
import { sanitizePolicies } from '../tokens/policies.ts';
import { authBlock } from '../tokens/token-response.ts';
import type { TokenStore } from '../tokens/token-store.ts';

/** Policies no token may be given (Vault's nonAssignablePolicies). */
const NON_ASSIGNABLE_POLICIES = ['response-wrapping', 'control-group'];

export interface LoginContext {
  tokens: TokenStore;
  /** The auth mount the login came through. */
  mount: MountEntry;
  /** The full request path, recorded as the token's `path` (e.g. "auth/userpass/login/alice"). */
  path: string;
  remoteAddress?: string;
  /** The identity entity the login resolved to ('' when none). */
  entityId?: string;
}

/** Go's time.Duration text for whole seconds ("1h0m0s", "5m0s", "30s"), as Vault's warnings print them. */
export function goDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

/** The mount's default and max lease TTLs (its tuned values, else the system's). */
export function mountTtls(mount: MountEntry): { defaultTtl: number; maxTtl: number } {
  return {
    defaultTtl: mount.config.default_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
    maxTtl: mount.config.max_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
  };
}

/**
 * Vault's framework.CalculateTTL at creation (no increment): the period,
 * else the method's TTL, else the mount's default; capped by the smallest
 * of the mount's max, the method's max and the explicit max, with Vault's
 * warnings. Returns the TTL and the renewal ceiling to record.
 */
export function calculateLoginTtl(auth: LoginAuth, mount: MountEntry): { ttl: number; maxTtl: number; warnings: string[] } {
  const { defaultTtl, maxTtl: mountMax } = mountTtls(mount);
  let maxTtl = mountMax;
  if (auth.maxTtl > 0 && auth.maxTtl < maxTtl) maxTtl = auth.maxTtl;
  const renewalCeiling = maxTtl;
  if (auth.explicitMaxTtl > 0 && auth.explicitMaxTtl < maxTtl) maxTtl = auth.explicitMaxTtl;
  const warnings: string[] = [];
  let ttl: number;
  let maxValid: number | undefined;
  if (auth.period > 0) {
    ttl = auth.period;
    if (ttl > maxTtl) {
      warnings.push(`period of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(maxTtl)}"; period value is capped accordingly`);
      ttl = maxTtl;
    }
    if (auth.explicitMaxTtl > 0) maxValid = auth.explicitMaxTtl;
  } else {
    ttl = auth.ttl > 0 ? auth.ttl : defaultTtl;
    maxValid = maxTtl;
  }
  if (maxValid !== undefined && ttl > maxValid) {
    warnings.push(`TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(maxValid)}"; TTL value is capped accordingly`);
    ttl = maxValid;
  }
  return { ttl, maxTtl: renewalCeiling, warnings };
}

/** The token's display name: the mount's path (without auth/, "/" as "-") then the method's name ("userpass-alice"). */
export function loginDisplayName(mount: MountEntry, displayName: string): string {
  const source = mount.path.replace(/^auth\//, '').replaceAll('/', '-');
  const name = source + displayName;
  return name.endsWith('-') ? name.slice(0, -1) : name;
}

/**
 * Issues the token for a successful login and returns Vault's `auth` block
 * and any TTL warnings. A token bound to CIDRs the client is outside of is
 * refused (403) before it is made: it could not be used anyway.
 */
export async function issueLoginToken(ctx: LoginContext, auth: LoginAuth): Promise<{ auth: Record<string, unknown>; warnings: string[] }> {
  const requested = auth.policies.map((p) => p.trim().toLowerCase());
  if (requested.includes('root')) throw badRequest('auth methods cannot create root tokens');
  const policies = sanitizePolicies(requested, !auth.noDefaultPolicy);
  const forbidden = policies.find((p) => NON_ASSIGNABLE_POLICIES.includes(p));
  if (forbidden) throw badRequest(`cannot assign policy "${forbidden}"`);
  if (auth.boundCidrs.length > 0 && !addressAllowed(ctx.remoteAddress, auth.boundCidrs)) throw permissionDenied();

  const { ttl, maxTtl, warnings } = calculateLoginTtl(auth, ctx.mount);
  const { token, entry } = await ctx.tokens.create({
    policies,
    parent: '',
    path: ctx.path,
    displayName: loginDisplayName(ctx.mount, auth.displayName),
    meta: { ...auth.metadata },
    numUses: auth.numUses,
    ttl,
    explicitMaxTtl: auth.explicitMaxTtl,
    period: auth.period,
    renewable: true,
    entityId: ctx.entityId ?? '',
    boundCidrs: auth.boundCidrs,
    maxTtl,
    mountAccessor: ctx.mount.accessor,
  });
  return { auth: authBlock(entry, token, ttl), warnings };
}
