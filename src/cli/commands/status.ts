import { callApi, expectArgs, printJson, println, type Command, type CommandContext } from '../command.ts';
import { formatKeyValue } from '../format.ts';

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
  ha_enabled?: boolean;
}

/**
 * Rows of Vault's seal-status table. Under an auto-unseal (HSM) seal the
 * share counts are recovery shares, so the labels say so.
 */
export function sealStatusRows(s: SealStatus): [string, unknown][] {
  const rows: [string, unknown][] = [['Seal Type', s.type ?? '']];
  if (s.recovery_seal) rows.push(['Recovery Seal Type', s.recovery_seal_type ?? 'shamir']);
  rows.push(['Initialized', Boolean(s.initialized)], ['Sealed', Boolean(s.sealed)]);
  rows.push([s.recovery_seal ? 'Total Recovery Shares' : 'Total Shares', s.n ?? 0], ['Threshold', s.t ?? 0]);
  if (s.sealed && (s.progress ?? 0) > 0) {
    rows.push(['Unseal Progress', `${s.progress}/${s.t ?? 0}`], ['Unseal Nonce', s.nonce ?? '']);
  }
  if (s.migration) rows.push(['Seal Migration in Progress', true]);
  rows.push(['Version', s.version ?? ''], ['Build Date', s.build_date ?? ''], ['Storage Type', s.storage_type ?? '']);
  if (s.cluster_name && s.cluster_id) rows.push(['Cluster Name', s.cluster_name], ['Cluster ID', s.cluster_id]);
  rows.push(['HA Enabled', Boolean(s.ha_enabled)]);
  return rows;
}

/** Prints a seal status in the chosen format. */
export function printSealStatus(ctx: CommandContext, status: SealStatus): void {
  if (ctx.format === 'json') printJson(ctx, status);
  else println(ctx, formatKeyValue(sealStatusRows(status)));
}

export const statusCommand: Command = {
  name: ['status'],
  synopsis: 'Print seal and HA status',
  help: `Usage: tresor status [options]

  Prints whether the server is initialised and sealed, its seal type and
  share counts. It works whether or not the server is sealed.

  Exit code: 0 when unsealed, 2 when sealed, 1 on error.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 0);
    const status = await callApi('checking seal status', ctx.client().request<SealStatus>('GET', 'sys/seal-status'), 1);
    printSealStatus(ctx, status ?? {});
    return status?.sealed ? 2 : 0;
  },
};
