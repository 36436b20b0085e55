import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError } from './args.ts';
import { ApiClient, ApiError, resolveClientConfig } from './client.ts';
import { callApi, CliError } from './command.ts';

describe('ApiError.describe', () => {
  it('words a failed request like Vault, listing each error', () => {
    const e = new ApiError('PUT', 'http://127.0.0.1:8200/v1/sys/init', 400, ['secret shares must be at least 1', 'second'], '');
    assert.equal(
      e.describe(),
      'Error making API request.\n\nURL: PUT http://127.0.0.1:8200/v1/sys/init\nCode: 400. Errors:\n\n* secret shares must be at least 1\n* second',
    );
  });

  it('falls back to the raw body when the server sent no error list', () => {
    const e = new ApiError('GET', 'http://h/v1/x', 502, [], 'bad gateway\n');
    assert.equal(e.describe(), 'Error making API request.\n\nURL: GET http://h/v1/x\nCode: 502. Raw Message:\n\nbad gateway');
  });
});

describe('resolveClientConfig', () => {
  it('prefers the flag, then TRESOR_ADDR, then VAULT_ADDR, then http://127.0.0.1:8200', () => {
    const env = { TRESOR_ADDR: 'http://t:1', VAULT_ADDR: 'http://v:2', TRESOR_TOKEN_FILE: '/nonexistent/x' };
    assert.equal(resolveClientConfig(env, { address: 'http://f:3' }).address.host, 'f:3');
    assert.equal(resolveClientConfig(env).address.host, 't:1');
    assert.equal(resolveClientConfig({ ...env, TRESOR_ADDR: '' }).address.host, 'v:2');
    assert.equal(resolveClientConfig({ TRESOR_TOKEN_FILE: '/nonexistent/x' }).address.toString(), 'http://127.0.0.1:8200/');
  });

  it('takes the token from TRESOR_TOKEN, then VAULT_TOKEN, then the token file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-client-'));
    try {
      const file = path.join(dir, 'tok');
      fs.writeFileSync(file, 'from-file\n');
      assert.equal(resolveClientConfig({ TRESOR_TOKEN: 'a', VAULT_TOKEN: 'b', TRESOR_TOKEN_FILE: file }).token, 'a');
      assert.equal(resolveClientConfig({ VAULT_TOKEN: 'b', TRESOR_TOKEN_FILE: file }).token, 'b');
      assert.equal(resolveClientConfig({ TRESOR_TOKEN_FILE: file }).token, 'from-file');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads skip-verify from the environment and rejects a malformed address', () => {
    assert.equal(resolveClientConfig({ VAULT_SKIP_VERIFY: 'true', TRESOR_TOKEN_FILE: '/nonexistent/x' }).skipVerify, true);
    assert.throws(() => resolveClientConfig({ TRESOR_ADDR: 'not a url' }), UsageError);
    assert.throws(() => resolveClientConfig({ TRESOR_ADDR: 'ftp://x' }), UsageError);
  });
});

describe('ApiClient against a real HTTP listener', () => {
  interface Seen {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
  }
  const seen: Seen[] = [];
  let server: http.Server;
  let client: ApiClient;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const reply = (status: number, value?: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(value === undefined ? '' : JSON.stringify(value));
        };
        if (req.url === '/v1/secret/list?list=true') return reply(200, { data: { keys: ['a', 'b/'] } });
        if (req.url === '/v1/missing') return reply(404, { errors: [] });
        if (req.url === '/v1/no-route') return reply(404, { errors: ['no handler for route'] });
        if (req.url === '/v1/bad') return reply(400, { errors: ['missing key'] });
        if (req.url === '/v1/empty') return reply(204);
        reply(200, { data: { echoed: body } });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    client = new ApiClient({ address: new URL(`http://127.0.0.1:${port}`), token: 'hvs.test-token', skipVerify: false });
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the token, X-Vault-Request and a JSON body', async () => {
    const res = await client.request<{ data: { echoed: string } }>('PUT', 'sys/thing', { body: { a: 1 } });
    assert.equal(res?.data.echoed, '{"a":1}');
    const last = seen.at(-1)!;
    assert.equal(last.headers['x-vault-token'], 'hvs.test-token');
    assert.equal(last.headers['x-vault-request'], 'true');
    assert.equal(last.headers['content-type'], 'application/json');
  });

  it('throws an ApiError carrying status and messages for a 400', async () => {
    await assert.rejects(client.request('GET', 'bad'), (e: unknown) => e instanceof ApiError && e.status === 400 && e.errors[0] === 'missing key');
  });

  it('returns null for an empty 404 only when asked, but throws for a 404 with errors', async () => {
    assert.equal(await client.request('GET', 'missing', { allowNotFound: true }), null);
    await assert.rejects(client.request('GET', 'missing'), ApiError);
    await assert.rejects(client.request('GET', 'no-route', { allowNotFound: true }), ApiError);
  });

  it('returns null for a 204', async () => {
    assert.equal(await client.request('DELETE', 'empty'), null);
  });

  it('lists with a single GET ?list=true, as Vault clients do', async () => {
    const before = seen.length;
    const res = await client.list('secret/list');
    assert.deepEqual(res?.data, { keys: ['a', 'b/'] });
    assert.equal(seen.length, before + 1);
    assert.equal(seen.at(-1)!.method, 'GET');
  });

  it('callApi rewords failures as "Error <doing>: ..." with exit code 2', async () => {
    await assert.rejects(callApi('reading bad', client.request('GET', 'bad')), (e: unknown) => {
      assert.ok(e instanceof CliError);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /^Error reading bad: Error making API request\.\n\nURL: GET http:\/\/127\.0\.0\.1:\d+\/v1\/bad\nCode: 400\. Errors:\n\n\* missing key$/);
      return true;
    });
  });
});
