// The UI's only way to the server: Vault's public HTTP API under /v1/, same origin. The token lives in
// sessionStorage (never localStorage, never a URL); nothing here logs anything.

const TOKEN_KEY = 'tresor.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    readonly method: string,
    readonly path: string,
    /** For a 403: what sys/capabilities-self says the token may do on the path. */
    public explanation?: string,
  ) {
    super(errors.join('; ') || `HTTP ${status}`);
  }
}

const CAPABILITY: Record<string, string> = { GET: 'read', LIST: 'list', POST: 'update', PUT: 'update', DELETE: 'delete', PATCH: 'patch' };

export interface CallOptions {
  /** Statuses that are answers, not errors (sys/health's 429/473/501/503). */
  accept?: number[];
  token?: string | null;
}

export async function call<T = any>(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
  const list = method === 'LIST';
  const url = `/v1/${path}${list ? (path.includes('?') ? '&' : '?') + 'list=true' : ''}`;
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? getToken() : opts.token;
  if (token) headers['X-Vault-Token'] = token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, { method: list ? 'GET' : method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, ['the server did not answer (network error)'], method, path);
  }
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (res.ok || opts.accept?.includes(res.status)) return parsed as T;
  const errors: string[] = Array.isArray(parsed?.errors) ? parsed.errors.map(String) : [typeof parsed === 'string' && parsed ? parsed : `HTTP ${res.status}`];
  const err = new ApiError(res.status, errors, method, path);
  if (res.status === 403 && token && opts.token === undefined && path !== 'sys/capabilities-self') err.explanation = await explain403(method, path);
  throw err;
}

/** Which capability the request needed on which path, and what the token has there. */
async function explain403(method: string, path: string): Promise<string> {
  const bare = path.split('?')[0];
  const need = CAPABILITY[method] ?? method.toLowerCase();
  try {
    const caps = await call<Record<string, unknown>>('POST', 'sys/capabilities-self', { paths: [bare] });
    const have = (caps[bare] ?? caps.capabilities) as string[] | undefined;
    return `This token lacks the "${need}" capability on "${bare}" (it has: ${have && have.length ? have.join(', ') : 'none'}).`;
  } catch {
    return `This token lacks the "${need}" capability on "${bare}".`;
  }
}

export const get = <T = any>(p: string, o?: CallOptions) => call<T>('GET', p, undefined, o);
export const list = <T = any>(p: string) => call<T>('LIST', p);
export const post = <T = any>(p: string, b: unknown = {}) => call<T>('POST', p, b);
export const put = <T = any>(p: string, b: unknown = {}) => call<T>('PUT', p, b);
export const del = <T = any>(p: string, b?: unknown) => call<T>('DELETE', p, b);

/** Lists keys, treating Vault's 404 for an empty list as no keys. */
export async function listKeys(p: string): Promise<string[]> {
  try {
    const r = await list(p);
    return r?.data?.keys ?? [];
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return [];
    throw e;
  }
}

/** Whether an endpoint exists on this server (404/405 = not there yet, e.g. before HA or metrics landed). */
export function missing(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501);
}

export function b64encode(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
export function b64decode(b64: string): string {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

/** Vault's generate-root: the encoded token XOR the OTP gives the new root token. */
export function decodeRootToken(encoded: string, otp: string): string {
  const bin = atob(encoded);
  const otpBytes = new TextEncoder().encode(otp);
  if (otpBytes.length !== bin.length) throw new Error('the one-time password does not match the encoded token length');
  let out = '';
  for (let i = 0; i < bin.length; i++) out += String.fromCharCode(bin.charCodeAt(i) ^ otpBytes[i]);
  return out;
}

export function encPath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}
