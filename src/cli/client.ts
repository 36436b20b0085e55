/**
 * HTTP client for Tresor's (Vault-compatible) API. Uses node:http(s) rather
 * than fetch so a custom CA file and skip-verify work without extra packages.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { UsageError } from './args.ts';
import { readStoredToken } from './token-helper.ts';

export const DEFAULT_ADDRESS = 'http://127.0.0.1:8200';

export interface ClientConfig {
  address: URL;
  token?: string;
  caCert?: string;
  skipVerify: boolean;
  /** Sent as X-Vault-Wrap-TTL on every request (`-wrap-ttl`, TRESOR_WRAP_TTL, VAULT_WRAP_TTL). */
  wrapTtl?: string;
}

/** Flag values that override the environment (undefined = not given). */
export interface ClientFlagOverrides {
  address?: string;
  caCert?: string;
  skipVerify?: boolean;
  wrapTtl?: string;
}

/** Vault's CLI wraps a write to sys/wrapping/wrap for 5 minutes when no wrap TTL is set (that endpoint needs one). */
const DEFAULT_WRAP_TTL = '5m';

const envFirst = (env: NodeJS.ProcessEnv, ...names: string[]) =>
  names.map((n) => env[n]).find((v) => v !== undefined && v !== '');

const isTruthy = (v: string | undefined) => v !== undefined && /^(1|t|true|yes)$/i.test(v);

/**
 * Resolves address, token and TLS settings: flag, else `TRESOR_*`, else
 * `VAULT_*`, else defaults (`http://127.0.0.1:8200`, token helper file).
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
  return {
    address,
    token: envFirst(env, 'TRESOR_TOKEN', 'VAULT_TOKEN') ?? readStoredToken(env),
    caCert: flags.caCert || envFirst(env, 'TRESOR_CACERT', 'VAULT_CACERT'),
    skipVerify: flags.skipVerify ?? isTruthy(envFirst(env, 'TRESOR_SKIP_VERIFY', 'VAULT_SKIP_VERIFY')),
    wrapTtl: flags.wrapTtl || envFirst(env, 'TRESOR_WRAP_TTL', 'VAULT_WRAP_TTL'),
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
  constructor(method: string, url: string, cause: Error) {
    super(`${method} ${url}: ${cause.message}`);
    this.name = 'TransportError';
  }
}

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
    const res = await this.send(method, url, opts);
    if (res.status >= 400) {
      const error = toApiError(method, url, res);
      if (opts.allowNotFound && res.status === 404 && error.errors.length === 0) return null;
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

  private send(method: string, url: URL, opts: RequestOptions): Promise<RawResponse> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    const token = opts.token ?? this.config.token;
    if (token) headers['X-Vault-Token'] = token;
    const wrapTtl = opts.noWrap ? undefined : this.wrapTtlFor(method, url);
    if (wrapTtl) headers['X-Vault-Wrap-TTL'] = wrapTtl;
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const isHttps = url.protocol === 'https:';
    const tls = isHttps
      ? {
          ca: this.config.caCert ? fs.readFileSync(this.config.caCert) : undefined,
          rejectUnauthorized: !this.config.skipVerify,
        }
      : {};
    return new Promise((resolve, reject) => {
      // No pooled connections: a server that rejects a verb (LIST) drops the socket, and a
      // reused one would fail the fallback request with "socket hang up".
      const req = (isHttps ? https : http).request(url, { method, headers, agent: false, ...tls }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(new TransportError(method, url.toString(), e)));
      });
      req.on('error', (e) => reject(new TransportError(method, url.toString(), e)));
      req.end(payload);
    });
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
