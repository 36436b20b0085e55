/**
 * HTTP client for Tresor's (Vault-compatible) API. Uses node:http(s) rather
 * than fetch so a custom CA file and skip-verify work without extra packages.
 */
import fs from 'node:fs';
import http from 'node:http';
// node:https (and with it tls) is loaded only for https:// addresses: it costs a short command ~10 ms.
import type { RequestOptions as TlsRequestOptions } from 'node:https';
import { UsageError } from './args.ts';
import { CliError } from './cli-error.ts';
import { describeFsError } from './fs-errors.ts';
import { readStoredToken } from './token-helper.ts';
import { sumDurationTerms } from '../config/duration.ts';

export const DEFAULT_ADDRESS = 'http://127.0.0.1:8200';
/** Vault's client timeout: a whole request, connection to last byte. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 60_000;

export interface ClientConfig {
  address: URL;
  token?: string;
  /** Path of the CA file (for -output-curl-string) and its contents. */
  caCert?: string;
  caCertPem?: Buffer;
  skipVerify: boolean;
  /** Sent as X-Vault-Wrap-TTL on every request (`-wrap-ttl`, TRESOR_WRAP_TTL, VAULT_WRAP_TTL). */
  wrapTtl?: string;
  clientCert?: string;
  clientKey?: string;
  clientCertPem?: Buffer;
  clientKeyPem?: Buffer;
  /** SNI name and name checked against the certificate, instead of the address's host. */
  tlsServerName?: string;
  /** Whole-request deadline; default {@link DEFAULT_CLIENT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Retries on 412 and 5xx (but 501); 0 unless VAULT_MAX_RETRIES is set, as in Vault's CLI. */
  maxRetries?: number;
  /** Extra headers from -header. */
  headers?: Record<string, string>;
  /** Print the first request as a curl command instead of sending it. */
  outputCurlString?: boolean;
}

/** Flag values that override the environment (undefined = not given). */
export interface ClientFlagOverrides {
  address?: string;
  caCert?: string;
  skipVerify?: boolean;
  wrapTtl?: string;
  clientCert?: string;
  clientKey?: string;
  tlsServerName?: string;
  clientTimeout?: string;
  headers?: string[];
  outputCurlString?: boolean;
}

/** Vault's CLI wraps a write to sys/wrapping/wrap for 5 minutes when no wrap TTL is set (that endpoint needs one). */
const DEFAULT_WRAP_TTL = '5m';

const envFirst = (env: NodeJS.ProcessEnv, ...names: string[]) =>
  names.map((n) => env[n]).find((v) => v !== undefined && v !== '');

/** The name of the first set variable among `names`, for error messages. */
const envName = (env: NodeJS.ProcessEnv, ...names: string[]) => names.find((n) => env[n] !== undefined && env[n] !== '');

const isTruthy = (v: string | undefined) => v !== undefined && /^(1|t|true|yes)$/i.test(v);

const SECONDS = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 } as const;

/** A Vault duration ("60", "30s", "1m30s") in milliseconds; undefined when it is not one. */
export function parseClientDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const seconds = sumDurationTerms(t, SECONDS);
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}

/** Reads a PEM file named by a flag or variable; a clear one-line error when it cannot be read. */
function readPemFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new CliError(`Error: cannot read the ${what} ${file}: ${describeFsError(err)}`, 1);
  }
}

/** Vault's -header: `Name=Value`, repeatable; X-Vault-* headers may not be overridden. */
export function parseHeaderFlags(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError('-header values must look like Name=Value');
    const name = item.slice(0, eq).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`-header: "${name}" is not a valid header name`);
    if (/^x-vault-/i.test(name)) throw new UsageError(`-header: headers starting with "X-Vault-" cannot be set this way (${name})`);
    out[name] = item.slice(eq + 1);
  }
  return out;
}

/** The token commands send: TRESOR_TOKEN, else VAULT_TOKEN, else the token helper file. */
export function resolveToken(env: NodeJS.ProcessEnv): string | undefined {
  return envFirst(env, 'TRESOR_TOKEN', 'VAULT_TOKEN') ?? readStoredToken(env);
}

/**
 * Resolves address, token and TLS settings: flag, else `TRESOR_*`, else
 * `VAULT_*`, else defaults (`http://127.0.0.1:8200`, token helper file).
 * Files (CA, client certificate and key) are read here, so a missing one is
 * reported before anything is sent.
 */
