import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { TestServer } from '../../test/helpers/server.ts';
import { TestEtcd } from '../../test/helpers/etcd.ts';
import { createSoftHsmToken } from '../../test/helpers/softhsm.ts';
import { startHaNode, waitForActive } from '../../test/helpers/ha.ts';
import { closedLoop, type LoopOptions } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import { latencyFigure, rateFigure, type Figure } from '../report.ts';
import { median } from '../stats.ts';
import { discard, expectOk } from '../servers.ts';
import { loopNote } from './http-compare.ts';

/** The lease TTL the HA nodes run with (lock_timeout = "2s"): the floor of a takeover after kill -9. */
const LEASE_TTL_MS = 2000;

/**
 * HA on etcd: KV v2 writes and reads on an etcd-backed active node beside
 * the same on file storage (SQLite) and beside raw etcd3 puts/gets of the
 * same size from this process, all in this run; then the takeover time
 * after kill -9 of the active node of three, beside the lease TTL.
 */
export async function benchHa(loop: LoopOptions, takeoverRounds: number): Promise<Figure[]> {
  const etcd = await TestEtcd.start();
  const token = createSoftHsmToken({ label: 'bench-ha' });
  const nodes: TestServer[] = [];
  let fileServer: TestServer | undefined;
  const client = new Etcd3({ hosts: etcd.address });
  try {
    const first = await startHaNode(etcd, token);
    nodes.push(first);
    const init = expectOk(await first.api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 }), 'init');
    const rootToken = init.body.root_token as string;
    await waitForActive([first], 20_000);
    first.api.token = rootToken;
    expectOk(await first.api.post('sys/mounts/secret', { type: 'kv', options: { version: '2' } }), 'mount');

    const headers = { 'x-vault-token': rootToken };
    const body = Buffer.from(JSON.stringify({ data: { username: 'bench', password: randomBytes(18).toString('base64') } }));
    const write = (seq: number): BenchRequest => ({ method: 'POST', path: `/v1/secret/data/k${seq}`, body, headers });
    const readOf = (written: number) => (seq: number): BenchRequest => ({ method: 'GET', path: `/v1/secret/data/k${seq % written}`, headers });
    const etcdWrites = await httpLoad({ ...loop, url: first.api.addr, request: write });
    const etcdReads = await httpLoad({ ...loop, url: first.api.addr, request: readOf(etcdWrites.issued) });

    // The embedded store: the same on file storage (Shamir, so no HSM in the path either way but the seal's own).
    fileServer = await TestServer.start();
    const fInit = expectOk(await fileServer.api.put('sys/init', { secret_shares: 1, secret_threshold: 1 }), 'file init');
    expectOk(await fileServer.api.put('sys/unseal', { key: fInit.body.keys_base64[0] }), 'file unseal');
    fileServer.api.token = fInit.body.root_token;
    expectOk(await fileServer.api.post('sys/mounts/secret', { type: 'kv', options: { version: '2' } }), 'file mount');
    const fHeaders = { 'x-vault-token': fInit.body.root_token as string };
    const fileWrites = await httpLoad({ ...loop, url: fileServer.api.addr, request: (s) => ({ ...write(s), headers: fHeaders }) });
    const fileReads = await httpLoad({ ...loop, url: fileServer.api.addr, request: (s) => ({ ...readOf(fileWrites.issued)(s), headers: fHeaders }) });
    await discard(fileServer);
    fileServer = undefined;

    // Raw etcd3: one put (a stored KV version is about this size plus metadata) and one get per op.
    const value = randomBytes(600);
    const rawPuts = await closedLoop(loop, (_w, seq) => client.put(`/bench-raw/k${seq}`).value(value).exec());
    const rawGets = await closedLoop(loop, (_w, seq) => client.get(`/bench-raw/k${seq % Math.max(1, rawPuts.issued)}`).buffer());

    // Takeover: three nodes; kill -9 the active one, time until another answers as active; restart it.
    nodes.push(await startHaNode(etcd, token), await startHaNode(etcd, token));
    for (const n of nodes) await n.until(async () => (await n.api.get('sys/seal-status')).body?.sealed === false, 20_000, 'unsealed');
    const takeovers: number[] = [];
    for (let round = 0; round < takeoverRounds; round++) {
      const active = await waitForActive(nodes, 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      const killedAt = performance.now();
      await active.kill();
      const live = nodes.filter((n) => n !== active);
      await waitForActive(live, 20_000);
      takeovers.push(performance.now() - killedAt);
      const replacement = await startHaNode(etcd, token);
      await replacement.until(async () => (await replacement.api.get('sys/seal-status')).body?.sealed === false, 20_000, 'unsealed');
      nodes.splice(nodes.indexOf(active), 1, replacement);
      active.cleanup();
    }

    const rawPut = { label: 'raw etcd3 put, same run', value: rawPuts.perSecond };
    const rawGet = { label: 'raw etcd3 get, same run', value: rawGets.perSecond };
    return [
      rateFigure('ha.kv.etcd.write', 'KV v2 write, etcd storage (active node)', 'req/s', etcdWrites.perSecond, rawPut, loopNote(etcdWrites)),
      rateFigure('ha.kv.etcd.write.file', 'KV v2 write, etcd storage', 'req/s', etcdWrites.perSecond, { label: 'same on file storage', value: fileWrites.perSecond }),
      rateFigure('ha.kv.etcd.read', 'KV v2 read, etcd storage (active node)', 'req/s', etcdReads.perSecond, rawGet, loopNote(etcdReads)),
      rateFigure('ha.kv.etcd.read.file', 'KV v2 read, etcd storage', 'req/s', etcdReads.perSecond, { label: 'same on file storage', value: fileReads.perSecond }),
      latencyFigure('ha.takeover', `takeover after kill -9, median of ${takeovers.length}`, median(takeovers), { label: 'lease TTL (lock_timeout)', value: LEASE_TTL_MS },
        `runs: ${takeovers.map((t) => Math.round(t)).join(', ')} ms`),
    ];
  } finally {
    client.close();
    for (const n of nodes) await discard(n);
    await discard(fileServer);
    await etcd.destroy();
    token.cleanup();
  }
}
