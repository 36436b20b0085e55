import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestServer } from '../../test/helpers/server.ts';
import type { LoopOptions } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import { rateFigure, type Row } from '../report.ts';
import { expectOk } from '../servers.ts';
import { loopNote } from './http-compare.ts';

/**
 * The cost of auditing: KV v2 writes and transit encrypts with one file
 * audit device enabled (entries HMAC'd, one write(2) per line), beside the
 * same requests on the same server with no device, measured just before.
 */
export async function benchAudit(server: TestServer, rootToken: string, loop: LoopOptions): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-bench-audit-'));
  const headers = { 'x-vault-token': rootToken };
  try {
    expectOk(await server.api.post('sys/mounts/audit-kv', { type: 'kv', options: { version: '2' } }), 'mount kv');
    expectOk(await server.api.post('sys/mounts/audit-transit', { type: 'transit' }), 'mount transit');
    expectOk(await server.api.post('audit-transit/keys/bench', {}), 'create transit key');
    const kvBody = Buffer.from(JSON.stringify({ data: { password: randomBytes(16).toString('hex'), user: 'bench' } }));
    const encBody = Buffer.from(JSON.stringify({ plaintext: randomBytes(48).toString('base64') }));
    const cases = [
      { id: 'audit.kv.write', label: 'KV v2 write, one file audit device', request: (seq: number): BenchRequest => ({ method: 'POST', path: `/v1/audit-kv/data/k${seq % 1000}`, body: kvBody, headers }) },
      { id: 'audit.transit.encrypt', label: 'Transit encrypt, one file audit device', request: (): BenchRequest => ({ method: 'POST', path: '/v1/audit-transit/encrypt/bench', body: encBody, headers }) },
    ];
    const without: number[] = [];
    // A first pass creates the KV keys, so both measured passes update existing ones.
    for (const c of cases) await httpLoad({ ...loop, durationMs: Math.min(loop.durationMs, 1000), url: server.api.addr, request: c.request });
    for (const c of cases) without.push((await httpLoad({ ...loop, url: server.api.addr, request: c.request })).perSecond);
    const file = path.join(dir, 'audit.log');
    expectOk(await server.api.put('sys/audit/bench', { type: 'file', options: { file_path: file } }), 'enable the file audit device');
    const rows: Row[] = [];
    for (const [i, c] of cases.entries()) {
      const result = await httpLoad({ ...loop, url: server.api.addr, request: c.request });
      rows.push(rateFigure(c.id, c.label, 'req/s', result.perSecond, { label: 'same requests, no audit device', value: without[i]! }, `${loopNote(result)}; goal ratio 0.70`));
    }
    const lines = fs.readFileSync(file, 'utf8').split('\n').length - 1;
    (rows[0] as { note?: string }).note += `; ${lines.toLocaleString('en-US')} audit lines written`;
    expectOk(await server.api.delete('sys/audit/bench'), 'disable the audit device');
    return rows;
  } catch (err) {
    return [
      { id: 'audit.kv.write', label: 'KV v2 write, one file audit device', skipped: `audit bench failed: ${(err as Error).message}` },
      { id: 'audit.transit.encrypt', label: 'Transit encrypt, one file audit device', skipped: `audit bench failed: ${(err as Error).message}` },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
