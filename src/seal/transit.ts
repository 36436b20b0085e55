/**
 * Vault's `seal "transit"`: the seal key lives in another Vault-compatible
 * server's transit engine, reached over its HTTP API.
 *
 * Each wrap makes a fresh 256-bit data key, encrypts the plaintext locally
 * with AES-256-GCM (binding the caller's AAD), and has the peer encrypt the
 * data key with `POST <mount>/encrypt/<key>`; unwrap asks the peer to decrypt
 * the data key. Only one peer round trip per call, and the AAD never leaves
 * this process. The peer's `vault:vN:` prefix tells which key version wrapped
 * a blob: `needsRewrap` is true for blobs older than the newest version seen.
 *
 * Blob (version 1): u8 0x54 ('T'), u8 1, u16 length + peer ciphertext
 * (ASCII "vault:vN:..."), 12-byte IV, then GCM ciphertext with its 16-byte tag.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { TresorError } from '../core/errors.ts';
import type { KeyInfo, SealHealth, SealWrapper } from './seal.ts';

export interface TransitSealOptions {
  address: string;
  token: string;
  keyName: string;
  /** Always ends with "/"; default "transit/". */
  mountPath: string;
  namespace?: string;
  /** Vault's `key_id_prefix`: prepended to the key id this seal reports. */
  keyIdPrefix?: string;
  tlsCaCert?: string;
  tlsClientCert?: string;
  tlsClientKey?: string;
  tlsServerName?: string;
  tlsSkipVerify: boolean;
  disableRenewal: boolean;
}

export interface TransitSealLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface TransitSealRuntime {
  logger?: TransitSealLogger;
  /** Heartbeat period; default 10 000 ms. */
  heartbeatIntervalMs?: number;
  /** Per-request timeout; default 10 000 ms. */
  requestTimeoutMs?: number;
}

const MAGIC = 0x54;
const BLOB_VERSION = 1;
const STANZA = 'seal "transit"';

/**
 * A failure talking to the peer. `transient` is true when retrying may help
 * (connection refused or reset, timeout, 5xx, 429); false when the peer
 * refused the request itself (403 permission denied, 400 key not found).
 * The message names the operation, HTTP status and the peer's error text,
 * never the token.
 */
export class TransitSealError extends TresorError {
  constructor(
    status: number,
    message: string,
    readonly transient: boolean,
    readonly peerStatus?: number,
  ) {
    super(status, message);
    this.name = 'TransitSealError';
  }
}

interface PeerResponse {
  status: number;
  body: any;
}

export class TransitSeal implements SealWrapper {
  readonly type = 'transit';
  private readonly agent: http.Agent;
  private readonly base: URL;
  private latestVersion = 0;
  private healthy = true;
  private unhealthySince: string | undefined;
  private lastError: string | undefined;
  private heartbeatTimer?: NodeJS.Timeout;
  private renewTimer?: NodeJS.Timeout;
  private heartbeatRunning?: Promise<void>;
  private closed = false;
  private readonly logger: TransitSealLogger;
  private readonly timeoutMs: number;

  private constructor(
    private readonly config: TransitSealOptions,
    runtime: TransitSealRuntime,
  ) {
    this.logger = runtime.logger ?? console;
    this.timeoutMs = runtime.requestTimeoutMs ?? 10_000;
    this.base = new URL(config.address.endsWith('/') ? config.address : `${config.address}/`);
    if (this.base.protocol === 'https:') {
      this.agent = new https.Agent({
        keepAlive: true,
        ca: config.tlsCaCert ? readFileSync(config.tlsCaCert) : undefined,
        cert: config.tlsClientCert ? readFileSync(config.tlsClientCert) : undefined,
        key: config.tlsClientKey ? readFileSync(config.tlsClientKey) : undefined,
        servername: config.tlsServerName,
        rejectUnauthorized: !config.tlsSkipVerify,
      });
    } else if (this.base.protocol === 'http:') {
      this.agent = new http.Agent({ keepAlive: true });
    } else {
      throw new TransitSealError(500, `${STANZA}: "address" must be an http:// or https:// URL`, false);
    }
  }

