import { randomBytes } from 'node:crypto';
import { TestServer } from '../../test/helpers/server.ts';
import { createSoftHsmToken } from '../../test/helpers/softhsm.ts';
import type { LoopOptions } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import { rateFigure, type Figure } from '../report.ts';
import { discard, expectOk, hsmServerConfig, hsmServerEnv, initHsmServer } from '../servers.ts';
import { loopNote } from './http-compare.ts';

const KEY = 'bench-autounseal';

/**
 * Seal-wrapped KV v2 writes on a server whose seal is `seal "transit"` (the
 * peer a `tresor server -dev` on the same machine), beside the same writes on
 * a pkcs11-sealed server (SoftHSM2, max_parallel `maxParallel`) and beside
 * the peer's own transit encrypt rate, all in this run with the same load.
 */
export async function benchTransitSeal(loop: LoopOptions, maxParallel: number): Promise<Figure[]> {
  const body = Buffer.from(JSON.stringify({ data: { username: 'bench', password: randomBytes(18).toString('base64') } }));
  const writes = (token: string) => (seq: number): BenchRequest => ({ method: 'POST', path: `/v1/wrapped/data/k${seq}`, body, headers: { 'x-vault-token': token } });
  const mountWrapped = async (server: TestServer) =>
    expectOk(await server.api.post('sys/mounts/wrapped', { type: 'kv', options: { version: '2' }, seal_wrap: true }), 'mount wrapped');

  let peer: TestServer | undefined;
  let transitSealed: TestServer | undefined;
  let hsmSealed: TestServer | undefined;
  const token = createSoftHsmToken({ label: 'bench-transit-cmp' });
  try {
    peer = await TestServer.startDev();
    expectOk(await peer.api.post('sys/mounts/transit', { type: 'transit' }), 'mount transit');
    expectOk(await peer.api.post(`transit/keys/${KEY}`, {}), 'transit key');
    const peerToken = 'root';
    const encryptBody = Buffer.from(JSON.stringify({ plaintext: randomBytes(32).toString('base64') }));
    const peerEncrypt = await httpLoad({
      ...loop,
      url: peer.api.addr,
      request: () => ({ method: 'POST', path: `/v1/transit/encrypt/${KEY}`, body: encryptBody, headers: { 'x-vault-token': peerToken } }),
    });

    transitSealed = await TestServer.start({
      config: `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
}
seal "transit" {
  address  = "${peer.api.addr}"
  key_name = "${KEY}"
}
`,
      env: { VAULT_TOKEN: peerToken },
    });
    const transitRoot = await initHsmServer(transitSealed, 1, 1);
    await mountWrapped(transitSealed);
    const viaTransit = await httpLoad({ ...loop, url: transitSealed.api.addr, request: writes(transitRoot) });
    await discard(transitSealed);
    transitSealed = undefined;

    hsmSealed = await TestServer.start({ config: hsmServerConfig(token, maxParallel), env: hsmServerEnv(token) });
    const hsmRoot = await initHsmServer(hsmSealed, 1, 1);
    await mountWrapped(hsmSealed);
    const viaHsm = await httpLoad({ ...loop, url: hsmSealed.api.addr, request: writes(hsmRoot) });

    return [
      rateFigure('transitseal.wrapped.write', 'KV v2 seal-wrapped write, transit seal', 'req/s', viaTransit.perSecond,
        { label: `same, pkcs11 seal (max_parallel ${maxParallel})`, value: viaHsm.perSecond }, loopNote(viaTransit)),
      rateFigure('transitseal.wrapped.write.peer', 'KV v2 seal-wrapped write, transit seal', 'req/s', viaTransit.perSecond,
        { label: 'peer transit encrypt', value: peerEncrypt.perSecond }, 'one write wraps more than one value; peer on the same cores'),
    ];
  } finally {
    await discard(transitSealed);
    await discard(hsmSealed);
    await discard(peer);
    token.cleanup();
  }
}
