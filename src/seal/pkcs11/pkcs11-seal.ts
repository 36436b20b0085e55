import { constants as cryptoConstants, publicEncrypt, randomBytes, timingSafeEqual } from 'node:crypto';
import { TresorError } from '../../core/errors.ts';
import type { KeyInfo, SealHealth, SealWrapper } from '../seal.ts';
import { decodeBlob, encodeBlob, macBody, type SealBlob } from './blob.ts';
import * as ciphers from './ciphers.ts';
import { mechanismFromCode, resolveConfig, type Pkcs11SealConfig, type ResolvedPkcs11Config, type SealLogger } from './config.ts';
import { HsmConnection } from './connection.ts';
import { HsmError, needsReinitialize } from './errors.ts';
import { clearHsmProbe, setHsmProbe, type HsmProbe } from '../../metrics.ts';
import { describeFailure, HealthTracker, type HealthListener } from './health.ts';
import { KeyRing, PRIVATE_KEY, PUBLIC_KEY, SECRET_KEY, type CurrentKeys } from './key-ring.ts';
import { describeKey, keyRefEquals } from './keys.ts';
import { localGcmDecrypt, localGcmEncrypt } from './local-gcm.ts';
import { loadLibrary, type Pkcs11Api, type WrapModule } from './module.ts';

export interface Pkcs11SealOptions {
  logger?: SealLogger;
  /** Test hook (see fault-injection.ts): wraps the loaded library object. */
  wrapModule?: WrapModule;
  /** Heartbeat period; default 10 000 ms. */
  heartbeatIntervalMs?: number;
  /** Longest pause between re-initialisation attempts; default 5000 ms. */
  recoveryBackoffCapMs?: number;
}

/** HSM calls made so far, by kind; `peakInFlight` is the most calls seen at once. */
export interface Pkcs11SealStats {
  encrypt: number;
  decrypt: number;
  sign: number;
  random: number;
  peakInFlight: number;
}

const MECHANISM_NAMES = { 'aes-gcm': 'CKM_AES_GCM', 'aes-cbc-hmac': 'CKM_AES_CBC_PAD', 'rsa-oaep': 'CKM_RSA_PKCS_OAEP' } as const;
const EMPTY = Buffer.alloc(0);
const nonEmpty = (aad?: Buffer) => (aad && aad.length > 0 ? aad : undefined);
const unwrapRefused = () => new TresorError(400, 'pkcs11 seal: unable to unwrap: the blob does not authenticate under its key');

/**
 * Vault's `seal "pkcs11"` on any PKCS#11 token. Blobs are self-describing
 * (see blob.ts), so old blobs unwrap after a key switch. A heartbeat round
 * trip keeps `health()` honest, and codes that kill sessions or handles
 * trigger automatic C_Finalize/C_Initialize recovery in-process.
 *
 * Missing key without generate_key: `open` succeeds so the server can start
 * and report its seal; `hasKey()` is false and `wrap` refuses with "no key
 * found under key_label ... and generate_key is not set". The core should
 * check `hasKey()` before initialising and show that message.
 */
export class Pkcs11Seal implements SealWrapper {
  readonly type = 'pkcs11';
  private readonly counts = { encrypt: 0, decrypt: 0, sign: 0, random: 0 };
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeatRunning?: Promise<SealHealth>;
  private connection!: HsmConnection;
  /** Keys may be generated only on the first connect, never during recovery. */
  private mayGenerateKeys: boolean;

  private constructor(
    private readonly config: ResolvedPkcs11Config,
    private readonly module: Pkcs11Api,
    private readonly keys: KeyRing,
    private readonly tracker: HealthTracker,
    private readonly logger: SealLogger,
  ) {
    this.mayGenerateKeys = config.generateKey;
  }