  /**
   * Checks the key and the token's rights with a probe (a decrypt of a
   * dummy ciphertext tells "key not found" from "permission denied" without
   * creating a key, then an encrypt/decrypt round trip), then starts the
   * heartbeat and, unless disable_renewal, token renewal. Rejects with a
   * TransitSealError: `transient` when the peer is unreachable or sealed.
   */
  static async open(config: TransitSealOptions, runtime: TransitSealRuntime = {}): Promise<TransitSeal> {
    let seal: TransitSeal;
    try {
      seal = new TransitSeal(config, runtime);
    } catch (err) {
      if (err instanceof TransitSealError) throw err;
      throw new TransitSealError(500, `${STANZA}: cannot read a TLS file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, false);
    }
    try {
      await seal.probe();
    } catch (err) {
      seal.agent.destroy();
      throw err;
    }
    seal.heartbeatTimer = setInterval(() => void seal.checkHealth(), runtime.heartbeatIntervalMs ?? 10_000);
    seal.heartbeatTimer.unref();
    if (!config.disableRenewal) await seal.startRenewal();
    return seal;
  }

  private get keyPath(): string {
    return `${this.config.mountPath}encrypt/${encodeURIComponent(this.config.keyName)}`;
  }

  private async probe(): Promise<void> {
    const dummy = `vault:v1:${Buffer.alloc(28).toString('base64')}`;
    const res = await this.request('POST', `${this.config.mountPath}decrypt/${encodeURIComponent(this.config.keyName)}`, { ciphertext: dummy });
    const message = peerMessage(res.body);
    if (res.status === 403) throw this.refused('decrypt', res, `the token may not use key "${this.config.keyName}" at ${this.config.mountPath}`);
    if (/key not found/i.test(message) || res.status === 404) {
      throw this.refused('decrypt', res, `transit key "${this.config.keyName}" not found at ${this.config.mountPath}`);
    }
    if (res.status >= 500 || res.status === 429) throw this.failure('decrypt', res);
    // Any other answer (a 400 about the dummy ciphertext) means the key exists and decrypt is allowed.
    const probe = randomBytes(16);
    const roundTrip = await this.unwrap(await this.wrap(probe));
    if (!timingSafeEqual(roundTrip, probe)) throw new TransitSealError(500, `${STANZA}: the probe round trip returned different bytes`, false);
  }

  async wrap(plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
    const dataKey = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    if (aad && aad.length > 0) cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const res = await this.call('encrypt', 'POST', this.keyPath, { plaintext: dataKey.toString('base64') });
    const wrapped = res.body?.data?.ciphertext;
    if (typeof wrapped !== 'string') throw new TransitSealError(502, `${STANZA}: encrypt: the peer's answer has no ciphertext`, true);
    this.noteVersion(wrapped);
    const wrappedBytes = Buffer.from(wrapped, 'ascii');
    const head = Buffer.alloc(4);
    head.writeUInt8(MAGIC, 0);
    head.writeUInt8(BLOB_VERSION, 1);
    head.writeUInt16BE(wrappedBytes.length, 2);
    return Buffer.concat([head, wrappedBytes, iv, body]);
  }

  async unwrap(blob: Buffer, aad?: Buffer): Promise<Buffer> {
    const { wrapped, iv, body } = decodeTransitBlob(blob);
    const res = await this.call('decrypt', 'POST', `${this.config.mountPath}decrypt/${encodeURIComponent(this.config.keyName)}`, { ciphertext: wrapped });
    const keyText = res.body?.data?.plaintext;
    if (typeof keyText !== 'string') throw new TransitSealError(502, `${STANZA}: decrypt: the peer's answer has no plaintext`, true);
    const dataKey = Buffer.from(keyText, 'base64');
    if (dataKey.length !== 32) throw new TresorError(400, 'transit seal: unable to unwrap: the blob does not authenticate under its key');
    try {
      const decipher = createDecipheriv('aes-256-gcm', dataKey, iv);
      if (aad && aad.length > 0) decipher.setAAD(aad);
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    } catch {
      throw new TresorError(400, 'transit seal: unable to unwrap: the blob does not authenticate under its key');
    }
  }

  needsRewrap(blob: Buffer): boolean {
    const version = versionOf(decodeTransitBlob(blob).wrapped);
    return version < this.latestVersion;
  }

  keyInfo(): KeyInfo {
    const version = this.latestVersion ? `:v${this.latestVersion}` : '';
    const keyId = `${this.config.keyIdPrefix ?? ''}${this.config.mountPath}${this.config.keyName}${version}`;
    return { type: this.type, keyId, details: { address: this.config.address, mount_path: this.config.mountPath, key_name: this.config.keyName, key_id: keyId } };
  }

  async generateRandom(length: number): Promise<Buffer> {
    if (!Number.isInteger(length) || length < 0) throw new TresorError(400, 'transit seal: random length must be a non-negative integer');
    return randomBytes(length);
  }

  health(): SealHealth {
    return this.healthy ? { healthy: true } : { healthy: false, unhealthySince: this.unhealthySince, lastError: this.lastError };
  }

  /** One heartbeat now: a wrap/unwrap round trip through the peer. */
  checkHealth(): Promise<void> {
    this.heartbeatRunning ??= (async () => {
      try {
        const probe = randomBytes(16);
        const back = await this.unwrap(await this.wrap(probe));
        if (!timingSafeEqual(back, probe)) throw new Error('heartbeat round trip returned different bytes');
      } catch (err) {
        this.recordFailure(err);
      }
    })().finally(() => (this.heartbeatRunning = undefined));
    return this.heartbeatRunning;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.renewTimer);
    await this.heartbeatRunning;
    this.agent.destroy();
  }

  // ------------------------------------------------------------ token renewal

  /** Looks the token up; when it is renewable with a TTL, renews it at half its TTL from then on. */
  private async startRenewal(): Promise<void> {
    let res: PeerResponse;
    try {
      res = await this.request('GET', 'auth/token/lookup-self');
    } catch (err) {
      this.logger.warn(`transit seal: cannot look up the token for renewal: ${(err as Error).message}`);
      return;
    }
    if (res.status !== 200) {
      this.logger.warn(`transit seal: token lookup for renewal refused (${res.status} ${peerMessage(res.body)}); the token will not be renewed`);
      return;
    }
    const ttl = Number(res.body?.data?.ttl ?? 0);
    if (!res.body?.data?.renewable || !(ttl > 0)) return;
    this.scheduleRenewal(ttl);
  }

  private scheduleRenewal(ttlSeconds: number): void {
    if (this.closed) return;
    const delayMs = Math.max(1000, Math.floor((ttlSeconds * 1000) / 2));
    this.renewTimer = setTimeout(() => void this.renew(ttlSeconds), delayMs);
    this.renewTimer.unref();
  }

  private async renew(previousTtl: number): Promise<void> {
    try {
      const res = await this.request('POST', 'auth/token/renew-self', {});
      if (res.status !== 200) throw new Error(`${res.status} ${peerMessage(res.body)}`);
      const ttl = Number(res.body?.auth?.lease_duration ?? 0);
      this.logger.info(`transit seal: token renewed (ttl ${ttl}s)`);
      if (ttl > 0 && res.body?.auth?.renewable !== false) this.scheduleRenewal(ttl);
    } catch (err) {
      this.logger.warn(`transit seal: token renewal failed: ${(err as Error).message}; retrying`);
      this.scheduleRenewal(Math.max(2, previousTtl / 2));
    }
  }

  // ------------------------------------------------------------ HTTP

  private noteVersion(ciphertext: string): void {
    const version = versionOf(ciphertext);
    if (version > this.latestVersion) this.latestVersion = version;
  }

  /** A request whose non-2xx answer becomes a TransitSealError; success marks the seal healthy. */
  private async call(op: string, method: string, apiPath: string, body?: unknown): Promise<PeerResponse> {
    let res: PeerResponse;
    try {
      res = await this.request(method, apiPath, body);
    } catch (err) {
      this.recordFailure(err);
      throw err;
    }
    if (res.status < 200 || res.status >= 300) {
      const err = res.status === 403 || (res.status === 400 && op === 'encrypt') ? this.refused(op, res) : this.failure(op, res);
      if (err.transient || err.status === 403) this.recordFailure(err);
      throw err;
    }
    if (!this.healthy) this.logger.info('transit seal: the peer answers again');
    this.healthy = true;
    this.unhealthySince = undefined;
    this.lastError = undefined;
    return res;
  }

  private recordFailure(err: unknown): void {
    const message = (err as Error).message;
    if (this.healthy) this.logger.warn(`transit seal: unhealthy: ${message}`);
    this.healthy = false;
    this.unhealthySince ??= new Date().toISOString();
    this.lastError = message;
  }

  /** The peer refused the request itself: a configuration problem, not an outage. */
  private refused(op: string, res: PeerResponse, what?: string): TransitSealError {
    const detail = `${op} ${this.config.mountPath}${this.config.keyName}: ${res.status} ${peerMessage(res.body)}`;
    return new TransitSealError(500, `${STANZA}: ${what ? `${what} (${detail})` : detail}`, false, res.status);
  }

  /** 5xx/429 and other failures: the caller may retry. Vault's 400 on a bad blob stays a 400. */
  private failure(op: string, res: PeerResponse): TransitSealError {
    const transient = res.status >= 500 || res.status === 429;
    return new TransitSealError(transient ? 503 : 400, `${STANZA}: ${op} ${this.config.mountPath}${this.config.keyName}: ${res.status} ${peerMessage(res.body)}`, transient, res.status);
  }

  private request(method: string, apiPath: string, body?: unknown): Promise<PeerResponse> {
    const url = new URL(`v1/${apiPath}`, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { 'X-Vault-Token': this.config.token, 'X-Vault-Request': 'true' };
    if (this.config.namespace) headers['X-Vault-Namespace'] = this.config.namespace;
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(networkError(method, apiPath, err)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(networkError(method, apiPath, err)));
      req.end(payload);
    });
  }
}

