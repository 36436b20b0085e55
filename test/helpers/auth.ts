/**
 * Helpers for the auth method tests: requests sent from a chosen loopback
 * source address (Linux routes all of 127.0.0.0/8 to lo, so a client can
 * bind 127.0.0.2 while the server listens on 127.0.0.1), and set-up
 * shortcuts that assert Vault's answers.
 */
import http from 'node:http';
import assert from 'node:assert/strict';
import type { Api, ApiResponse } from './server.ts';

/** One request to `api`'s server from `localAddress`. */
export function callFrom(api: Api, localAddress: string, method: string, path: string, body?: unknown, token?: string): Promise<ApiResponse> {
  const url = new URL(`${api.addr}/v1/${path}`);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = {};
  if (token) headers['X-Vault-Token'] = token;
  if (payload) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Asserts Vault's error shape: `status` and exactly `{"errors": [message]}`. */
export function assertError(res: ApiResponse, status: number, message: string | RegExp, what = 'the request'): void {
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
  assert.ok(Array.isArray(res.body?.errors) && res.body.errors.length === 1, `${what}: ${JSON.stringify(res.body)}`);
  if (message instanceof RegExp) assert.match(res.body.errors[0], message, what);
  else assert.deepEqual(res.body, { errors: [message] }, what);
}

/** Asserts `status` (default 204) and returns the body. */
export async function must(p: Promise<ApiResponse>, status = 204, what = 'the request'): Promise<any> {
  const res = await p;
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Enables an auth method of `type` at `path` (root token) with the login rate limit off unless `options` say otherwise. */
export async function enableAuth(api: Api, path: string, type: string, options: Record<string, string> = { login_rate_limit: '0' }): Promise<void> {
  await must(api.post(`sys/auth/${path}`, { type, options }), 204, `enable ${type} at ${path}`);
}