export function resolveClientConfig(env: NodeJS.ProcessEnv, flags: ClientFlagOverrides = {}): ClientConfig {
  const rawAddress = flags.address || envFirst(env, 'TRESOR_ADDR', 'VAULT_ADDR') || DEFAULT_ADDRESS;
  let address: URL;
  try {
    address = new URL(rawAddress);
  } catch {
    throw new UsageError(`invalid server address: ${rawAddress}`);
  }
  if (address.protocol !== 'http:' && address.protocol !== 'https:') {
    throw new UsageError(`server address must use http or https: ${rawAddress}`);
  }

  const rawTimeout = flags.clientTimeout ?? envFirst(env, 'TRESOR_CLIENT_TIMEOUT', 'VAULT_CLIENT_TIMEOUT');
  let timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS;
  if (rawTimeout !== undefined) {
    const parsed = parseClientDuration(rawTimeout);
    const source = flags.clientTimeout !== undefined ? '-client-timeout' : envName(env, 'TRESOR_CLIENT_TIMEOUT', 'VAULT_CLIENT_TIMEOUT');
    if (parsed === undefined) throw new UsageError(`could not parse ${source}: use a duration such as "30s" or "2m"`);
    timeoutMs = parsed;
  }

  // Vault's CLI does not retry unless VAULT_MAX_RETRIES is set (its API client's default of 2 is turned off).
  let maxRetries = 0;
  const rawRetries = envFirst(env, 'TRESOR_MAX_RETRIES', 'VAULT_MAX_RETRIES');
  if (rawRetries !== undefined) {
    if (!/^-?\d+$/.test(rawRetries.trim())) throw new UsageError(`could not parse ${envName(env, 'TRESOR_MAX_RETRIES', 'VAULT_MAX_RETRIES')}`);
    maxRetries = Math.max(0, Number.parseInt(rawRetries, 10));
  }

  const caCert = flags.caCert || envFirst(env, 'TRESOR_CACERT', 'VAULT_CACERT');
  const clientCert = flags.clientCert || envFirst(env, 'TRESOR_CLIENT_CERT', 'VAULT_CLIENT_CERT');
  const clientKey = flags.clientKey || envFirst(env, 'TRESOR_CLIENT_KEY', 'VAULT_CLIENT_KEY');
  if (Boolean(clientCert) !== Boolean(clientKey)) throw new UsageError('-client-cert and -client-key must be given together');
  return {
    address,
    token: resolveToken(env),
    caCert,
    caCertPem: caCert ? readPemFile(caCert, 'CA certificate file') : undefined,
    skipVerify: flags.skipVerify ?? isTruthy(envFirst(env, 'TRESOR_SKIP_VERIFY', 'VAULT_SKIP_VERIFY')),
    wrapTtl: flags.wrapTtl || envFirst(env, 'TRESOR_WRAP_TTL', 'VAULT_WRAP_TTL'),
    clientCert,
    clientKey,
    clientCertPem: clientCert ? readPemFile(clientCert, 'client certificate file') : undefined,
    clientKeyPem: clientKey ? readPemFile(clientKey, 'client key file') : undefined,
    tlsServerName: flags.tlsServerName || envFirst(env, 'TRESOR_TLS_SERVER_NAME', 'VAULT_TLS_SERVER_NAME'),
    timeoutMs,
    maxRetries,
    headers: parseHeaderFlags(flags.headers ?? []),
    outputCurlString: flags.outputCurlString ?? false,
  };
}

/**
 * A non-2xx answer from the server. `errors` is Vault's `{"errors": [...]}`
 * list; when the body was not that shape, `rawBody` keeps it.
 */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly errors: string[],
    readonly rawBody: string,
  ) {
    super(`${method} ${url}: ${status}`);
    this.name = 'ApiError';
  }

  /**
   * Vault's wording for a failed request:
   * `Error making API request.\n\nURL: PUT <url>\nCode: 400. Errors:\n\n* <message>`
   */
  describe(): string {
    const head = `Error making API request.\n\nURL: ${this.method} ${this.url}\nCode: ${this.status}.`;
    if (this.errors.length > 0) return `${head} Errors:\n\n${this.errors.map((e) => `* ${e}`).join('\n')}`;
    if (this.rawBody.trim() !== '') return `${head} Raw Message:\n\n${this.rawBody.trim()}`;
    return head;
  }
}

/** The server could not be reached at all (refused, TLS failure, timeout). */
export class TransportError extends Error {
  constructor(method: string, url: string, explanation: string) {
    super(`${method} ${url}: ${explanation}`);
    this.name = 'TransportError';
  }
}

/** Thrown instead of sending when -output-curl-string is set; carries the command to print. */
export class CurlStringRequest extends Error {
  constructor(readonly curl: string) {
    super('-output-curl-string: request not sent');
    this.name = 'CurlStringRequest';
  }
}

/** Go's answer when plain HTTP reaches a TLS port (Tresor and Vault both send it). */
const HTTP_TO_HTTPS_BODY = 'Client sent an HTTP request to an HTTPS server.';