  /**
   * Loads `lib`, selects the slot (`slot` or `token_label`), logs in, finds
   * (or with generate_key creates) the keys and starts the heartbeat.
   * Config mistakes (bad lib path, unknown slot/label, wrong PIN, duplicate
   * labels) reject with a TresorError naming the parameter, never the PIN.
   */
  static async open(config: Pkcs11SealConfig, options: Pkcs11SealOptions = {}): Promise<Pkcs11Seal> {
    const resolved = resolveConfig(config);
    const logger = options.logger ?? console;
    const module = loadLibrary(resolved.lib, options.wrapModule);
    const seal = new Pkcs11Seal(resolved, module, new KeyRing(module, resolved), new HealthTracker(logger), logger);
    seal.connection = await HsmConnection.connect(module, {
      ...resolved,
      readWrite: resolved.forceRwSession || resolved.generateKey,
      logger,
      backoffCapMs: options.recoveryBackoffCapMs,
      onConnect: (session) => seal.onConnect(session),
      onStateChange: (event) => {
        if (event.recovering) seal.tracker.failed(event.cause, 'call');
        else void seal.checkHealth();
      },
    });
    seal.startHeartbeat(options.heartbeatIntervalMs ?? 10_000);
    setHsmProbe(seal.metricsProbe);
    return seal;
  }

  /** False when no key exists under key_label and generate_key is off. */
  hasKey(): boolean {
    return this.keys.current !== undefined;
  }

  /** Encrypts with the current key; the blob format is documented in blob.ts. */
  async wrap(plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
    const current = await this.currentKeys();
    const header = {
      mechanism: this.config.mechanismCode,
      keyLabel: current.encryption.label,
      keyId: current.encryption.id,
      hmacKeyLabel: current.hmac?.label ?? '',
      hmacKeyId: current.hmac?.id ?? EMPTY,
      wrappedKey: EMPTY,
      hmac: EMPTY,
    };
    const m = this.module;
    switch (this.config.mechanism) {
      case 'aes-gcm': {
        const iv = randomBytes(12);
        this.counts.encrypt++;
        const ciphertext = await this.connection.call('C_Encrypt', (s) =>
          ciphers.gcmEncrypt(m, s, this.keys.handle(s, SECRET_KEY, current.encryption), iv, plaintext, nonEmpty(aad)),
        );
        return encodeBlob({ ...header, iv, ciphertext });
      }
      case 'aes-cbc-hmac': {
        const iv = randomBytes(16);
        this.counts.encrypt++;
        this.counts.sign++;
        return this.connection.call('C_Encrypt', async (s) => {
          const ciphertext = await ciphers.cbcEncrypt(m, s, this.keys.handle(s, SECRET_KEY, current.encryption), iv, plaintext);
          const unsigned = { ...header, iv, ciphertext };
          const hmac = await ciphers.hmacSha256(m, s, this.keys.handle(s, SECRET_KEY, current.hmac!), macInput(unsigned, aad));
          return encodeBlob({ ...unsigned, hmac });
        });
      }
      case 'rsa-oaep': {
        const dataKey = randomBytes(32);
        const iv = randomBytes(12);
        const ciphertext = localGcmEncrypt(dataKey, iv, plaintext, nonEmpty(aad));
        const wrappedKey = await this.rsaEncrypt(current, dataKey);
        return encodeBlob({ ...header, iv, wrappedKey, ciphertext });
      }
    }
  }

  /**
   * Decrypts a blob with whichever key made it. Authentication failures are
   * logged with their CKR code and reported to the caller only as a generic
   * 400, so tag/padding detail never reaches a client; HSM outages stay 503.
   */
  async unwrap(blob: Buffer, aad?: Buffer): Promise<Buffer> {
    const decoded = decodeBlob(blob);
    try {
      return await this.unwrapDecoded(decoded, aad);
    } catch (err) {
      if (err instanceof HsmError && (needsReinitialize(err.code) || this.connection.recovering)) throw err;
      if (err instanceof TresorError && !(err instanceof HsmError)) throw err;
      this.logger.warn(`pkcs11 seal: unwrap rejected a blob: ${describeFailure(err)}`);
      throw unwrapRefused();
    }
  }

