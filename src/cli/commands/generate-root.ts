/**
 * `tresor operator generate-root`: make a new root token from a quorum of
 * key shares (or recovery shares). The token comes back XORed with a one-time
 * password (or PGP-encrypted) and is decoded locally with -decode.
 */
import crypto from 'node:crypto';
import { UsageError } from '../args.ts';
import { callApi, CliError, dropUndefined, expectArgs, printJson, println, type Command, type CommandContext } from '../command.ts';
import { formatKeyValue } from '../format.ts';
import { firstLine } from '../io.ts';
import { keyFromArgsOrPrompt, readPgpKeyFile } from './keys.ts';
import { generateOtp, parseBase64, xorBytes } from '../../core/otp.ts';

const ATTEMPT = 'sys/generate-root/attempt';
const UPDATE = 'sys/generate-root/update';
/** Length of an `hvs.` token plus two, which the server reports as otp_length. */
const DEFAULT_OTP_LENGTH = 28;

export interface GenerateRootStatus {
  nonce?: string;
  started?: boolean;
  progress?: number;
  required?: number;
  complete?: boolean;
  encoded_token?: string;
  encoded_root_token?: string;
  pgp_fingerprint?: string;
  otp?: string;
  otp_length?: number;
}

/**
 * Recovers the root token from `-decode`: the encoded token is base64 (with
 * or without padding) of `token XOR otp`, so XORing the decoded bytes with
 * the OTP's bytes yields the token. Lengths must match exactly.
 */
export function decodeRootToken(encoded: string, otp: string): string {
  const tokenBytes = parseBase64(encoded.trim());
  if (!tokenBytes?.length) throw new UsageError('the encoded token is not valid base64');
  const otpBytes = Buffer.from(otp, 'utf8');
  if (tokenBytes.length !== otpBytes.length) {
    throw new UsageError(`the OTP and the encoded token differ in length (${otpBytes.length} != ${tokenBytes.length} bytes)`);
  }
  return xorBytes(tokenBytes, otpBytes).toString('utf8');
}

/** A random base62 string of `length` characters (rejection sampling, so no bias). */
export function randomBase62(length: number): string {
  return generateOtp(length, crypto.randomBytes);
}

function statusTable(s: GenerateRootStatus): string {
  const rows: [string, unknown][] = [
    ['Nonce', s.nonce ?? ''],
    ['Started', Boolean(s.started)],
    ['Progress', `${s.progress ?? 0}/${s.required ?? 0}`],
    ['Complete', Boolean(s.complete)],
  ];
  if (s.pgp_fingerprint) rows.push(['PGP Fingerprint', s.pgp_fingerprint]);
  if (s.encoded_token) rows.push(['Encoded Token', s.encoded_token]);
  else if (s.encoded_root_token) rows.push(['Encoded Root Token', s.encoded_root_token]);
  if (s.otp) rows.push(['OTP', s.otp]);
  rows.push(['OTP Length', s.otp_length ?? 0]);
  return formatKeyValue(rows);
}

function printStatus(ctx: CommandContext, s: GenerateRootStatus | null): number {
  if (ctx.format !== 'table') printJson(ctx, s);
  else println(ctx, statusTable(s ?? {}));
  return 0;
}

const MODES = ['init', 'cancel', 'status', 'generate-otp'] as const;

async function decodeMode(ctx: CommandContext): Promise<number> {
  const otp = ctx.flags.string('otp');
  if (!otp) throw new UsageError('-decode needs the -otp used when the attempt was started');
  let encoded = ctx.flags.string('decode') ?? '';
  if (encoded === '-') encoded = firstLine(await ctx.io.readStdin());
  println(ctx, decodeRootToken(encoded, otp));
  return 0;
}