/** TLS verification failures that a CA file (or -tls-skip-verify) would resolve. */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
]);

/** One line saying why a connection failed and, where it is clear, what to do. */
export function explainTransportError(err: NodeJS.ErrnoException, url: URL, timeoutMs: number): string {
  const code = err.code ?? '';
  const message = err.message.split('\n')[0]!.replace(/:\.\.\/deps\/openssl\S*$/, '');
  if (code === 'ETIMEDOUT_CLIENT') {
    return `no answer within ${formatMs(timeoutMs)} (the client timeout; set -client-timeout or TRESOR_CLIENT_TIMEOUT to wait longer)`;
  }
  if (code === 'ECONNREFUSED') return `connection refused (ECONNREFUSED): is a Tresor server listening at ${url.host}?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host name "${url.hostname}" (${code})`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `no route to ${url.host} (${code})`;
  if (url.protocol === 'https:' && /wrong version number|packet length too long|unknown protocol|http request/i.test(message)) {
    return `the server speaks plain HTTP, not TLS: use an http:// address (${code || 'TLS handshake failed'})`;
  }
  if (UNTRUSTED_CERT_CODES.has(code)) {
    return `the server's TLS certificate is not trusted (${message}): give its CA with -ca-cert or TRESOR_CACERT`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the server's TLS certificate does not name ${url.hostname} (${message}); -tls-server-name sets the name to check`;
  }
  if (code === 'CERT_HAS_EXPIRED') return `the server's TLS certificate has expired (${code})`;
  if (code === 'ECONNRESET' || message === 'socket hang up') {
    return url.protocol === 'http:'
      ? `the server closed the connection without answering (${code || message}); if it speaks TLS, use an https:// address`
      : `the server closed the connection without answering (${code || message})`;
  }
  if (url.protocol === 'http:' && code.startsWith('HPE_')) {
    return `the server's answer is not HTTP (${code}); if it speaks TLS, use an https:// address`;
  }
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Vault's LinearJitterBackoff with its CLI's bounds: attempt × a random wait in [1 s, 1.5 s). */
function retryWaitMs(attempt: number): number {
  return (1000 + Math.floor(Math.random() * 500)) * (attempt + 1);
}

/** Whether Vault's client would retry this status: 412 (consistency) and every 5xx but 501. */
export function isRetryableStatus(status: number): boolean {
  return status === 412 || (status >= 500 && status !== 501);
}

/** Wraps `s` in single quotes for a POSIX shell. */
const shellQuote = (s: string) => `'${s.replaceAll("'", `'"'"'`)}'`;

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string>;
  /** Token to send instead of the configured one (login verifies a candidate token). */
  token?: string;
  /** Return null for a 404 that carries no error messages (Vault's "nothing here"). */
  allowNotFound?: boolean;
  contentType?: string;
  /** Never ask for a wrapped answer (preflight and verification requests, as Vault's CLI does). */
  noWrap?: boolean;
}

export interface RawResponse {
  status: number;
  text: string;
}

export class ApiClient {
  constructor(readonly config: ClientConfig) {}