function networkError(method: string, apiPath: string, err: Error): TransitSealError {
  const code = (err as NodeJS.ErrnoException).code;
  const what = code ? `${code}${code === 'ETIMEDOUT' ? '' : ''}` : err.message;
  // TLS verification failures are configuration problems; connection failures are outages.
  const tls = typeof code === 'string' && /CERT|SELF_SIGNED|TLS|SSL|ERR_OSSL/.test(code);
  return new TransitSealError(503, `${STANZA}: ${method} ${apiPath}: peer unreachable (${what})`, !tls);
}

/** The first of the peer's `errors`, or "" (the peer's own words, never the request). */
function peerMessage(body: any): string {
  const errors = body?.errors;
  return Array.isArray(errors) && errors.length > 0 ? String(errors.join('; ')) : '';
}

function versionOf(ciphertext: string): number {
  const m = /^vault:v(\d+):/.exec(ciphertext);
  return m ? Number(m[1]) : 0;
}

function decodeTransitBlob(blob: Buffer): { wrapped: string; iv: Buffer; body: Buffer } {
  const bad = () => new TresorError(400, 'transit seal: the wrapped blob is malformed');
  if (blob.length < 4 || blob[0] !== MAGIC) throw bad();
  if (blob[1] !== BLOB_VERSION) throw new TresorError(400, `transit seal: wrapped blob version ${blob[1]} is not supported`);
  const len = blob.readUInt16BE(2);
  const end = 4 + len;
  if (blob.length < end + 12 + 16) throw bad();
  return { wrapped: blob.subarray(4, end).toString('ascii'), iv: blob.subarray(end, end + 12), body: blob.subarray(end + 12) };
}

/** True when an error from opening the seal is worth retrying (peer down, sealed, overloaded). */
export function isTransientTransitError(err: unknown): boolean {
  return err instanceof TransitSealError && err.transient;
}
