/**
 * `tresor operator init|unseal|seal|rotate|key-status`.
 * (generate-root and rekey live in their own files.)
 */
import { UsageError } from '../args.ts';
import { callApi, dropUndefined, expectArgs, FIELD_FLAG, println, type Command, type CommandContext } from '../command.ts';
import { formatKeyValue } from '../format.ts';
import { printOutput } from '../output.ts';
import { keyFromArgsOrPrompt, numberedKeys, readPgpKeyFile, readPgpKeyFiles } from './keys.ts';
import { printSealStatus, type SealStatus } from './status.ts';

/** PUT /v1/sys/init response. */
export interface InitResponse {
  keys?: string[];
  keys_base64?: string[];
  recovery_keys?: string[];
  recovery_keys_base64?: string[];
  root_token?: string;
}

/** `operator init -format=json`: Vault's own names (its machineInit), not the API's. */
export interface MachineInit {
  unseal_keys_b64: string[];
  unseal_keys_hex: string[];
  unseal_shares: number;
  unseal_threshold: number;
  recovery_keys_b64: string[];
  recovery_keys_hex: string[];
  recovery_keys_shares: number;
  recovery_keys_threshold: number;
  root_token: string;
}

/**
 * The init response under Vault CLI's names. As in Vault, the unseal share
 * counts are 1/1 when no unseal keys came back (an HSM seal keeps the root
 * key), else what was asked for; the recovery counts are what was asked for.
 */
export function machineInit(res: InitResponse, asked: { shares?: number; threshold?: number; recoveryShares?: number; recoveryThreshold?: number }): MachineInit {
  const noKeys = (res.keys ?? []).length === 0;
  return {
    unseal_keys_b64: res.keys_base64 ?? [],
    unseal_keys_hex: res.keys ?? [],
    unseal_shares: noKeys ? 1 : (asked.shares ?? 0),
    unseal_threshold: noKeys ? 1 : (asked.threshold ?? 0),
    recovery_keys_b64: res.recovery_keys_base64 ?? [],
    recovery_keys_hex: res.recovery_keys ?? [],
    recovery_keys_shares: asked.recoveryShares ?? 0,
    recovery_keys_threshold: asked.recoveryThreshold ?? 0,
    root_token: res.root_token ?? '',
  };
}

const DEFAULT_SHARES = 5;
const DEFAULT_THRESHOLD = 3;

/**
 * The table-format text `operator init` prints: the shares, the root token,
 * and what the operator must do with them.
 */
export function formatInitOutput(res: InitResponse, shares: number, threshold: number, recovery: boolean): string {
  // Base64, as Vault prints them: PGP-encrypted shares then decrypt with `base64 -d | gpg -dq`.
  const pick = (plain?: string[], b64?: string[]) => b64 ?? plain ?? [];
  const out: string[] = [];
  const keys = recovery ? pick(res.recovery_keys, res.recovery_keys_base64) : pick(res.keys, res.keys_base64);
  if (keys.length > 0) out.push(numberedKeys(recovery ? 'Recovery Key' : 'Unseal Key', keys), '');
  out.push(`Initial Root Token: ${res.root_token ?? ''}`, '');
  if (recovery) {
    out.push(
      'Success! Tresor is initialized',
      '',
      `Recovery key initialized with ${shares} key shares and a key threshold of ${threshold}.`,
      'Keep each recovery key share with a different person. The HSM unseals the server',
      'at start-up; a quorum of recovery key shares authorises rekeying, generating a',
      'new root token, and unsealing after the server was sealed by hand',
      '("tresor operator seal").',
    );
  } else {
    out.push(
      `Tresor initialized with ${shares} key shares and a key threshold of ${threshold}.`,
      'Hand each key share printed above to a different trusted person. Whenever the',
      `server restarts or is sealed, ${threshold} of these shares are needed to unseal it.`,
      '',
      'The root key is not stored anywhere: if fewer than the threshold of shares',
      'survive, the data can never be unsealed again.',
      '',
      'New shares can be made with "tresor operator rekey" while a quorum of the',
      'current shares is still available.',
    );
  }
  return out.join('\n');
}

