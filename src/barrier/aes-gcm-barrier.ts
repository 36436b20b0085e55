import { createCipheriv, createDecipheriv, randomBytes as osRandomBytes } from 'node:crypto';
import type { StorageBackend } from '../storage/backend.ts';
import { barrierLatency } from '../metrics.ts';
import { writeAll, type LogicalStorage, type LogicalWrite } from '../engines/types.ts';
import type { SealWrapper } from '../seal/seal.ts';
import { createLogger, type Logger } from '../logger.ts';
import { isTransactional, type TxOp } from '../storage/transactional.ts';
import { Keyring, type KeyTerm, type RotationConfig } from './keyring.ts';

/** Storage key of the encrypted keyring. */
export const KEYRING_PATH = 'core/keyring';

const VERSION_PATH_BOUND = 2;
const HEADER_LEN = 4 + 1 + 12;
const TAG_LEN = 16;
/** Term used for values encrypted directly by the root key (only the keyring). */
const ROOT_KEY_TERM = 0;
/**
 * Encryption counts are persisted every this many encryptions rather than on
 * each write; after a crash the count is assumed to have advanced by a whole
 * batch, so the rotation limit can only be reached early, never late.
 */
const COUNT_PERSIST_BATCH = 100_000;

/** Keyring envelope byte: how the root-key-encrypted keyring is stored. */
const enum KeyringEnvelope {
  RootKeyOnly = 1,
  SealWrapped = 2,
}

export class BarrierSealedError extends Error {
  constructor() {
    super('Vault is sealed');
  }
}

/** The key given to unseal does not decrypt the keyring. */
export class BarrierKeyError extends Error {
  constructor() {
    super('root key does not decrypt the keyring');
  }
}

export class BarrierDecryptError extends Error {}

export type RandomSource = (length: number) => Promise<Buffer>;

export interface KeyStatus {
  term: number;
  installTime: Date;
  encryptions: number;
}

/**
 * Encrypts every value with AES-256-GCM under the active keyring term before
 * it reaches the physical backend.
 *
 * Ciphertext layout (Vault's barrier format, version 2):
 *   term (4 bytes, big-endian) || version (1 byte, 2) || nonce (12 bytes) || ciphertext || tag (16 bytes)
 * The storage path is the GCM additional data, so a value moved to another
 * path fails to decrypt. The term prefix selects the key, so values written
 * before a rotation still read.
 */
export class AesGcmBarrier implements LogicalStorage {
  private keyring: Keyring | undefined;
  private lastPersistedCount = 0;
  /** Serialises keyring writes (rotation, count persistence, rekey). */
  private keyringLock: Promise<unknown> = Promise.resolve();
  private keyringSeal: SealWrapper | undefined;

  private random: RandomSource;
  private readonly logger: Logger;

  /**
   * `random` supplies key material (default: the OS CSPRNG); `logger` hears
   * about background failures (automatic rotation, count persistence) that
   * no caller is waiting on (default: stderr).
   */
  constructor(
    private readonly physical: StorageBackend,
    options: { random?: RandomSource; logger?: Logger } = {},
  ) {
    this.random = options.random ?? (async (n) => osRandomBytes(n));
    this.logger = options.logger ?? createLogger();
  }

  /** Where new key material comes from (entropy augmentation swaps this). */
  setRandomSource(random: RandomSource): void {
    this.random = random;
  }

  /**
   * When set, the root-key-encrypted keyring is additionally wrapped by this
   * seal (the HSM) before it is stored: the barrier's most sensitive entry is
   * then useless without both the root key and the HSM.
   */
  setKeyringSeal(seal: SealWrapper | undefined): void {
    this.keyringSeal = seal;
  }

  keyringSealInUse(): SealWrapper | undefined {
    return this.keyringSeal;
  }

  get sealed(): boolean {
    return this.keyring === undefined;
  }

