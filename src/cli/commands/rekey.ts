/**
 * `tresor operator rekey`: replace the key shares (or, with
 * -target=recovery, the recovery shares) with a new set, optionally
 * PGP-encrypted, backed up, and verified before they take effect.
 */
import { UsageError } from '../args.ts';
import { callApi, CliError, dropUndefined, expectArgs, printJson, println, type Command, type CommandContext } from '../command.ts';
import { formatKeyValue } from '../format.ts';
import { keyFromArgsOrPrompt, numberedKeys, readPgpKeyFiles } from './keys.ts';

export interface RekeyStatus {
  nonce?: string;
  started?: boolean;
  t?: number;
  n?: number;
  progress?: number;
  required?: number;
  pgp_fingerprints?: string[] | null;
  backup?: boolean;
  verification_required?: boolean;
}

export interface RekeyUpdateResponse extends RekeyStatus {
  complete?: boolean;
  keys?: string[];
  keys_base64?: string[];
  verification_nonce?: string;
}

interface RekeyVerifyStatus {
  nonce?: string;
  started?: boolean;
  t?: number;
  n?: number;
  progress?: number;
  complete?: boolean;
}

/** API paths for the barrier (unseal) keys or the recovery keys. */
export function rekeyPaths(target: string): { base: string; backup: string } {
  if (target === 'barrier') return { base: 'sys/rekey', backup: 'sys/rekey/backup' };
  if (target === 'recovery') return { base: 'sys/rekey-recovery-key', backup: 'sys/rekey/recovery-key-backup' };
  throw new UsageError(`-target must be "barrier" or "recovery", not "${target}"`);
}

function statusTable(s: RekeyStatus): string {
  const rows: [string, unknown][] = [
    ['Nonce', s.nonce ?? ''],
    ['Started', Boolean(s.started)],
    ['Rekey Progress', `${s.progress ?? 0}/${s.required ?? 0}`],
    ['New Shares', s.n ?? 0],
    ['New Threshold', s.t ?? 0],
    ['Verification Required', Boolean(s.verification_required)],
  ];
  if (s.pgp_fingerprints?.length) rows.push(['PGP Fingerprints', s.pgp_fingerprints]);
  if (s.backup) rows.push(['Backup', true]);
  return formatKeyValue(rows);
}

function verifyStatusTable(s: RekeyVerifyStatus): string {
  return formatKeyValue([
    ['Nonce', s.nonce ?? ''],
    ['Started', Boolean(s.started)],
    ['New Shares', s.n ?? 0],
    ['New Threshold', s.t ?? 0],
    ['Verification Progress', `${s.progress ?? 0}/${s.t ?? 0}`],
  ]);
}

/** The text printed once the last share is in: the new keys, or (HSM barrier rekey) a note that none are issued. */
export function formatRekeyComplete(res: RekeyUpdateResponse, recovery: boolean): string {
  // Base64 as Vault prints it; PGP-encrypted shares then decrypt with `base64 -d | gpg -dq`.
  const keys = res.keys_base64?.length ? res.keys_base64 : (res.keys ?? []);
  // Under an HSM seal a barrier rekey returns no shares: there is nothing to hand out.
  if (keys.length === 0 && !recovery) {
    return [
      `Operation nonce: ${res.nonce ?? ''}`,
      '',
      'Root key rekeyed. The new root key is wrapped by the HSM and never shown; no key shares were issued.',
      'The recovery keys are unchanged and the server keeps auto-unsealing.',
    ].join('\n');
  }
  const what = recovery ? 'Recovery key' : 'Tresor';
  const out = [numberedKeys('Key', keys), '', `Operation nonce: ${res.nonce ?? ''}`, ''];
  if (res.verification_required) {
    out.push(
      `${what} rekeyed with ${keys.length} key shares and a key threshold of ${res.t ?? 0}, pending verification.`,
      'The old keys stay in force until a threshold of these NEW shares is given to',
      `"tresor operator rekey -verify" with verification nonce ${res.verification_nonce ?? ''}.`,
    );
  } else {
    out.push(
      `${what} rekeyed with ${keys.length} key shares and a key threshold of ${res.t ?? 0}.`,
      'The old shares no longer work. Hand each new share to a different trusted person.',
    );
  }
  if (res.backup) out.push('', 'The encrypted shares were also backed up on the server ("-backup-retrieve").');
  return out.join('\n');
}

function show(ctx: CommandContext, value: unknown, table: () => string): number {
  if (ctx.format !== 'table') printJson(ctx, value);
  else println(ctx, table());
  return 0;
}

async function provideKey(ctx: CommandContext, base: string, verify: boolean, recovery: boolean): Promise<number> {
  const client = ctx.client();
  const stage = verify ? `${base}/verify` : `${base}/init`;
  let nonce = ctx.flags.string('nonce');
  if (!nonce) {
    const status = await callApi('getting rekey status', client.request<RekeyStatus>('GET', stage));
    if (!status?.started) throw new CliError('No rekey is in progress. Start one with "tresor operator rekey -init".', 1);
    nonce = status.nonce;
  }
  const key = await keyFromArgsOrPrompt(ctx);
  const path = verify ? `${base}/verify` : `${base}/update`;
  const res = (await callApi('providing unseal key', client.request<RekeyUpdateResponse>('PUT', path, { body: { key, nonce } }))) ?? {};
  if (ctx.format !== 'table') return show(ctx, res, () => '');
  if (verify) {
    if (res.complete) println(ctx, `Success! Rekey verified for nonce ${res.nonce ?? nonce}. The new shares are now in force.`);
    else println(ctx, verifyStatusTable(res));
  } else if (res.complete) {
    println(ctx, formatRekeyComplete(res, recovery));
  } else {
    println(ctx, statusTable(res));
  }
  return 0;
}