  /** True when `blob` was made by another key, HMAC key or mechanism than the current ones. */
  needsRewrap(blob: Buffer): boolean {
    const decoded = decodeBlob(blob);
    const current = this.keys.current;
    if (!current || decoded.mechanism !== this.config.mechanismCode) return true;
    if (!keyRefEquals({ label: decoded.keyLabel, id: decoded.keyId }, current.encryption)) return true;
    return current.hmac !== undefined && !keyRefEquals({ label: decoded.hmacKeyLabel, id: decoded.hmacKeyId }, current.hmac);
  }

  keyInfo(): KeyInfo {
    const current = this.keys.current;
    const keyId = current ? describeKey(current.encryption) : `label=${this.config.keyLabel} (not found)`;
    const mechanism = MECHANISM_NAMES[this.config.mechanism];
    const where: Record<string, string> = this.config.tokenLabel !== undefined ? { token_label: this.config.tokenLabel } : { slot: String(this.config.slotId) };
    return {
      type: this.type,
      keyId,
      mechanism,
      details: { library: this.config.lib, ...where, key_label: this.config.keyLabel, key_id: keyId, ...(mechanism ? { mechanism } : {}) },
    };
  }

  /** `length` random bytes from C_GenerateRandom. */
  async generateRandom(length: number): Promise<Buffer> {
    if (!Number.isInteger(length) || length < 0) throw new TresorError(400, 'pkcs11 seal: random length must be a non-negative integer');
    if (length === 0) return EMPTY;
    this.counts.random++;
    return this.connection.call('C_GenerateRandom', (s) => Buffer.from(this.module.C_GenerateRandom(s, Buffer.alloc(length))));
  }

  health(): SealHealth {
    return this.tracker.snapshot();
  }

  /** Called on every healthy↔unhealthy transition; returns an unsubscribe function. */
  onHealthChange(listener: HealthListener): () => void {
    return this.tracker.onChange(listener);
  }

  stats(): Pkcs11SealStats {
    return { ...this.counts, peakInFlight: this.connection.pool.peakInFlight };
  }

  /**
   * One heartbeat now: a wrap+unwrap round trip with the current key (a
   * C_GenerateRandom probe is not enough: SoftHSM answers it with the token
   * gone). Any HSM failure starts recovery. Overlapping calls share one run.
   */
  checkHealth(): Promise<SealHealth> {
    this.heartbeatRunning ??= this.heartbeat().finally(() => {
      this.heartbeatRunning = undefined;
    });
    return this.heartbeatRunning;
  }

  /** What sys/metrics shows of this seal (read at scrape time). */
  private readonly metricsProbe = (): HsmProbe => {
    const pool = this.connection.pool;
    return {
      healthy: this.tracker.snapshot().healthy,
      recovering: this.connection.recovering,
      sessionsInUse: pool.inUse,
      sessionsIdle: pool.idleCount,
      maxParallel: pool.maxParallel,
    };
  };

  async close(): Promise<void> {
    clearHsmProbe(this.metricsProbe);
    clearInterval(this.heartbeatTimer);
    await this.heartbeatRunning;
    await this.connection.close();
  }

  private async heartbeat(): Promise<SealHealth> {
    try {
      if (this.connection.recovering) {
        await this.connection.call('heartbeat', () => undefined); // throws the recovery cause
      } else if (this.keys.current) {
        const probe = randomBytes(16);
        const roundTrip = await this.unwrapDecoded(decodeBlob(await this.wrap(probe)));
        if (!timingSafeEqual(roundTrip, probe)) throw new Error('heartbeat round trip returned different bytes');
      }
      this.tracker.succeeded();
    } catch (err) {
      this.tracker.failed(err, 'heartbeat');
      if (err instanceof HsmError) this.connection.recover(err);
    }
    return this.tracker.snapshot();
  }

