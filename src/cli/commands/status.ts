import { ApiError } from '../client.ts';
import { callApi, expectArgs, FIELD_FLAG, type Command, type CommandContext } from '../command.ts';
import { formatKeyValue } from '../format.ts';
import { printOutput } from '../output.ts';

/** GET /v1/sys/seal-status, as the server returns it. */
export interface SealStatus {
  type?: string;
  initialized?: boolean;
  sealed?: boolean;
  t?: number;
  n?: number;
  progress?: number;
  nonce?: string;
  version?: string;
  build_date?: string;
  migration?: boolean;
  recovery_seal?: boolean;
  recovery_seal_type?: string;
  storage_type?: string;
  cluster_name?: string;
  cluster_id?: string;
  warnings?: string[];
}

/** GET /v1/sys/leader. */
export interface LeaderStatus {
  ha_enabled?: boolean;
  is_self?: boolean;
  active_time?: string;
  leader_address?: string;
  leader_cluster_address?: string;
  performance_standby?: boolean;
  performance_standby_last_remote_wal?: number;
  last_wal?: number;
  raft_committed_index?: number;
  raft_applied_index?: number;
}

/** What Vault's status prints: the seal status plus the leader's HA fields. */
export type StatusOutput = SealStatus & LeaderStatus;

/** Go's zero time, which Vault prints as active_time when there is none. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Vault's status object: the seal status, then `ha_enabled` and
 * `active_time` always, and the other leader fields only when set (they are
 * `omitempty` in Vault).
 */
export function statusOutput(seal: SealStatus, leader: LeaderStatus): StatusOutput {
  const out: StatusOutput = { ...seal, ha_enabled: Boolean(leader.ha_enabled) };
  if (leader.is_self) out.is_self = true;
  out.active_time = leader.active_time || ZERO_TIME;
  for (const k of ['leader_address', 'leader_cluster_address', 'performance_standby', 'performance_standby_last_remote_wal', 'last_wal', 'raft_committed_index', 'raft_applied_index'] as const) {
    if (leader[k]) (out as Record<string, unknown>)[k] = leader[k];
  }
  return out;
}

/**
 * Rows of Vault's seal-status table. Under an auto-unseal (HSM) seal the
 * share counts are recovery shares, so the labels say so.
 */
export function sealStatusRows(s: StatusOutput): [string, unknown][] {
  const rows: [string, unknown][] = [['Seal Type', s.type ?? '']];
  if (s.recovery_seal) rows.push(['Recovery Seal Type', s.recovery_seal_type ?? 'shamir']);
  rows.push(['Initialized', Boolean(s.initialized)], ['Sealed', Boolean(s.sealed)]);
  rows.push([s.recovery_seal ? 'Total Recovery Shares' : 'Total Shares', s.n ?? 0], ['Threshold', s.t ?? 0]);
  if (s.sealed) rows.push(['Unseal Progress', `${s.progress ?? 0}/${s.t ?? 0}`], ['Unseal Nonce', s.nonce ?? '']);
  if (s.migration) rows.push(['Seal Migration in Progress', true]);
  rows.push(['Version', s.version ?? ''], ['Build Date', s.build_date ?? ''], ['Storage Type', s.storage_type ?? '']);
  if (s.cluster_name && s.cluster_id) rows.push(['Cluster Name', s.cluster_name], ['Cluster ID', s.cluster_id]);
  rows.push(['HA Enabled', Boolean(s.ha_enabled)]);
  if (s.ha_enabled && !s.sealed) {
    rows.push(['HA Cluster', s.leader_cluster_address ?? ''], ['HA Mode', s.is_self ? 'active' : 'standby']);
    if (s.is_self && s.active_time && s.active_time !== ZERO_TIME) rows.push(['Active Since', s.active_time]);
    if (!s.is_self) rows.push(['Active Node Address', s.leader_address || '<none>']);
  }
  if (s.warnings?.length) rows.push(['Warnings', s.warnings]);
  return rows;
}

/**
 * Prints a seal status as Vault does (status, unseal): with the HA fields
 * of sys/leader, which a sealed HA node answers with "Vault is sealed".
 */
export async function printSealStatus(ctx: CommandContext, status: SealStatus, exitCode = 2): Promise<number> {
  let leader: LeaderStatus;
  try {
    leader = (await ctx.client().request<LeaderStatus>('GET', 'sys/leader')) ?? {};
  } catch (err) {
    if (err instanceof ApiError && err.errors.some((e) => /is sealed/.test(e))) leader = { ha_enabled: true };
    else leader = await callApi('checking leader status', Promise.reject(err), exitCode);
  }
  const out = statusOutput(status, leader);
  return printOutput(ctx, out, () => formatKeyValue(sealStatusRows(out)));
}

export const statusCommand: Command = {
  name: ['status'],
  synopsis: 'Print seal and HA status',
  help: `Usage: tresor status [options]

  Prints whether the server is initialised and sealed, its seal type and
  share counts. It works whether or not the server is sealed.

  Exit code: 0 when unsealed, 2 when sealed, 1 on error.`,
  flags: { ...FIELD_FLAG },
  async run(ctx) {
    expectArgs(ctx, 0);
    const status = await callApi('checking seal status', ctx.client().request<SealStatus>('GET', 'sys/seal-status'), 1);
    const code = await printSealStatus(ctx, status ?? {}, 1);
    if (code !== 0) return code;
    return status?.sealed ? 2 : 0;
  },
};