  async initialized(): Promise<boolean> {
    return (await this.physical.get(KEYRING_PATH)) !== undefined;
  }

  /** Creates a keyring with a first data key, encrypted by `rootKey`. Leaves the barrier sealed. */
  async initialize(rootKey: Buffer): Promise<void> {
    const ring = new Keyring(Buffer.from(rootKey));
    ring.addTerm(await this.random(32));
    await this.writeKeyring(ring);
    ring.wipe();
  }

  async unseal(rootKey: Buffer): Promise<void> {
    if (this.keyring) return;
    const stored = await this.physical.get(KEYRING_PATH);
    if (!stored) throw new Error('barrier is not initialised');
    const ring = await this.openKeyring(stored, rootKey);
    // Assume a whole unpersisted batch was used before the last stop.
    for (const t of ring.terms.values()) if (t.term === ring.activeTerm) t.encryptions += COUNT_PERSIST_BATCH;
    this.keyring = ring;
    this.lastPersistedCount = ring.active().encryptions;
  }

  /** Checks a candidate root key against the stored keyring without unsealing. */
  async verifyRootKey(rootKey: Buffer): Promise<boolean> {
    const stored = await this.physical.get(KEYRING_PATH);
    if (!stored) return false;
    try {
      (await this.openKeyring(stored, rootKey)).wipe();
      return true;
    } catch (err) {
      if (err instanceof BarrierKeyError) return false;
      throw err;
    }
  }

  seal(): void {
    this.keyring?.wipe();
    this.keyring = undefined;
  }

  rootKey(): Buffer {
    return Buffer.from(this.unsealedKeyring().rootKey);
  }

  keyStatus(): KeyStatus {
    const t = this.unsealedKeyring().active();
    return { term: t.term, installTime: t.installTime, encryptions: t.encryptions };
  }

  rotationConfig(): RotationConfig {
    return { ...this.unsealedKeyring().rotation };
  }

  async setRotationConfig(cfg: RotationConfig): Promise<void> {
    await this.withKeyringLock(async (ring) => {
      ring.rotation = { ...cfg };
    });
  }

  /** Installs a new data-encryption term; new writes use it, old values still read. */
  async rotate(): Promise<KeyStatus> {
    const key = await this.random(32);
    await this.withKeyringLock(async (ring) => {
      ring.addTerm(key);
      this.lastPersistedCount = 0;
    });
    return this.keyStatus();
  }

  /**
   * Rekey as ONE atomic storage transaction: the keyring re-encrypted under
   * `newRootKey` plus `extraOps` (new seal config, HSM-wrapped root key, key
   * backup). A crash between two separate writes could leave a keyring
   * nobody holds the key to; here either everything lands or nothing does.
   * The in-memory root key changes only once the batch is durable.
   */
  async rekeyWith(newRootKey: Buffer, extraOps: TxOp[]): Promise<void> {
    const physical = this.physical;
    if (!isTransactional(physical)) throw new Error('the storage backend cannot apply atomic transactions; rekey refused');
    const run = this.keyringLock.then(async () => {
      const ring = this.unsealedKeyring();
      const oldRootKey = ring.rootKey;
      ring.rootKey = Buffer.from(newRootKey);
      try {
        const stored = await this.encodeKeyring(ring);
        await physical.transaction([{ op: 'put', key: KEYRING_PATH, value: stored }, ...extraOps]);
      } catch (err) {
        ring.rootKey.fill(0);
        ring.rootKey = oldRootKey;
        throw err;
      }
      oldRootKey.fill(0);
    });
    this.keyringLock = run.catch(() => {});
    return run;
  }

  /** A put of `value` at `path`, encrypted exactly as put() would store it, for an atomic batch. */
  encryptedPutOp(path: string, value: Buffer): TxOp {
    return { op: 'put', key: path, value: this.encryptValue(this.unsealedKeyring(), path, value) };
  }

