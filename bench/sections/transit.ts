import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { TestServer } from '../../test/helpers/server.ts';
import { closedLoop, type LoopOptions } from '../closed-loop.ts';
import type { BenchRequest } from '../http-load.ts';
import { rateFigure, type Figure, type Row } from '../report.ts';
import { expectOk } from '../servers.ts';
import { compareWithBareHttp } from './http-compare.ts';

export const BATCH_SIZE = 100;
const KEY = 'bench';
/** Signing figures: Tresor's sign endpoint per key type, beside Node's own crypto.sign on the same curve. */
const SIGNING_TYPES = [
  { type: 'ed25519', node: 'ed25519', hash: null },
  { type: 'ecdsa-p256', node: 'ec', hash: 'sha256' },
] as const;

/**
 * Transit encrypt, single and with `batch_input` of 100, each beside bare
 * node http doing the same exchange (the batch row's note compares its
 * items/s with the single row's), and sign with ed25519 and ecdsa-p256 keys
 * beside raw crypto.sign in this process. When mounting the engine or
 * making a key fails, the rows come back as skipped with the server's reason.
 */
export async function benchTransit(server: TestServer, rootToken: string, loop: LoopOptions): Promise<Row[]> {
  const labels = {
    single: 'Transit encrypt, single',
    batch: `Transit encrypt, batch_input of ${BATCH_SIZE}`,
    ...Object.fromEntries(SIGNING_TYPES.map(({ type }) => [type, `Transit sign, ${type}`])),
  } as Record<string, string>;
  const ids = { single: 'transit.encrypt.single', batch: 'transit.encrypt.batch', ed25519: 'transit.sign.ed25519', 'ecdsa-p256': 'transit.sign.ecdsa-p256' } as Record<string, string>;
  try {
    expectOk(await server.api.post('sys/mounts/transit', { type: 'transit' }), 'mount transit');
    expectOk(await server.api.post(`transit/keys/${KEY}`, {}), 'create transit key');
    for (const { type } of SIGNING_TYPES) expectOk(await server.api.post(`transit/keys/${KEY}-${type}`, { type }), `create ${type} key`);
  } catch (err) {
    const skipped = `transit engine unavailable: ${(err as Error).message}`;
    return Object.keys(labels).map((kind) => ({ id: ids[kind], label: labels[kind], skipped }));
  }

  const headers = { 'x-vault-token': rootToken };
  const plaintext = randomBytes(48).toString('base64');
  const single = { plaintext };
  const batch = { batch_input: Array.from({ length: BATCH_SIZE }, () => ({ plaintext })) };
  const rows: Row[] = [];
  const figures: Record<string, Figure> = {};
  for (const [kind, payload] of [['single', single], ['batch', batch]] as const) {
    const body = Buffer.from(JSON.stringify(payload));
    const request = (): BenchRequest => ({ method: 'POST', path: `/v1/transit/encrypt/${KEY}`, body, headers });
    const sample = expectOk(await server.api.post(`transit/encrypt/${KEY}`, payload), `transit ${kind} encrypt`);
    const figure = await compareWithBareHttp(ids[kind], labels[kind], loop, server.api.addr, request, JSON.stringify(sample.body));
    figures[kind] = figure;
    if (kind === 'batch') {
      const items = figure.value * BATCH_SIZE;
      const times = items / figures.single.value;
      figure.note = `${Math.round(items).toLocaleString('en-US')} items/s (${times.toFixed(1)}x the single row's); ${figure.note}`;
    }
    rows.push(figure);
  }

  const message = randomBytes(64);
  for (const { type, node, hash } of SIGNING_TYPES) {
    const payload = { input: message.toString('base64') };
    const body = Buffer.from(JSON.stringify(payload));
    const request = (): BenchRequest => ({ method: 'POST', path: `/v1/transit/sign/${KEY}-${type}`, body, headers });
    const sample = expectOk(await server.api.post(`transit/sign/${KEY}-${type}`, payload), `transit ${type} sign`);
    const figure = await compareWithBareHttp(ids[type], labels[type], loop, server.api.addr, request, JSON.stringify(sample.body));
    const { privateKey } = node === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519');
    const raw = await closedLoop({ ...loop, concurrency: 1 }, async () => sign(hash, message, privateKey));
    rows.push(rateFigure(figure.id, figure.label, 'req/s', figure.value, { label: `raw node crypto.sign (${type}), one thread`, value: raw.perSecond, unit: 'ops/s' },
      `${figure.note}; bare node http ${Math.round(figure.ceiling.value).toLocaleString('en-US')} req/s`));
  }
  return rows;
}
