/**
 * Vault's `seal "transit"`: auto-unseal through another server's transit
 * engine (a second Tresor, or Vault/OpenBao).
 *
 * Envelope encryption: each wrap makes a fresh 256-bit data key, seals the
 * plaintext locally with AES-256-GCM (binding the caller's AAD, which the
 * peer never sees), and has the peer encrypt the data key through
 * `<mount_path>/encrypt/<key_name>`. Unwrap sends only the wrapped data key
 * to `<mount_path>/decrypt/<key_name>`.
 *
 * Blob (JSON, self-describing): {"tresor_seal":"transit","v":1,"key":name,
 * "ct":"vault:vN:...","iv":b64,"data":b64(ciphertext||tag)}. The key id is
 * `key_id_prefix` + key_name; the version comes from the peer's `vault:vN:`
 * prefix, so after the peer rotates the key `needsRewrap` reports old blobs.
 *
 * The token is sent only in the X-Vault-Token header and never appears in a
 * log line or an error message.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { TresorError } from '../core/errors.ts';
import type { TransitSealConfig } from '../config/types.ts';
import type { KeyInfo, SealHealth, SealWrapper } from './seal.ts';

export interface TransitSealLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface TransitSealOptions {
  logger?: TransitSealLogger;
  /** Health-check period; default 10 000 ms. */
  heartbeatIntervalMs?: number;
  /** Per-request time limit; default 10 000 ms. */
  requestTimeoutMs?: number;
}

/**
 * An error from the peer or the way to it. `transient` is true when it is
 * worth retrying (peer unreachable, sealed, 5xx); false for configuration
 * mistakes (403 permission denied, missing key, bad TLS files).
 */
export class TransitSealError extends TresorError {
  constructor(
    status: number,
    message: string,
    readonly transient: boolean,
  ) {
    super(status, message);
  }
}

const BLOB_TAG = 'transit';
const VERSION_RE = /^vault:v(\d+):/;

interface TransitBlob {
  tresor_seal: string;
  v: number;
  key: string;
  ct: string;
  iv: string;
  data: string;
}

interface PeerResponse {
  status: number;
  body: any;
}

export class TransitSeal implements SealWrapper {
  readonly type = 'transit';
  private readonly where: string;
  private readonly agent: http.Agent;
  private readonly url: URL;
  private latestVersion = 0;
  private healthy = true;
  private unhealthySince: string | undefined;
  private lastError: string | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Counts, for tests and the bench. */
  readonly stats = { encrypt: 0, decrypt: 0, renewals: 0 };