const initCommand: Command = {
  name: ['operator', 'init'],
  synopsis: 'Initialise a new server',
  help: `Usage: tresor operator init [options]

  Initialises a new server: creates the root key, splits it into key shares
  (or recovery key shares under an HSM seal) and returns the initial root
  token. This runs once per storage backend.

  With -status, only reports whether the server is initialised (exit code 0
  when initialised, 2 when not, 1 on error).`,
  flags: {
    'key-shares': { kind: 'int', description: 'Number of key shares to split the root key into (5 unless an HSM seal is used).' },
    'key-threshold': { kind: 'int', description: 'Number of key shares needed to unseal (3 unless an HSM seal is used).' },
    'pgp-keys': { kind: 'list', commaList: true, placeholder: 'file1,file2', description: 'Comma-separated PGP public key files, one per key share; each share is encrypted to its key.' },
    'root-token-pgp-key': { kind: 'string', placeholder: 'file', description: 'PGP public key file to encrypt the initial root token to.' },
    'recovery-shares': { kind: 'int', description: 'Number of recovery key shares (HSM seal only). Defaults to 5.' },
    'recovery-threshold': { kind: 'int', description: 'Number of recovery key shares needed (HSM seal only). Defaults to 3.' },
    'recovery-pgp-keys': { kind: 'list', commaList: true, placeholder: 'file1,file2', description: 'Comma-separated PGP public key files for the recovery key shares.' },
    'stored-shares': { kind: 'int', description: 'Number of key shares to store with the seal (HSM seal only).' },
    status: { kind: 'bool', description: 'Only print whether the server is initialised.' },
    ...FIELD_FLAG,
  },
  async run(ctx) {
    expectArgs(ctx, 0);
    if (ctx.flags.bool('status')) return initStatus(ctx);

    const sealStatus = await callApi('checking seal status', ctx.client().request<SealStatus>('GET', 'sys/seal-status'));
    const recovery = Boolean(sealStatus?.recovery_seal);
    const f = ctx.flags;
    const pgpKeys = readPgpKeyFiles(f.list('pgp-keys'));
    const recoveryPgpKeys = readPgpKeyFiles(f.list('recovery-pgp-keys'));
    const rootPgp = f.string('root-token-pgp-key');
    // Under an HSM seal the barrier key is not split, so secret shares default to none.
    const shares = f.int('key-shares') ?? (recovery ? undefined : DEFAULT_SHARES);
    const threshold = f.int('key-threshold') ?? (recovery ? undefined : DEFAULT_THRESHOLD);
    const recoveryShares = f.int('recovery-shares') ?? (recovery ? DEFAULT_SHARES : undefined);
    const recoveryThreshold = f.int('recovery-threshold') ?? (recovery ? DEFAULT_THRESHOLD : undefined);
    const body = dropUndefined({
      secret_shares: shares,
      secret_threshold: threshold,
      pgp_keys: pgpKeys.length ? pgpKeys : undefined,
      root_token_pgp_key: rootPgp ? readPgpKeyFile(rootPgp) : undefined,
      recovery_shares: recoveryShares,
      recovery_threshold: recoveryThreshold,
      recovery_pgp_keys: recoveryPgpKeys.length ? recoveryPgpKeys : undefined,
      stored_shares: f.int('stored-shares'),
    });
    const res = (await callApi('initializing', ctx.client().request<InitResponse>('PUT', 'sys/init', { body }))) ?? {};
    if (ctx.format !== 'table' || ctx.flags.string('field')) {
      return printOutput(ctx, machineInit(res, { shares, threshold, recoveryShares, recoveryThreshold }), () => '');
    }
    const recoveryOutput = recovery || (res.recovery_keys_base64?.length ?? 0) > 0;
    println(
      ctx,
      formatInitOutput(
        res,
        (recoveryOutput ? recoveryShares : shares) ?? 0,
        (recoveryOutput ? recoveryThreshold : threshold) ?? 0,
        recoveryOutput,
      ),
    );
    return 0;
  },
};

async function initStatus(ctx: CommandContext): Promise<number> {
  const res = await callApi('checking init status', ctx.client().request<{ initialized?: boolean }>('GET', 'sys/init'), 1);
  const initialized = Boolean(res?.initialized);
  printOutput(ctx, { initialized }, () => (initialized ? 'Tresor is initialized' : 'Tresor is not initialized'));
  return initialized ? 0 : 2;
}