async function provideKey(ctx: CommandContext): Promise<number> {
  const client = ctx.client();
  let nonce = ctx.flags.string('nonce');
  if (!nonce) {
    const status = await callApi('getting root generation status', client.request<GenerateRootStatus>('GET', ATTEMPT));
    if (!status?.started) throw new CliError('No root generation is in progress. Start one with "tresor operator generate-root -init".', 1);
    nonce = status.nonce;
  }
  const key = await keyFromArgsOrPrompt(ctx);
  const status = await callApi('providing unseal key', client.request<GenerateRootStatus>('PUT', UPDATE, { body: { key, nonce } }));
  return printStatus(ctx, status);
}

export const generateRootCommand: Command = {
  name: ['operator', 'generate-root'],
  synopsis: 'Generate a new root token from key shares',
  help: `Usage: tresor operator generate-root [options] [KEY]

  Generates a new root token once a quorum of key shares (recovery shares
  under an HSM seal) has been provided. Steps:

    1. Start:        tresor operator generate-root -init
                     (prints the OTP; keep it)
    2. Each holder:  tresor operator generate-root [-nonce=N] [KEY]
    3. Decode:       tresor operator generate-root -decode=ENCODED -otp=OTP

  Other modes: -status, -cancel, -generate-otp (prints a fresh OTP to pass
  to -init -otp=...). Without KEY the share is read from a hidden prompt.`,
  flags: {
    init: { kind: 'bool', description: 'Start a root token generation attempt.' },
    cancel: { kind: 'bool', description: 'Cancel the current attempt and discard provided shares.' },
    status: { kind: 'bool', description: 'Print the status of the current attempt.' },
    'generate-otp': { kind: 'bool', description: 'Print a random OTP of the length the server expects.' },
    decode: { kind: 'string', placeholder: 'encoded', description: 'Decode an encoded root token with -otp ("-" reads it from stdin).' },
    otp: { kind: 'string', placeholder: 'string', description: 'One-time password to XOR the token with (-init) or to decode with (-decode).' },
    'pgp-key': { kind: 'string', placeholder: 'file', description: 'PGP public key file to encrypt the new token to, instead of an OTP.' },
    nonce: { kind: 'string', placeholder: 'string', description: 'Nonce of the attempt (to provide a key or -cancel); looked up from the status when omitted.' },
  },
  async run(ctx) {
    const f = ctx.flags;
    const chosen = MODES.filter((m) => f.bool(m)).length + (f.has('decode') ? 1 : 0);
    if (chosen > 1) throw new UsageError(`only one of -init, -cancel, -status, -generate-otp, -decode may be given`);
    const client = ctx.client();

    if (f.has('decode')) return decodeMode(ctx);
    if (f.bool('generate-otp')) {
      expectArgs(ctx, 0);
      const status = await callApi('getting root generation status', client.request<GenerateRootStatus>('GET', ATTEMPT));
      println(ctx, randomBase62(status?.otp_length || DEFAULT_OTP_LENGTH));
      return 0;
    }
    if (f.bool('status')) {
      expectArgs(ctx, 0);
      return printStatus(ctx, await callApi('getting root generation status', client.request<GenerateRootStatus>('GET', ATTEMPT)));
    }
    if (f.bool('cancel')) {
      expectArgs(ctx, 0);
      // The server wants the attempt's nonce in the DELETE body; look it up when not given.
      const nonce = f.string('nonce') ?? (await callApi('getting root generation status', client.request<GenerateRootStatus>('GET', ATTEMPT)))?.nonce;
      await callApi('canceling root generation', client.request('DELETE', ATTEMPT, { body: nonce ? { nonce } : undefined }));
      println(ctx, 'Success! Root token generation canceled (if it was started)');
      return 0;
    }
    if (f.bool('init')) {
      expectArgs(ctx, 0);
      const pgpFile = f.string('pgp-key');
      if (pgpFile && f.string('otp')) throw new UsageError('-otp and -pgp-key cannot be used together');
      const body = dropUndefined({ otp: f.string('otp'), pgp_key: pgpFile ? readPgpKeyFile(pgpFile) : undefined });
      return printStatus(ctx, await callApi('initializing root generation', client.request<GenerateRootStatus>('PUT', ATTEMPT, { body })));
    }
    expectArgs(ctx, 0, 1);
    return provideKey(ctx);
  },
};