  /** Writes the keyring again (e.g. after the keyring seal changed). */
  async persistKeyring(): Promise<void> {
    await this.withKeyringLock(async () => {});
  }

  async get(path: string): Promise<Buffer | undefined> {
    this.unsealedKeyring();
    const start = performance.now();
    try {
      const blob = await this.physical.get(path);
      if (blob === undefined) return undefined;
      // The keyring may have been replaced (rotation) during the read: use the current one.
      return decryptValue(this.unsealedKeyring(), path, blob);
    } finally {
      barrierLatency.get.observe(performance.now() - start);
    }
  }

  async put(path: string, value: Buffer): Promise<void> {
    const ring = this.unsealedKeyring();
    const start = performance.now();
    try {
      const blob = this.encryptValue(ring, path, value);
      await this.physical.put(path, blob);
    } finally {
      barrierLatency.put.observe(performance.now() - start);
    }
  }

  async delete(path: string): Promise<void> {
    this.unsealedKeyring();
    const start = performance.now();
    try {
      await this.physical.delete(path);
    } finally {
      barrierLatency.delete.observe(performance.now() - start);
    }
  }

  /** Encrypts every put and hands the batch to the backend as one transaction (in order, one by one, on a backend without them). */
  async transaction(writes: LogicalWrite[]): Promise<void> {
    const ring = this.unsealedKeyring();
    const encrypted = writes.map((w): LogicalWrite => (w.op === 'put' ? { ...w, value: this.encryptValue(ring, w.key, w.value) } : w));
    return writeAll(this.physical, encrypted);
  }

  async list(prefix: string): Promise<string[]> {
    this.unsealedKeyring();
    const start = performance.now();
    try {
      return await this.physical.list(prefix);
    } finally {
      barrierLatency.list.observe(performance.now() - start);
    }
  }

  private encryptValue(ring: Keyring, path: string, value: Buffer): Buffer {
    const active = ring.active();
    active.encryptions++;
    this.afterEncryption(ring, active);
    return encryptWith(active.key, active.term, path, value);
  }

  /** Persists counts in batches and rotates before the NIST limit or the configured interval. */
  private afterEncryption(ring: Keyring, active: KeyTerm): void {
    const dueByCount = active.encryptions >= ring.rotation.maxOperations;
    const dueByAge =
      ring.rotation.interval > 0 && Date.now() - active.installTime.getTime() >= ring.rotation.interval * 1000;
    if (dueByCount || dueByAge) {
      if (!this.rotationPending) {
        this.rotationPending = true;
        this.rotate()
          .catch((err) => this.logger.error(`barrier: automatic key rotation failed: ${(err as Error).message}`))
          .finally(() => (this.rotationPending = false));
      }
      return;
    }
    if (active.encryptions - this.lastPersistedCount >= COUNT_PERSIST_BATCH) {
      this.lastPersistedCount = active.encryptions;
      this.persistKeyring().catch((err) =>
        this.logger.error(`barrier: persisting encryption count failed: ${(err as Error).message}`),
      );
    }
  }
  private rotationPending = false;

  private unsealedKeyring(): Keyring {
    if (!this.keyring) throw new BarrierSealedError();
    return this.keyring;
  }

  /**
   * Applies `change` to a copy of the keyring, stores the copy, and only then
   * swaps it in: if the write fails (storage or HSM down), memory still holds
   * the stored keyring, so no value is ever encrypted under an unstored key.
   */
  private async withKeyringLock(change: (ring: Keyring) => Promise<void>): Promise<void> {
    const run = this.keyringLock.then(async () => {
      const current = this.unsealedKeyring();
      const next = Keyring.deserialize(current.serialize());
      await change(next);
      await this.writeKeyring(next);
      if (this.keyring !== current) {
        next.wipe();
        return; // sealed meanwhile
      }
      // Encryptions made while the write was in flight still count.
      for (const t of current.terms.values()) {
        const copy = next.terms.get(t.term);
        if (copy) copy.encryptions = Math.max(copy.encryptions, t.encryptions);
      }
      this.keyring = next;
      current.wipe();
    });
    this.keyringLock = run.catch(() => {});
    return run;
  }