const unsealCommand: Command = {
  name: ['operator', 'unseal'],
  synopsis: 'Provide a key share to unseal the server',
  help: `Usage: tresor operator unseal [options] [KEY]

  Provides one key share towards unsealing the server. Once the threshold of
  shares is reached the server unseals. Without KEY the share is read from a
  hidden prompt (or one line of stdin when stdin is not a terminal), which
  keeps it out of shell history.

  -reset discards the shares provided so far. -migrate is used while
  migrating between seals.`,
  flags: {
    reset: { kind: 'bool', description: 'Discard the key shares provided so far.' },
    migrate: { kind: 'bool', description: 'Mark this share as part of a seal migration.' },
    ...FIELD_FLAG,
  },
  async run(ctx) {
    expectArgs(ctx, 0, 1);
    let body: Record<string, unknown>;
    if (ctx.flags.bool('reset')) {
      if (ctx.args.length) throw new UsageError('-reset takes no key');
      body = { reset: true };
    } else {
      body = { key: await keyFromArgsOrPrompt(ctx) };
      if (ctx.flags.bool('migrate')) body.migrate = true;
    }
    const status = await callApi('unsealing', ctx.client().request<SealStatus>('PUT', 'sys/unseal', { body }));
    return printSealStatus(ctx, status ?? {});
  },
};

const sealCommand: Command = {
  name: ['operator', 'seal'],
  synopsis: 'Seal the server',
  help: `Usage: tresor operator seal [options]

  Seals the server: the in-memory keys are dropped and every request fails
  until it is unsealed again. Needs a token with sudo on sys/seal.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 0);
    await callApi('sealing', ctx.client().request('PUT', 'sys/seal'));
    println(ctx, 'Success! Tresor is sealed.');
    return 0;
  },
};

/** GET /v1/sys/key-status response (the fields are in `data`, and also at the top level). */
interface KeyStatus {
  term?: number;
  install_time?: string;
  encryptions?: number;
}

/** The key status once, as Vault's CLI prints it: term, install_time, encryptions. */
async function readKeyStatus(ctx: CommandContext): Promise<Required<KeyStatus>> {
  const res = await callApi('reading key status', ctx.client().request<{ data?: KeyStatus } & KeyStatus>('GET', 'sys/key-status'));
  const s = res?.data ?? res ?? {};
  return { term: s.term ?? 0, install_time: s.install_time ?? '', encryptions: s.encryptions ?? 0 };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An RFC 3339 time as Vault prints install times: `02 Jan 06 15:04 UTC`. */
export function formatInstallTime(iso: string | undefined): string {
  const d = iso ? new Date(iso) : undefined;
  if (!d || Number.isNaN(d.getTime())) return iso ?? '';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

function keyStatusTable(s: KeyStatus): string {
  const rows: [string, unknown][] = [
    ['Key Term', s.term ?? 0],
    ['Install Time', formatInstallTime(s.install_time)],
  ];
  if (s.encryptions) rows.push(['Encryption Count', s.encryptions]);
  return formatKeyValue(rows, false);
}

const rotateCommand: Command = {
  name: ['operator', 'rotate'],
  synopsis: 'Rotate the barrier encryption key',
  help: `Usage: tresor operator rotate [options]

  Adds a new barrier encryption key and makes it the active one. Data written
  from now on uses the new key; older data stays readable.`,
  flags: { ...FIELD_FLAG },
  async run(ctx) {
    expectArgs(ctx, 0);
    await callApi('rotating key', ctx.client().request('PUT', 'sys/rotate'));
    const status = await readKeyStatus(ctx);
    return printOutput(ctx, status, () => `Success! Rotated key\n\n${keyStatusTable(status)}`);
  },
};

const keyStatusCommand: Command = {
  name: ['operator', 'key-status'],
  synopsis: 'Show the active barrier key term',
  help: `Usage: tresor operator key-status [options]

  Shows the term of the active barrier encryption key, when it was installed
  and how many encryptions it has done.`,
  flags: { ...FIELD_FLAG },
  async run(ctx) {
    expectArgs(ctx, 0);
    const status = await readKeyStatus(ctx);
    return printOutput(ctx, status, () => keyStatusTable(status));
  },
};

export const operatorCommands: Command[] = [initCommand, unsealCommand, sealCommand, rotateCommand, keyStatusCommand];
