import { randomBytes } from 'node:crypto';
import type { TestServer } from '../../test/helpers/server.ts';
import type { LoopOptions } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import { rateFigure, type Figure } from '../report.ts';
import { expectOk } from '../servers.ts';
import { bareHttpRate, loopNote } from './http-compare.ts';

const MOUNTS = [
  { path: 'secret', sealWrap: false, label: 'KV v2' },
  { path: 'wrapped', sealWrap: true, label: 'KV v2 seal-wrapped' },
] as const;

/** Mounts kv-v2 at `secret/` and, seal-wrapped, at `wrapped/`. */
export async function mountKvEngines(server: TestServer): Promise<void> {
  for (const mount of MOUNTS) {
    const body = { type: 'kv', options: { version: '2' }, seal_wrap: mount.sealWrap };
    expectOk(await server.api.post(`sys/mounts/${mount.path}`, body), `mount ${mount.path}`);
  }
}

/**
 * KV v2 writes (`POST /v1/<mount>/data/k<seq>`, every write a new key) and
 * reads (`GET` of keys written before) on both mounts of an HSM-sealed
 * server with file storage, each beside bare node http doing the same
 * exchange; seal-wrapped writes also beside raw HSM encrypt ops/s.
 */
export async function benchKv(server: TestServer, rootToken: string, loop: LoopOptions, rawEncrypt: Figure['ceiling']): Promise<Figure[]> {
  const headers = { 'x-vault-token': rootToken };
  const body = Buffer.from(JSON.stringify({ data: { username: 'bench', password: randomBytes(18).toString('base64') } }));
  const write = (mount: string) => (seq: number): BenchRequest => ({ method: 'POST', path: `/v1/${mount}/data/k${seq}`, body, headers });
  const read = (mount: string, written: number) => (seq: number): BenchRequest => ({ method: 'GET', path: `/v1/${mount}/data/k${seq % written}`, headers });

  const figures: Figure[] = [];
  const rates = [];
  for (const mount of MOUNTS) {
    const writes = await httpLoad({ ...loop, url: server.api.addr, request: write(mount.path) });
    const reads = await httpLoad({ ...loop, url: server.api.addr, request: read(mount.path, writes.issued) });
    rates.push({ mount, writes, reads });
  }

  // The bare server answers with bodies as long as Tresor's own responses.
  const sampleWrite = expectOk(await server.api.post('secret/data/sample', JSON.parse(body.toString())), 'sample write');
  const sampleRead = expectOk(await server.api.get('secret/data/sample'), 'sample read');
  const bareWrite = await bareHttpRate(loop, JSON.stringify(sampleWrite.body), write('secret'));
  const bareRead = await bareHttpRate(loop, JSON.stringify(sampleRead.body), read('secret', 1));

  for (const { mount, writes, reads } of rates) {
    const id = mount.sealWrap ? 'kv.wrapped' : 'kv.plain';
    figures.push(rateFigure(`${id}.write`, `${mount.label} write`, 'req/s', writes.perSecond, { label: 'bare node http', value: bareWrite }, loopNote(writes)));
    if (mount.sealWrap) {
      figures.push(rateFigure(`${id}.write.hsm`, `${mount.label} write`, 'req/s', writes.perSecond, rawEncrypt, 'one write wraps more than one value'));
    }
    figures.push(rateFigure(`${id}.read`, `${mount.label} read`, 'req/s', reads.perSecond, { label: 'bare node http', value: bareRead }, loopNote(reads)));
  }
  return figures;
}
