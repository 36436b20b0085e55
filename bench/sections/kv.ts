import { randomBytes } from 'node:crypto';
import type { TestServer } from '../../test/helpers/server.ts';
import type { LoopOptions } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import { IDLE_RSS_TARGET_MB, LOOP_STALL_TARGET_MS, megabytes, type ProcessProbe, type ProbeReading } from '../process-probe.ts';
import { latencyFigure, rateFigure, sizeFigure, type Figure } from '../report.ts';
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
export async function benchKv(server: TestServer, rootToken: string, loop: LoopOptions, rawEncrypt: Figure['ceiling'], probe: ProcessProbe): Promise<Figure[]> {
  const headers = { 'x-vault-token': rootToken };
  const body = Buffer.from(JSON.stringify({ data: { username: 'bench', password: randomBytes(18).toString('base64') } }));
  const write = (mount: string) => (seq: number): BenchRequest => ({ method: 'POST', path: `/v1/${mount}/data/k${seq}`, body, headers });
  const read = (mount: string, written: number) => (seq: number): BenchRequest => ({ method: 'GET', path: `/v1/${mount}/data/k${seq % written}`, headers });

  const figures: Figure[] = [];
  const rates = [];
  await new Promise((r) => setTimeout(r, 1000)); // settle after start-up and mounting
  const idle = await probe.read();
  const underWrites: ProbeReading[] = [];
  const underReads: ProbeReading[] = [];
  for (const mount of MOUNTS) {
    await probe.read(); // starts a fresh window
    const writes = await httpLoad({ ...loop, url: server.api.addr, request: write(mount.path) });
    underWrites.push(await probe.read());
    const reads = await httpLoad({ ...loop, url: server.api.addr, request: read(mount.path, writes.issued) });
    underReads.push(await probe.read());
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
  figures.push(...loopAndMemoryFigures(idle, underWrites, underReads));
  return figures;
}

/** The server's event-loop delay under the KV loads (worst window) and its resident memory idle and loaded. */
function loopAndMemoryFigures(idle: ProbeReading, underWrites: ProbeReading[], underReads: ProbeReading[]): Figure[] {
  const target = { label: `target: no stall over ${LOOP_STALL_TARGET_MS} ms`, value: LOOP_STALL_TARGET_MS };
  const worst = (readings: ProbeReading[], pick: (r: ProbeReading) => number) => Math.max(...readings.map(pick));
  const loaded = [...underWrites, ...underReads];
  return [
    latencyFigure('kv.loop.write.max', 'event-loop delay, max, under KV writes', worst(underWrites, (r) => r.maxMs), target,
      `p99 ${worst(underWrites, (r) => r.p99Ms).toFixed(1)} ms`),
    latencyFigure('kv.loop.read.max', 'event-loop delay, max, under KV reads', worst(underReads, (r) => r.maxMs), target,
      `p99 ${worst(underReads, (r) => r.p99Ms).toFixed(1)} ms`),
    sizeFigure('kv.rss.idle', 'server RSS, idle (unsealed, 2 mounts)', megabytes(idle.rssBytes), { label: 'target', value: IDLE_RSS_TARGET_MB }),
    sizeFigure('kv.rss.loaded', 'server RSS, after the KV loads', megabytes(worst(loaded, (r) => r.rssBytes)), { label: 'idle target', value: IDLE_RSS_TARGET_MB },
      'reported; no target under load'),
  ];
}
