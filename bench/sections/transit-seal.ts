import { randomBytes } from 'node:crypto';
import { TestServer } from '../../test/helpers/server.ts';
import type { LoopOptions } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import { rateFigure, type Figure } from '../report.ts';
import { discard, expectOk } from '../servers.ts';
import { loopNote } from './http-compare.ts';

const CONFIG = (peerPort: number) => `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
}
seal "transit" {
  address    = "http://127.0.0.1:${peerPort}"
  key_name   = "autounseal"
  mount_path = "transit/"
}
`;

/**
 * `seal "transit"`: seal-wrapped KV v2 writes on a server auto-unsealed
 * through a second Tresor (-dev, in-memory), beside the peer's own
 * `transit/encrypt` of a 32-byte data key (what each wrap asks of it) at the
 * same concurrency in the same run: the ceiling the seal cannot pass.
 */
export async function benchTransitSeal(loop: LoopOptions): Promise<Figure[]> {
  let peer: TestServer | undefined;
  let server: TestServer | undefined;
  try {
    peer = await TestServer.startDev();
    expectOk(await peer.api.post('sys/mounts/transit', { type: 'transit' }), 'mount transit on the peer');
    expectOk(await peer.api.post('transit/keys/autounseal', {}), 'create the seal key');
    server = await TestServer.start({ config: CONFIG(peer.port), env: { VAULT_ADDR: '', VAULT_TOKEN: 'root' } });
    await server.waitFor('transit seal opened', 20_000);
    const init = expectOk(await server.api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 }), 'init');
    const rootToken: string = init.body.root_token;
    server.api.token = rootToken;
    await server.until(async () => (await server!.api.get('sys/seal-status')).body.sealed === false, 20_000, 'unsealed');
    expectOk(await server.api.post('sys/mounts/wrapped', { type: 'kv', options: { version: '2' }, seal_wrap: true }), 'mount wrapped');

    const body = Buffer.from(JSON.stringify({ data: { username: 'bench', password: randomBytes(18).toString('base64') } }));
    const headers = { 'x-vault-token': rootToken };
    const write = (seq: number): BenchRequest => ({ method: 'POST', path: `/v1/wrapped/data/k${seq}`, body, headers });
    const writes = await httpLoad({ ...loop, url: server.api.addr, request: write });

    const encryptBody = Buffer.from(JSON.stringify({ plaintext: randomBytes(32).toString('base64') }));
    const encrypt = (): BenchRequest => ({ method: 'POST', path: '/v1/transit/encrypt/autounseal', body: encryptBody, headers: { 'x-vault-token': 'root' } });
    const peerEncrypts = await httpLoad({ ...loop, url: peer.api.addr, request: encrypt });
    return [
      rateFigure(
        'sealha.transit.kv-wrapped.write',
        'KV v2 seal-wrapped write, transit seal',
        'req/s',
        writes.perSecond,
        { label: "peer's transit encrypt of a data key", value: peerEncrypts.perSecond },
        `one write wraps more than one value; ${loopNote(writes)}`,
      ),
    ];
  } finally {
    await discard(server);
    await discard(peer);
  }
}
