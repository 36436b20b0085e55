import { randomBytes } from 'node:crypto';
import type { TestServer } from '../../test/helpers/server.ts';
import { createSoftHsmToken, SOFTHSM_LIB } from '../../test/helpers/softhsm.ts';
import { startManagedKeyServer } from '../../test/helpers/managed-keys.ts';
import { runJsonChild } from '../children.ts';
import type { LoopOptions } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import type { RawHsmInput, RawThroughputResult } from '../hsm-raw.ts';
import { rateFigure, type Row } from '../report.ts';
import { discard, expectOk } from '../servers.ts';
import { loopNote } from './http-compare.ts';

/** Sessions the managed key's pool may use, and raw sessions beside it. */
export const MANAGED_KEY_MAX_PARALLEL = 4;
const KEY_LABEL = 'bench-managed-aes';

/**
 * Transit encrypt with a type=managed_key key (AES-GCM in a SoftHSM2
 * token, max_parallel 4), 32 keep-alive connections, beside raw pkcs11js
 * C_EncryptAsync on the same token key with 4 sessions in a child process
 * (the server sits idle meanwhile; SoftHSM2 lets two processes share a token).
 */
export async function benchManagedKeys(loop: LoopOptions): Promise<Row[]> {
  const id = 'transit.encrypt.managed-key';
  const label = `Transit encrypt, managed key (AES-GCM in the token, max_parallel ${MANAGED_KEY_MAX_PARALLEL})`;
  const token = createSoftHsmToken({ label: 'bench-managed' });
  let server: TestServer | undefined;
  try {
    server = await startManagedKeyServer(token);
    const api = server.api;
    expectOk(
      await api.post('sys/managed-keys/pkcs11/bench', {
        library: 'softhsm', token_label: token.label, pin: token.pin, key_label: KEY_LABEL, mechanism: '0x1087',
        key_bits: '256', allow_generate_key: true, any_mount: true, max_parallel: MANAGED_KEY_MAX_PARALLEL,
      }),
      'register managed key',
    );
    expectOk(await api.post('sys/mounts/transit', { type: 'transit' }), 'mount transit');
    expectOk(await api.post('transit/keys/managed', { type: 'managed_key', managed_key_name: 'bench' }), 'create managed transit key');
    const payload = Buffer.from(JSON.stringify({ plaintext: randomBytes(48).toString('base64') }));
    expectOk(await api.post('transit/encrypt/managed', JSON.parse(payload.toString())), 'managed encrypt');
    const request = (): BenchRequest => ({ method: 'POST', path: '/v1/transit/encrypt/managed', body: payload, headers: { 'x-vault-token': 'root' } });
    const tresor = await httpLoad({ ...loop, url: api.addr, request });

    const input: RawHsmInput = {
      lib: SOFTHSM_LIB,
      tokenLabel: token.label,
      pin: token.pin,
      keyLabel: KEY_LABEL,
      mode: 'throughput',
      jobs: [{ op: 'encrypt', concurrency: MANAGED_KEY_MAX_PARALLEL }],
      warmupMs: loop.warmupMs,
      durationMs: loop.durationMs,
      plaintextBytes: 48,
    };
    const raw = await runJsonChild<RawThroughputResult>('./hsm-raw.ts', input, token.env);
    const ceiling = { label: `raw pkcs11js C_EncryptAsync, ${MANAGED_KEY_MAX_PARALLEL} sessions`, value: raw.results[0].perSecond, unit: 'ops/s' as const };
    return [rateFigure(id, label, 'req/s', tresor.perSecond, ceiling, loopNote(tresor))];
  } catch (err) {
    return [{ id, label, skipped: `managed keys unavailable: ${(err as Error).message}` }];
  } finally {
    if (server) await discard(server);
    token.cleanup();
  }
}