  /**
   * Sends one request to `/v1/<path>` and returns the parsed JSON body
   * (null for 204 / empty bodies). Throws ApiError for any status >= 400.
   */
  async request<T = Record<string, unknown>>(method: string, path: string, opts: RequestOptions = {}): Promise<T | null> {
    const url = this.url(path, opts.query);
    const res = await this.sendWithRetries(method, url, opts);
    if (res.status === 400 && res.text.trim() === HTTP_TO_HTTPS_BODY) {
      throw new TransportError(method, url.toString(), 'the server speaks TLS: use an https:// address');
    }
    if (res.status >= 400) {
      const error = toApiError(method, url, res);
      if (opts.allowNotFound && res.status === 404 && error.errors.length === 0) return notFoundBody<T>(res.text);
      throw error;
    }
    if (res.text.trim() === '') return null;
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new ApiError(method, url.toString(), res.status, ['server returned a body that is not JSON'], '');
    }
  }

  /**
   * Lists keys under `path` with `GET ?list=true`, as Vault's own Go client
   * sends LIST (Node's HTTP parser, and so Tresor, has no LIST verb).
   */
  async list(path: string): Promise<Record<string, unknown> | null> {
    return this.request('GET', path, { allowNotFound: true, query: { list: 'true' } });
  }

  url(path: string, query?: Record<string, string>): URL {
    const base = this.config.address.toString().replace(/\/+$/, '');
    const url = new URL(`${base}/v1/${path.replace(/^\/+/, '')}`);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    return url;
  }

  /** The wrap TTL to ask for: the configured one, else Vault's default for writes to sys/wrapping/wrap. */
  private wrapTtlFor(method: string, url: URL): string | undefined {
    if (this.config.wrapTtl) return this.config.wrapTtl;
    const wrapEndpoint = url.pathname.replace(/\/+$/, '') === '/v1/sys/wrapping/wrap';
    return wrapEndpoint && (method === 'PUT' || method === 'POST') ? DEFAULT_WRAP_TTL : undefined;
  }

  private async sendWithRetries(method: string, url: URL, opts: RequestOptions): Promise<RawResponse> {
    const maxRetries = this.config.maxRetries ?? 0;
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(method, url, opts);
      if (attempt >= maxRetries || !isRetryableStatus(res.status)) return res;
      await new Promise((r) => setTimeout(r, retryWaitMs(attempt)));
    }
  }

  private headers(method: string, url: URL, opts: RequestOptions, payload: Buffer | undefined): Record<string, string> {
    const headers: Record<string, string> = { ...this.config.headers, 'X-Vault-Request': 'true' };
    const token = opts.token ?? this.config.token;
    if (token) headers['X-Vault-Token'] = token;
    const wrapTtl = opts.noWrap ? undefined : this.wrapTtlFor(method, url);
    if (wrapTtl) headers['X-Vault-Wrap-TTL'] = wrapTtl;
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    return headers;
  }

  /** The request as a curl command, the way Vault's -output-curl-string prints it (token left to the shell). */
  curlString(method: string, url: URL, headers: Record<string, string>, payload: Buffer | undefined): string {
    const parts = ['curl'];
    const c = this.config;
    if (c.skipVerify) parts.push('--insecure');
    if (method !== 'GET') parts.push('-X', method);
    if (c.caCert) parts.push('--cacert', shellQuote(c.caCert));
    if (c.clientCert) parts.push('--cert', shellQuote(c.clientCert));
    if (c.clientKey) parts.push('--key', shellQuote(c.clientKey));
    for (const [name, value] of Object.entries(headers)) {
      if (name === 'Content-Length') continue;
      parts.push('-H', `"${name}: ${name === 'X-Vault-Token' ? '$(tresor print token)' : value}"`);
    }
    if (payload) parts.push('-d', shellQuote(payload.toString('utf8')));
    parts.push(url.toString());
    return parts.join(' ');
  }

  private async send(method: string, url: URL, opts: RequestOptions): Promise<RawResponse> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers = this.headers(method, url, opts, payload);
    if (this.config.outputCurlString) throw new CurlStringRequest(this.curlString(method, url, headers, payload));
    const c = this.config;
    const isHttps = url.protocol === 'https:';
    const tls: TlsRequestOptions = isHttps
      ? {
          ca: c.caCertPem ?? (c.caCert ? fs.readFileSync(c.caCert) : undefined),
          cert: c.clientCertPem,
          key: c.clientKeyPem,
          rejectUnauthorized: !c.skipVerify,
          // Node checks the certificate against servername when it is given.
          servername: c.tlsServerName,
        }
      : {};
    const timeoutMs = c.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
    const transport = isHttps ? (await import('node:https')).default : http;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const fail = (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new TransportError(method, url.toString(), explainTransportError(e, url, timeoutMs)));
      };
      // No pooled connections: a server that rejects a verb (LIST) drops the socket, and a
      // reused one would fail the fallback request with "socket hang up".
      const req = transport.request(url, { method, headers, agent: false, ...tls }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
      });
      // Vault's client timeout covers the whole exchange, not just idle gaps.
      timer = timeoutMs > 0 ? setTimeout(() => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT_CLIENT' })), timeoutMs) : undefined;
      req.on('error', fail);
      req.end(payload);
    });
  }
}

/**
 * What a 404 without errors still says, as Vault's client reads it: a body
 * with data or warnings (KV v2's metadata of a deleted version) is returned,
 * anything else means nothing is there (null).
 */
function notFoundBody<T>(text: string): T | null {
  try {
    const parsed = JSON.parse(text) as { data?: unknown; warnings?: unknown[] | null };
    const hasData = parsed.data !== null && typeof parsed.data === 'object' && Object.keys(parsed.data).length > 0;
    return hasData || (parsed.warnings?.length ?? 0) > 0 ? (parsed as T) : null;
  } catch {
    return null;
  }
}

function toApiError(method: string, url: URL, res: RawResponse): ApiError {
  let errors: string[] = [];
  try {
    const parsed = JSON.parse(res.text) as { errors?: unknown };
    if (Array.isArray(parsed.errors)) errors = parsed.errors.map(String);
  } catch {
    // not JSON: keep the raw body for the message
  }
  return new ApiError(method, url.toString(), res.status, errors, errors.length > 0 ? '' : res.text);
}
