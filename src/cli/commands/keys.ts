/**
 * Helpers shared by the key-ceremony commands (init, unseal, generate-root,
 * rekey): getting a key share from the user and loading PGP public keys.
 */
import fs from 'node:fs';
import { UsageError } from '../args.ts';
import type { CommandContext } from '../command.ts';
import { parseBase64 } from '../../core/otp.ts';

export const UNSEAL_KEY_PROMPT = 'Unseal Key (will be hidden): ';

/**
 * The key share given as the single positional argument, or typed at a
 * hidden prompt when there is none. An empty answer is a usage error.
 */
export async function keyFromArgsOrPrompt(ctx: CommandContext, prompt = UNSEAL_KEY_PROMPT): Promise<string> {
  const given = ctx.args[0];
  const key = (given !== undefined && given !== '-' ? given : await ctx.io.promptSecret(prompt)).trim();
  if (key === '') throw new UsageError('A key share is required (as an argument or at the prompt)');
  checkKeyShare(key);
  return key;
}

/** Key shares are 16 to 32 bytes of key plus one x-coordinate byte (Vault's bounds, which the server checks too). */
const MIN_SHARE_BYTES = 16;
const MAX_SHARE_BYTES = 33;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * Refuses, before anything is sent, text that cannot be a key share: not
 * hex or base64, or of an impossible length. The text is never echoed.
 */
export function checkKeyShare(key: string): void {
  const bytes = HEX.test(key) ? Buffer.from(key, 'hex') : parseBase64(key, { urlSafe: true });
  const fits = bytes !== undefined && bytes.length >= MIN_SHARE_BYTES && bytes.length <= MAX_SHARE_BYTES;
  bytes?.fill(0);
  if (!fits) {
    throw new UsageError(
      `That is not a key share: a share is hex or base64 of ${MIN_SHARE_BYTES} to ${MAX_SHARE_BYTES} bytes, as "operator init" or "operator rekey" printed it (check it was copied whole). Nothing was sent.`,
    );
  }
}

const BASE64_TEXT = /^[A-Za-z0-9+/=\s]+$/;

/**
 * Reads a PGP public key file and returns what Vault's API expects: the
 * binary key, base64 encoded. Accepts an ASCII-armored key, a binary key,
 * or a file that already holds base64. `keybase:` names are refused because
 * Tresor makes no network lookups.
 */
export function readPgpKeyFile(path: string): string {
  if (path.startsWith('keybase:')) {
    throw new UsageError(`keybase: key names are not supported (no network lookups); pass a public key file instead of "${path}"`);
  }
  let raw: Buffer;
  try {
    raw = fs.readFileSync(path);
  } catch (err) {
    throw new UsageError(`could not read PGP key file "${path}": ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
  const text = raw.toString('utf8');
  if (text.trimStart().startsWith('-----BEGIN PGP')) return dearmor(text, path);
  if (BASE64_TEXT.test(text)) return text.replace(/\s+/g, '');
  return raw.toString('base64');
}

/**
 * ASCII armor (RFC 4880 §6.2) to base64 of the binary packets: the body sits
 * between the blank line after the headers and the `=XXXX` checksum line.
 */
export function dearmor(armored: string, label = 'key'): string {
  const lines = armored.split(/\r?\n/).map((l) => l.trim());
  const begin = lines.findIndex((l) => l.startsWith('-----BEGIN PGP'));
  const end = lines.findIndex((l, i) => i > begin && l.startsWith('-----END PGP'));
  if (begin === -1 || end === -1) throw new UsageError(`PGP key file "${label}" has no complete armor block`);
  const blank = lines.findIndex((l, i) => i > begin && l === '');
  const bodyStart = blank !== -1 && blank < end ? blank + 1 : begin + 1;
  const body = lines.slice(bodyStart, end).filter((l) => !l.startsWith('=') && !l.includes(':'));
  const joined = body.join('');
  if (joined === '' || !BASE64_TEXT.test(joined)) throw new UsageError(`PGP key file "${label}" has an unreadable armor body`);
  return joined;
}

/** Loads every file of a `-pgp-keys=a,b` list, in order. */
export function readPgpKeyFiles(paths: string[]): string[] {
  return paths.map(readPgpKeyFile);
}

/** `Label 1: key` lines for a list of key shares. */
export function numberedKeys(label: string, keys: readonly string[]): string {
  return keys.map((k, i) => `${label} ${i + 1}: ${k}`).join('\n');
}