  private async writeKeyring(ring: Keyring): Promise<void> {
    await this.physical.put(KEYRING_PATH, await this.encodeKeyring(ring));
  }

  /** The keyring as stored: encrypted by its root key, then seal-wrapped when a keyring seal is set. */
  private async encodeKeyring(ring: Keyring): Promise<Buffer> {
    const sealedByRoot = encryptWith(ring.rootKey, ROOT_KEY_TERM, KEYRING_PATH, ring.serialize());
    let stored: Buffer;
    if (this.keyringSeal) {
      const wrapped = await this.keyringSeal.wrap(sealedByRoot, Buffer.from(KEYRING_PATH));
      stored = Buffer.concat([Buffer.from([KeyringEnvelope.SealWrapped]), wrapped]);
    } else {
      stored = Buffer.concat([Buffer.from([KeyringEnvelope.RootKeyOnly]), sealedByRoot]);
    }
    return stored;
  }

  private async openKeyring(stored: Buffer, rootKey: Buffer): Promise<Keyring> {
    let sealedByRoot: Buffer;
    if (stored[0] === KeyringEnvelope.SealWrapped) {
      if (!this.keyringSeal) throw new Error('the keyring is seal-wrapped but no seal is configured to unwrap it');
      sealedByRoot = await this.keyringSeal.unwrap(stored.subarray(1), Buffer.from(KEYRING_PATH));
    } else if (stored[0] === KeyringEnvelope.RootKeyOnly) {
      sealedByRoot = stored.subarray(1);
    } else {
      throw new Error('unknown keyring envelope');
    }
    let plain: Buffer;
    try {
      plain = decryptWith(rootKey, KEYRING_PATH, sealedByRoot);
    } catch {
      throw new BarrierKeyError();
    }
    return Keyring.deserialize(plain);
  }
}

function encryptWith(key: Buffer, term: number, path: string, plaintext: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LEN + plaintext.length + TAG_LEN);
  out.writeUInt32BE(term, 0);
  out[4] = VERSION_PATH_BOUND;
  const nonce = osRandomBytes(12);
  nonce.copy(out, 5);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(path, 'utf8'));
  const n1 = cipher.update(plaintext).copy(out, HEADER_LEN);
  const n2 = cipher.final().copy(out, HEADER_LEN + n1);
  cipher.getAuthTag().copy(out, HEADER_LEN + n1 + n2);
  return out;
}

function decryptWith(key: Buffer, path: string, blob: Buffer): Buffer {
  if (blob.length < HEADER_LEN + TAG_LEN) throw new BarrierDecryptError('ciphertext too short');
  if (blob[4] !== VERSION_PATH_BOUND) throw new BarrierDecryptError('unsupported barrier version');
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(5, HEADER_LEN));
  decipher.setAAD(Buffer.from(path, 'utf8'));
  decipher.setAuthTag(blob.subarray(blob.length - TAG_LEN));
  try {
    return Buffer.concat([decipher.update(blob.subarray(HEADER_LEN, blob.length - TAG_LEN)), decipher.final()]);
  } catch {
    throw new BarrierDecryptError(`failed to decrypt the value stored at "${path}"`);
  }
}

function decryptValue(ring: Keyring, path: string, blob: Buffer): Buffer {
  if (blob.length < HEADER_LEN + TAG_LEN) throw new BarrierDecryptError(`value at "${path}" is not barrier ciphertext`);
  const term = blob.readUInt32BE(0);
  const entry = ring.terms.get(term);
  if (!entry) throw new BarrierDecryptError(`value at "${path}" uses unknown key term ${term}`);
  return decryptWith(entry.key, path, blob);
}