  private startHeartbeat(intervalMs: number): void {
    this.heartbeatTimer = setInterval(() => void this.checkHealth(), intervalMs);
    this.heartbeatTimer.unref();
  }

  /** Runs after login, at open and after each re-initialisation. */
  private async onConnect(session: Buffer): Promise<void> {
    const hadKey = this.keys.current !== undefined;
    this.keys.forgetHandles();
    await this.keys.resolveCurrent(session, this.mayGenerateKeys);
    // A token that comes back empty after an outage must not silently get a new key.
    this.mayGenerateKeys = false;
    if (hadKey && !this.keys.current) throw new TresorError(503, 'pkcs11 seal: the seal key is not visible on the token yet');
  }

  /** The current keys; looks again if an operator created the key after open. */
  private async currentKeys(): Promise<CurrentKeys> {
    if (!this.keys.current) {
      await this.connection.call('C_FindObjects', (s) => this.keys.resolveCurrent(s, false));
    }
    if (!this.keys.current) throw new TresorError(500, this.keys.missingKeyMessage());
    return this.keys.current;
  }

  private async unwrapDecoded(blob: SealBlob, aad?: Buffer): Promise<Buffer> {
    const mechanism = mechanismFromCode(blob.mechanism);
    const key = { label: blob.keyLabel, id: blob.keyId };
    const m = this.module;
    switch (mechanism) {
      case 'aes-gcm':
        this.counts.decrypt++;
        return this.connection.call('C_Decrypt', (s) =>
          ciphers.gcmDecrypt(m, s, this.keys.handle(s, SECRET_KEY, key), blob.iv, blob.ciphertext, nonEmpty(aad)),
        );
      case 'aes-cbc-hmac':
        this.counts.sign++;
        return this.connection.call('C_Decrypt', async (s) => {
          const hmacKey = this.keys.handle(s, SECRET_KEY, { label: blob.hmacKeyLabel, id: blob.hmacKeyId });
          const expected = await ciphers.hmacSha256(m, s, hmacKey, macInput(blob, aad));
          // Verify before decrypting: no padding oracle on unauthenticated input.
          if (expected.length !== blob.hmac.length || !timingSafeEqual(expected, blob.hmac)) throw new Error('HMAC mismatch');
          this.counts.decrypt++;
          return ciphers.cbcDecrypt(m, s, this.keys.handle(s, SECRET_KEY, key), blob.iv, blob.ciphertext);
        });
      case 'rsa-oaep': {
        this.counts.decrypt++;
        const dataKey = await this.connection.call('C_Decrypt', (s) =>
          ciphers.oaepDecrypt(m, s, this.keys.handle(s, PRIVATE_KEY, key), this.config.rsaOaepHash, blob.wrappedKey),
        );
        return localGcmDecrypt(dataKey, blob.iv, blob.ciphertext, nonEmpty(aad));
      }
      default:
        throw new TresorError(400, `pkcs11 seal: blob mechanism 0x${blob.mechanism.toString(16)} is not supported`);
    }
  }

  private async rsaEncrypt(current: CurrentKeys, dataKey: Buffer): Promise<Buffer> {
    const hash = this.config.rsaOaepHash;
    if (current.rsaPublicKey) {
      return publicEncrypt({ key: current.rsaPublicKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash.name }, dataKey);
    }
    this.counts.encrypt++;
    return this.connection.call('C_Encrypt', (s) =>
      ciphers.oaepEncrypt(this.module, s, this.keys.handle(s, PUBLIC_KEY, current.encryption), hash, dataKey),
    );
  }
}

/** CBC mode MACs the blob body (header, IV, ciphertext) followed by the AAD. */
function macInput(blob: Omit<SealBlob, 'hmac'>, aad?: Buffer): Buffer {
  return aad ? Buffer.concat([macBody(blob), aad]) : macBody(blob);
}