export const rekeyCommand: Command = {
  name: ['operator', 'rekey'],
  synopsis: 'Replace the key shares with a new set',
  help: `Usage: tresor operator rekey [options] [KEY]

  Replaces the key shares (or, with -target=recovery, the recovery shares)
  with a new set. Steps:

    1. Start:        tresor operator rekey -init -key-shares=5 -key-threshold=3
    2. Each holder:  tresor operator rekey [-nonce=N] [KEY]
    3. With -verify at -init, new share holders confirm their shares:
                     tresor operator rekey -verify [-nonce=N] [KEY]

  Other modes: -status, -cancel (with -verify: the verification stage),
  -backup-retrieve and -backup-delete for PGP-encrypted backups. Without KEY
  the share is read from a hidden prompt.`,
  flags: {
    init: { kind: 'bool', description: 'Start a rekey.' },
    cancel: { kind: 'bool', description: 'Cancel the rekey (or, with -verify, the verification).' },
    status: { kind: 'bool', description: 'Print the rekey (or, with -verify, the verification) status.' },
    verify: { kind: 'bool', description: 'With -init: require the new shares to be verified. Otherwise: act on the verification stage.' },
    'backup-retrieve': { kind: 'bool', description: 'Print the PGP-encrypted backup of the new shares.' },
    'backup-delete': { kind: 'bool', description: 'Delete the PGP-encrypted backup of the new shares.' },
    nonce: { kind: 'string', placeholder: 'string', description: 'Nonce of the rekey; looked up from the status when omitted.' },
    'key-shares': { kind: 'int', default: 5, description: 'Number of new key shares.' },
    'key-threshold': { kind: 'int', default: 3, description: 'Number of new shares needed to unseal.' },
    'pgp-keys': { kind: 'list', commaList: true, placeholder: 'file1,file2', description: 'Comma-separated PGP public key files to encrypt the new shares to.' },
    backup: { kind: 'bool', description: 'Keep a PGP-encrypted backup of the new shares on the server (needs -pgp-keys).' },
    target: { kind: 'string', default: 'barrier', placeholder: 'barrier|recovery', description: 'Which shares to replace.' },
  },
  async run(ctx) {
    const f = ctx.flags;
    const target = f.string('target') ?? 'barrier';
    const { base, backup } = rekeyPaths(target);
    const recovery = target === 'recovery';
    const verify = f.bool('verify');
    const client = ctx.client();
    const modes = ['init', 'cancel', 'status', 'backup-retrieve', 'backup-delete'].filter((m) => f.bool(m));
    if (modes.length > 1) throw new UsageError('only one of -init, -cancel, -status, -backup-retrieve, -backup-delete may be given');

    switch (modes[0]) {
      case 'init': {
        expectArgs(ctx, 0);
        const pgpKeys = readPgpKeyFiles(f.list('pgp-keys'));
        if (f.bool('backup') && pgpKeys.length === 0) throw new UsageError('-backup needs -pgp-keys');
        // Under an HSM seal the root key is not split: default to 1 of 1 rather than 5 of 3.
        let shares = f.int('key-shares');
        let threshold = f.int('key-threshold');
        if (!recovery && !f.has('key-shares') && !f.has('key-threshold')) {
          const seal = await callApi('reading seal status', client.request<{ recovery_seal?: boolean }>('GET', 'sys/seal-status'));
          if (seal?.recovery_seal) [shares, threshold] = [1, 1];
        }
        const body = dropUndefined({
          secret_shares: shares,
          secret_threshold: threshold,
          pgp_keys: pgpKeys.length ? pgpKeys : undefined,
          backup: f.bool('backup') || undefined,
          require_verification: verify || undefined,
        });
        const status = await callApi('initializing rekey', client.request<RekeyStatus>('PUT', `${base}/init`, { body }));
        return show(ctx, status, () => statusTable(status ?? {}));
      }
      case 'cancel': {
        expectArgs(ctx, 0);
        const stage = verify ? `${base}/verify` : `${base}/init`;
        // The server wants the operation's nonce in the DELETE body; look it up when not given.
        const nonce = f.string('nonce') ?? (await callApi('getting rekey status', client.request<RekeyStatus>('GET', stage)))?.nonce;
        await callApi('canceling rekey', client.request('DELETE', stage, { body: nonce ? { nonce } : undefined }));
        println(ctx, verify ? 'Success! Canceled rekey verification (if it was started)' : 'Success! Canceled rekeying (if it was started)');
        return 0;
      }
      case 'status': {
        expectArgs(ctx, 0);
        if (verify) {
          const status = await callApi('getting rekey verification status', client.request<RekeyVerifyStatus>('GET', `${base}/verify`));
          return show(ctx, status, () => verifyStatusTable(status ?? {}));
        }
        const status = await callApi('getting rekey status', client.request<RekeyStatus>('GET', `${base}/init`));
        return show(ctx, status, () => statusTable(status ?? {}));
      }
      case 'backup-retrieve': {
        expectArgs(ctx, 0);
        const res = await callApi('retrieving backup keys', client.request<{ data?: { nonce?: string; keys?: Record<string, string[]> } }>('GET', backup, { allowNotFound: true }));
        if (!res) throw new CliError('No backed-up keys found', 2);
        return show(ctx, res, () => formatKeyValue([['nonce', res.data?.nonce ?? ''], ...Object.entries(res.data?.keys ?? {})]));
      }
      case 'backup-delete': {
        expectArgs(ctx, 0);
        await callApi('deleting backup keys', client.request('DELETE', backup));
        println(ctx, 'Success! Deleted stored keys (if they existed)');
        return 0;
      }
      default:
        expectArgs(ctx, 0, 1);
        return provideKey(ctx, base, verify, recovery);
    }
  },
};
