/**
 * Real components for the generate-root / rekey tests: a Core over an
 * in-memory backend with the Shamir seal, or over a SoftHSM2 token with the
 * PKCS#11 seal, plus OpenPGP key pairs for encrypted shares.
 */
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { Core } from '../src/core/core.ts';
import { TresorError } from '../src/core/errors.ts';
import { silentLogger, type Logger } from '../src/logger.ts';
import { InmemBackend } from '../src/storage/inmem.ts';
import type { StorageBackend } from '../src/storage/backend.ts';
import type { SealWrapper } from '../src/seal/seal.ts';

export interface Started {
  core: Core;
  physical: StorageBackend;
  /** The authorising shares (unseal keys under Shamir, recovery keys under the HSM), hex. */
  keys: string[];
  rootToken: string;
}

/** A logger that records lines, to check what is (and is not) logged. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (msg: string) => void lines.push(msg);
  return { lines, debug: push, info: push, warn: push, error: push };
}

/** A Shamir core, initialised with 3 shares / threshold 2 and unsealed. */
export async function shamirCore(logger: Logger = silentLogger, physical: StorageBackend = new InmemBackend()): Promise<Started> {
  const core = new Core({ physical, storageType: 'inmem', logger });
  const init = await core.initialize({ secret_shares: 3, secret_threshold: 2 });
  await unsealWith(core, init.keys.slice(0, 2));
  return { core, physical, keys: init.keys, rootToken: init.root_token };
}

/** A core under `hsm`, initialised with 3 recovery shares / threshold 2 (unsealed after init). */
export async function hsmCore(hsm: SealWrapper, logger: Logger = silentLogger): Promise<Started> {
  const physical = new InmemBackend();
  const core = new Core({ physical, storageType: 'inmem', hsm, logger });
  const init = await core.initialize({ recovery_shares: 3, recovery_threshold: 2 });
  assert.equal(core.sealed, false);
  return { core, physical, keys: init.recovery_keys!, rootToken: init.root_token };
}

/** Submits shares to sys/unseal until it reports unsealed; fails the test if it does not. */
export async function unsealWith(core: Core, keys: string[]): Promise<void> {
  for (const key of keys) await core.submitUnsealKey(key, false);
  assert.equal(core.sealed, false, 'the given keys should unseal');
}

/** A fresh core over the same storage: what a restart sees. */
export function restarted(physical: StorageBackend, hsm?: SealWrapper): Core {
  return new Core({ physical, storageType: 'inmem', hsm, logger: silentLogger });
}

/** Rejects with a TresorError of `status` whose message matches `pattern`. */
/** Expects a TresorError of `status` whose message matches `pattern` (a string: equals it). */
export async function rejectsWith(promise: Promise<unknown>, status: number, pattern: RegExp | string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TresorError, `expected a TresorError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    if (typeof pattern === 'string') assert.equal(err.message, pattern);
    else assert.match(err.message, pattern);
    return true;
  });
}

export interface PgpPair {
  publicB64: string;
  fingerprint: string;
  privateKey: openpgp.PrivateKey;
}

export async function pgpPair(name: string): Promise<PgpPair> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email: `${name}@example.test` }],
    format: 'object',
  });
  return {
    privateKey,
    fingerprint: publicKey.getFingerprint().toLowerCase(),
    publicB64: Buffer.from(publicKey.write()).toString('base64'),
  };
}

/** Decrypts a base64 binary OpenPGP message to its UTF-8 text. */
export async function pgpDecrypt(encryptedB64: string, privateKey: openpgp.PrivateKey): Promise<string> {
  const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(encryptedB64, 'base64')) });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'binary' });
  return Buffer.from(data).toString('utf8');
}