  private constructor(
    private readonly cfg: TransitSealConfig,
    private readonly logger: TransitSealLogger,
    private readonly opts: TransitSealOptions,
  ) {
    this.where = 'seal "transit"';
    this.url = new URL(cfg.address);
    if (this.url.protocol === 'https:') {
      const read = (key: string, file: string | undefined) => {
        if (!file) return undefined;
        try {
          return readFileSync(file);
        } catch (err) {
          throw new TransitSealError(500, `${this.where}: cannot read "${key}" file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, false);
        }
      };
      this.agent = new https.Agent({
        keepAlive: true,
        ca: read('tls_ca_cert', cfg.tlsCaCert),
        cert: read('tls_client_cert', cfg.tlsClientCert),
        key: read('tls_client_key', cfg.tlsClientKey),
        servername: cfg.tlsServerName,
        rejectUnauthorized: !cfg.tlsSkipVerify,
      });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  /**
   * Checks the peer before the server relies on it: the key must exist
   * (a decrypt probe answers "encryption key not found" otherwise; an
   * encrypt would silently create it), and the token must be allowed to
   * encrypt and decrypt. Permission and key problems reject with a
   * non-transient error naming the stanza; an unreachable or sealed peer
   * rejects with a transient one (the caller retries).
   */
  static async open(cfg: TransitSealConfig, opts: TransitSealOptions = {}): Promise<TransitSeal> {
    const seal = new TransitSeal(cfg, opts.logger ?? console, opts);
    try {
      await seal.probe();
    } catch (err) {
      seal.agent.destroy();
      throw err;
    }
    if (!cfg.disableRenewal) await seal.startRenewal();
    seal.startHeartbeat(opts.heartbeatIntervalMs ?? 10_000);
    return seal;
  }

  private get keyPath(): string {
    return `${this.cfg.mountPath}/%s/${encodeURIComponent(this.cfg.keyName)}`;
  }

  private async probe(): Promise<void> {
    // A well-formed ciphertext no key made: an existing key answers 400 "invalid ciphertext"-like, a missing one "encryption key not found".
    const fake = `vault:v1:${Buffer.alloc(44).toString('base64')}`;
    const res = await this.request('POST', this.keyPath.replace('%s', 'decrypt'), { ciphertext: fake });
    if (res.status === 403) throw this.permissionError('decrypt', res);
    if (res.status === 400 && peerErrors(res).some((e) => /encryption key not found|key not found/i.test(e))) {
      throw new TransitSealError(500, `${this.where}: transit key "${this.cfg.keyName}" not found on mount "${this.cfg.mountPath}" at ${this.cfg.address}`, false);
    }
    if (res.status === 404) {
      throw new TransitSealError(500, `${this.where}: no transit engine answers at mount "${this.cfg.mountPath}" on ${this.cfg.address} (404)`, false);
    }
    if (res.status >= 500) throw this.peerError('decrypt', res);
    // Round trip: proves the token may encrypt, and that the key decrypts what it encrypts.
    const sample = randomBytes(16);
    const blob = await this.wrap(sample);
    const back = await this.unwrap(blob);
    if (!back.equals(sample)) throw new TransitSealError(500, `${this.where}: the transit key did not decrypt what it encrypted`, false);
  }

  private permissionError(op: string, res: PeerResponse): TransitSealError {
    return new TransitSealError(
      500,
      `${this.where}: the token lacks permission for ${this.cfg.mountPath}/${op}/${this.cfg.keyName} on ${this.cfg.address} (${res.status}: ${peerErrors(res).join('; ') || 'permission denied'})`,
      false,
    );
  }

  private peerError(op: string, res: PeerResponse): TransitSealError {
    return new TransitSealError(503, `${this.where}: ${op} failed at ${this.cfg.address} (${res.status}: ${peerErrors(res).join('; ') || 'no error text'})`, true);
  }

  hasKey(): boolean {
    return true;
  }

  async wrap(plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
    const dataKey = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    if (aad && aad.length > 0) cipher.setAAD(aad);
    const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    this.stats.encrypt++;
    const res = await this.call('encrypt', { plaintext: dataKey.toString('base64') });
    dataKey.fill(0);
    const ct = res.body?.data?.ciphertext;
    if (typeof ct !== 'string' || !VERSION_RE.test(ct)) {
      throw new TransitSealError(502, `${this.where}: encrypt at ${this.cfg.address} returned no "vault:vN:" ciphertext`, true);
    }
    this.latestVersion = Math.max(this.latestVersion, Number(VERSION_RE.exec(ct)![1]));
    const blob: TransitBlob = { tresor_seal: BLOB_TAG, v: 1, key: this.cfg.keyName, ct, iv: iv.toString('base64'), data: data.toString('base64') };
    return Buffer.from(JSON.stringify(blob));
  }

  async unwrap(blob: Buffer, aad?: Buffer): Promise<Buffer> {
    const parsed = decodeTransitBlob(blob);
    if (!parsed) throw new TresorError(400, 'transit seal: unable to unwrap: not a transit seal blob');
    if (parsed.key !== this.cfg.keyName) {
      throw new TresorError(400, `transit seal: unable to unwrap: the blob was made by transit key "${parsed.key}", this seal uses "${this.cfg.keyName}"`);
    }
    this.stats.decrypt++;
    const res = await this.call('decrypt', { ciphertext: parsed.ct });
    const dataKeyB64 = res.body?.data?.plaintext;
    if (typeof dataKeyB64 !== 'string') throw new TransitSealError(502, `${this.where}: decrypt at ${this.cfg.address} returned no plaintext`, true);
    const dataKey = Buffer.from(dataKeyB64, 'base64');
    try {
      const data = Buffer.from(parsed.data, 'base64');
      if (dataKey.length !== 32 || data.length < 16) throw new Error('bad lengths');
      const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(parsed.iv, 'base64'));
      if (aad && aad.length > 0) decipher.setAAD(aad);
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    } catch {
      throw new TresorError(400, 'transit seal: unable to unwrap: the blob does not authenticate under its key');
    } finally {
      dataKey.fill(0);
    }
  }

  needsRewrap(blob: Buffer): boolean {
    const parsed = decodeTransitBlob(blob);
    if (!parsed || parsed.key !== this.cfg.keyName) return true;
    const version = Number(VERSION_RE.exec(parsed.ct)?.[1] ?? 0);
    return version < this.latestVersion;
  }

  keyInfo(): KeyInfo {
    const version = this.latestVersion ? ` version=${this.latestVersion}` : '';
    return { type: 'transit', keyId: `${this.cfg.keyIdPrefix ?? ''}${this.cfg.keyName}${version}`, mechanism: 'transit' };
  }

  async generateRandom(length: number): Promise<Buffer> {
    const res = await this.call('random', { format: 'base64' }, `${this.cfg.mountPath}/random/${length}`);
    const bytes = res.body?.data?.random_bytes;
    if (typeof bytes !== 'string') throw new TransitSealError(502, `${this.where}: random at ${this.cfg.address} returned no bytes`, true);
    return Buffer.from(bytes, 'base64');
  }

  health(): SealHealth {
    return this.healthy ? { healthy: true } : { healthy: false, unhealthySince: this.unhealthySince, lastError: this.lastError };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.agent.destroy();
  }

  /** One transit operation; non-2xx becomes a TransitSealError (403 not transient, 5xx/network transient). */
  private async call(op: string, body: unknown, path = this.keyPath.replace('%s', op)): Promise<PeerResponse> {
    let res: PeerResponse;
    try {
      res = await this.request('POST', path, body);
    } catch (err) {
      this.markUnhealthy((err as Error).message);
      throw err;
    }
    if (res.status >= 200 && res.status < 300) {
      this.markHealthy();
      return res;
    }
    const error = res.status === 403 ? this.permissionError(op, res) : res.status >= 500 ? this.peerError(op, res) : undefined;
    if (error) {
      this.markUnhealthy(error.message);
      throw error;
    }
    // A 400 from decrypt is about the blob, not the peer's health.
    throw new TresorError(400, `transit seal: ${op} refused by ${this.cfg.address}: ${peerErrors(res).join('; ') || res.status}`);
  }

  private markHealthy(): void {
    if (!this.healthy) this.logger.info(`seal: transit seal at ${this.cfg.address} answers again`);
    this.healthy = true;
    this.unhealthySince = undefined;
    this.lastError = undefined;
  }

  private markUnhealthy(message: string): void {
    if (this.healthy) {
      this.unhealthySince = new Date().toISOString();
      this.logger.warn(`seal: transit seal unhealthy: ${message}`);
    }
    this.healthy = false;
    this.lastError = message;
  }

  private startHeartbeat(intervalMs: number): void {
    this.heartbeatTimer = setInterval(() => {
      void this.wrap(Buffer.from('heartbeat')).catch(() => {});
    }, intervalMs);
    this.heartbeatTimer.unref();
  }

  /** Renews the token at half its TTL, as Vault's transit seal does, unless it is not renewable. */
  private async startRenewal(): Promise<void> {
    let res: PeerResponse;
    try {
      res = await this.request('GET', 'auth/token/lookup-self');
    } catch {
      return this.scheduleRenewal(30);
    }
    if (res.status !== 200) {
      this.logger.warn(`seal: transit seal cannot look up its own token (${res.status}); token renewal is off`);
      return;
    }
    const { ttl, renewable } = res.body?.data ?? {};
    if (!renewable || !ttl) {
      this.logger.info('seal: transit seal token is not renewable or has no TTL; token renewal is off');
      return;
    }
    this.scheduleRenewal(Number(ttl) / 2);
  }

  private scheduleRenewal(afterSeconds: number): void {
    if (this.closed) return;
    this.renewTimer = setTimeout(() => void this.renew(), Math.max(1, afterSeconds) * 1000);
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    try {
      const res = await this.request('POST', 'auth/token/renew-self', {});
      const ttl = Number(res.body?.auth?.lease_duration ?? 0);
      if (res.status !== 200) {
        this.logger.warn(`seal: transit seal token renewal failed (${res.status}: ${peerErrors(res).join('; ')}); retrying in 30 s`);
        return this.scheduleRenewal(30);
      }
      this.stats.renewals++;
      this.logger.info(`seal: transit seal token renewed (ttl ${ttl} s)`);
      if (ttl > 0) this.scheduleRenewal(ttl / 2);
    } catch (err) {
      this.logger.warn(`seal: transit seal token renewal failed (${(err as Error).message}); retrying in 30 s`);
      this.scheduleRenewal(30);
    }
  }

  private request(method: string, path: string, body?: unknown): Promise<PeerResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { 'X-Vault-Token': this.cfg.token, 'X-Vault-Request': 'true' };
    if (this.cfg.namespace) headers['X-Vault-Namespace'] = this.cfg.namespace;
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const base = this.url.pathname.replace(/\/+$/, '');
    const transport = this.url.protocol === 'https:' ? https : http;
    const timeoutMs = this.opts.requestTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        { protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port, method, path: `${base}/v1/${path}`, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(this.networkError(err)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : {};
            } catch {
              parsed = {};
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(this.networkError(err)));
      req.end(payload);
    });
  }

  private networkError(err: NodeJS.ErrnoException): TransitSealError {
    const tlsCodes = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/;
    const code = err.code ?? '';
    if (tlsCodes.test(code)) {
      return new TransitSealError(500, `${this.where}: TLS to ${this.cfg.address} failed: ${code}`, false);
    }
    return new TransitSealError(503, `${this.where}: ${this.cfg.address} not reachable: ${code || err.message}`, true);
  }
}

function peerErrors(res: PeerResponse): string[] {
  const errors = res.body?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
}

/** Parses a transit seal blob; undefined when `blob` is not one. */
export function decodeTransitBlob(blob: Buffer): TransitBlob | undefined {
  if (blob.length === 0 || blob[0] !== 0x7b) return undefined;
  try {
    const parsed = JSON.parse(blob.toString('utf8')) as TransitBlob;
    if (parsed.tresor_seal !== BLOB_TAG || parsed.v !== 1) return undefined;
    if (typeof parsed.key !== 'string' || typeof parsed.ct !== 'string' || typeof parsed.iv !== 'string' || typeof parsed.data !== 'string') return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

/** True when `err` (from open, wrap or unwrap) is worth retrying. */
export function isTransientTransitError(err: unknown): boolean {
  return err instanceof TransitSealError && err.transient;
}
