import { randomBytes } from 'node:crypto';
import type { TestServer } from '../../test/helpers/server.ts';
import type { LoopOptions } from '../closed-loop.ts';
import type { BenchRequest } from '../http-load.ts';
import type { Row } from '../report.ts';
import { expectOk } from '../servers.ts';
import { compareWithBareHttp } from './http-compare.ts';

export const BATCH_SIZE = 100;
const KEY = 'bench';

/**
 * Transit encrypt, single and with `batch_input` of 100, each beside bare
 * node http doing the same exchange. The transit engine is built in
 * parallel with this bench: when mounting it or making a key fails, both
 * rows come back as skipped with the server's reason.
 */
export async function benchTransit(server: TestServer, rootToken: string, loop: LoopOptions): Promise<Row[]> {
  const labels = { single: 'Transit encrypt, single', batch: `Transit encrypt, batch_input of ${BATCH_SIZE}` };
  try {
    expectOk(await server.api.post('sys/mounts/transit', { type: 'transit' }), 'mount transit');
    expectOk(await server.api.post(`transit/keys/${KEY}`, {}), 'create transit key');
  } catch (err) {
    const skipped = `transit engine unavailable: ${(err as Error).message}`;
    return [
      { id: 'transit.encrypt.single', label: labels.single, skipped },
      { id: 'transit.encrypt.batch', label: labels.batch, skipped },
    ];
  }

  const headers = { 'x-vault-token': rootToken };
  const plaintext = randomBytes(48).toString('base64');
  const single = { plaintext };
  const batch = { batch_input: Array.from({ length: BATCH_SIZE }, () => ({ plaintext })) };
  const rows: Row[] = [];
  for (const [kind, payload] of [['single', single], ['batch', batch]] as const) {
    const body = Buffer.from(JSON.stringify(payload));
    const request = (): BenchRequest => ({ method: 'POST', path: `/v1/transit/encrypt/${KEY}`, body, headers });
    const sample = expectOk(await server.api.post(`transit/encrypt/${KEY}`, payload), `transit ${kind} encrypt`);
    const figure = await compareWithBareHttp(`transit.encrypt.${kind}`, labels[kind], loop, server.api.addr, request, JSON.stringify(sample.body));
    if (kind === 'batch') figure.note = `${Math.round(figure.value * BATCH_SIZE).toLocaleString('en-US')} items/s; ${figure.note}`;
    rows.push(figure);
  }
  return rows;
}
