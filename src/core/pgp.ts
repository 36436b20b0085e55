/**
 * OpenPGP encryption of unseal/recovery key shares (`pgp_keys`,
 * `recovery_pgp_keys` on sys/init and sys/rekey) and of a freshly generated
 * root token (`pgp_key` on sys/generate-root), following Vault's pgpkeys
 * helper:
 *
 * - Keys arrive as standard base64 of the key file's bytes. Vault only takes
 *   binary (`gpg --export`) keys; we also accept an ASCII-armored `.asc`
 *   file, because the CLI forwards whichever file the operator points at.
 * - Each share is encrypted as its lowercase hex text, not its raw bytes, so
 *   that `base64 -d | gpg -d` prints a string usable with `vault operator unseal`.
 * - Results are binary OpenPGP messages; callers expose them base64 (and, for
 *   `keys` on init/rekey, hex of the same bytes).
 * - Fingerprints are the primary key's, lowercase hex without spaces.
 */
import * as openpgp from 'openpgp';
import { badRequest } from './errors.ts';
import { parseBase64 } from './otp.ts';

/** A parsed public key known to have a usable encryption (sub)key. */
export interface PublicKeyHandle {
  readonly key: openpgp.PublicKey;
  /** Primary key fingerprint, lowercase hex. */
  readonly fingerprint: string;
}

const ARMOR_HEADER = '-----BEGIN PGP ';

async function parseKeyBytes(bytes: Buffer): Promise<openpgp.Key> {
  const text = bytes.toString('utf8').trimStart();
  return text.startsWith(ARMOR_HEADER)
    ? openpgp.readKey({ armoredKey: text })
    : openpgp.readKey({ binaryKey: new Uint8Array(bytes) });
}

async function readPgpKey(keyB64: string, index: number): Promise<PublicKeyHandle> {
  // Vault's Go decoder skips line breaks, so `base64` output wrapped at 76 columns is fine.
  const bytes = parseBase64(keyB64.replace(/[\r\n]/g, '').trim());
  if (bytes === undefined || bytes.length === 0) throw badRequest(`PGP key at index ${index} is not valid base64`);

  let key: openpgp.Key;
  try {
    key = await parseKeyBytes(bytes);
  } catch {
    // openpgp's message adds nothing an operator can act on.
    throw badRequest(`PGP key at index ${index} is not a valid OpenPGP key`);
  }
  if (key.isPrivate()) {
    throw badRequest(`PGP key at index ${index} is a private key; supply only the public key`);
  }
  try {
    await key.getEncryptionKey();
  } catch {
    throw badRequest(`PGP key at index ${index} has no valid key usable for encryption`);
  }
  return { key, fingerprint: key.getFingerprint().toLowerCase() };
}

/**
 * Parses base64-encoded OpenPGP public keys (binary or ASCII-armored inside
 * the base64), as Vault's API takes them. Only the first key of each blob is
 * used. Throws TresorError(400) naming the index of the first key that is
 * not base64, not OpenPGP, a private key, or lacks an encryption-capable key.
 */
export async function readPgpKeys(pgpKeysB64: string[]): Promise<PublicKeyHandle[]> {
  return Promise.all(pgpKeysB64.map((keyB64, index) => readPgpKey(keyB64, index)));
}

async function encryptTo(handle: PublicKeyHandle, plaintext: Uint8Array): Promise<string> {
  const message = await openpgp.createMessage({ binary: plaintext });
  const encrypted = await openpgp.encrypt({ message, encryptionKeys: handle.key, format: 'binary' });
  return Buffer.from(encrypted).toString('base64');
}

/**
 * Encrypts `shares[i]` to `pgpKeysB64[i]`. The plaintext of each message is
 * the share as lowercase hex text (Vault's convention). Returns, in order,
 * standard base64 of each binary OpenPGP message and each key's fingerprint.
 * Throws TresorError(400) if the counts differ or a key is unusable.
 */
export async function encryptShares(
  shares: Buffer[],
  pgpKeysB64: string[],
): Promise<{ encrypted: string[]; fingerprints: string[] }> {
  if (shares.length !== pgpKeysB64.length) {
    throw badRequest('count mismatch between number of provided PGP keys and number of shares');
  }
  const handles = await readPgpKeys(pgpKeysB64);
  const encrypted = await Promise.all(
    handles.map((handle, i) => encryptTo(handle, Buffer.from(shares[i]!.toString('hex'), 'utf8'))),
  );
  return { encrypted, fingerprints: handles.map((handle) => handle.fingerprint) };
}

/**
 * Encrypts `plaintext` as-is to one key. generate-root with `pgp_key` passes
 * the new token's UTF-8 bytes; `encrypted` (standard base64 of the binary
 * message) is then the API's `encoded_token`, and `fingerprint` its
 * `pgp_fingerprint`. Throws TresorError(400) if the key is unusable.
 */
export async function encryptForKey(
  plaintext: Buffer,
  pgpKeyB64: string,
): Promise<{ encrypted: string; fingerprint: string }> {
  const [handle] = await readPgpKeys([pgpKeyB64]);
  return { encrypted: await encryptTo(handle!, new Uint8Array(plaintext)), fingerprint: handle!.fingerprint };
}
