import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiClient, TransportError } from './client.ts';

describe('ApiClient over TLS (self-signed certificate made with openssl)', () => {
  let dir: string;
  let caFile: string;
  let server: https.Server;
  let address: URL;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-tls-'));
    caFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    server = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(caFile) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"sealed":false}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    address = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a server whose certificate it cannot verify', async () => {
    const client = new ApiClient({ address, skipVerify: false });
    await assert.rejects(client.request('GET', 'sys/seal-status'), (e: unknown) => e instanceof TransportError && /self[- ]signed/i.test(e.message));
  });

  it('trusts the server when given its CA file', async () => {
    const client = new ApiClient({ address, caCert: caFile, skipVerify: false });
    assert.deepEqual(await client.request('GET', 'sys/seal-status'), { sealed: false });
  });

  it('connects without verification when told to skip it', async () => {
    const client = new ApiClient({ address, skipVerify: true });
    assert.deepEqual(await client.request('GET', 'sys/seal-status'), { sealed: false });
  });
});
