import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Keyring } from '../../src/barrier/keyring.ts';
import { combineShares, splitKey } from '../../src/seal/shamir.ts';
import type { TestServer } from '../../test/helpers/server.ts';
import { latencyFigure, type Figure } from '../report.ts';
import { expectOk } from '../servers.ts';
import { median, quantile, timeRuns } from '../stats.ts';

export const SHARES = 5;
export const THRESHOLD = 3;
const WARMUP_ROUNDS = 3;
const CEILING_RUNS = 500;

export interface ShamirInit {
  keys: string[];
  rootToken: string;
}

/** `PUT sys/init` with 5 shares / threshold 3, then unseals; sets the API's token to the root token. */
export async function initShamir(server: TestServer): Promise<ShamirInit> {
  const res = expectOk(await server.api.put('sys/init', { secret_shares: SHARES, secret_threshold: THRESHOLD }), 'sys/init');
  const init = { keys: res.body.keys as string[], rootToken: res.body.root_token as string };
  server.api.token = init.rootToken;
  for (const key of init.keys.slice(0, THRESHOLD)) expectOk(await server.api.put('sys/unseal', { key }), 'sys/unseal');
  return init;
}

/**
 * Seals, submits threshold-1 shares, and times only the PUT of the last
 * share (HTTP round trip, combine, keyring decrypt, mount table load) until
 * its response. Ceiling: the same combine plus one AES-256-GCM decrypt of a
 * keyring-sized blob, in-process, with nothing else.
 */
export async function benchShamirUnseal(server: TestServer, init: ShamirInit, rounds: number): Promise<Figure> {
  const api = server.api;
  const unsealOnce = async () => {
    expectOk(await api.put('sys/seal'), 'sys/seal');
    for (const key of init.keys.slice(0, THRESHOLD - 1)) expectOk(await api.put('sys/unseal', { key }), 'sys/unseal');
    const start = performance.now();
    const res = expectOk(await api.put('sys/unseal', { key: init.keys[THRESHOLD - 1] }), 'last sys/unseal');
    const elapsed = performance.now() - start;
    if (res.body.sealed !== false) throw new Error('the last share did not unseal the server');
    return elapsed;
  };
  for (let i = 0; i < WARMUP_ROUNDS; i++) await unsealOnce();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) samples.push(await unsealOnce());

  const ceiling = median(await shamirCeiling());
  const note = `median of ${rounds}, p95 ${quantile(samples, 0.95).toFixed(2)} ms`;
  return latencyFigure('unseal.shamir', `Shamir unseal ${THRESHOLD}-of-${SHARES}, last share PUT`, median(samples), { label: 'combine + AES-GCM decrypt, in-process', value: ceiling }, note);
}

/** Durations of combineShares over 3 shares plus decrypting a one-term serialised keyring with the result. */
async function shamirCeiling(): Promise<number[]> {
  const rootKey = randomBytes(32);
  const shares = (await splitKey(rootKey, SHARES, THRESHOLD)).slice(0, THRESHOLD);
  const ring = new Keyring(Buffer.from(rootKey));
  ring.addTerm(randomBytes(32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', rootKey, iv);
  const sealed = Buffer.concat([cipher.update(ring.serialize()), cipher.final()]);
  const tag = cipher.getAuthTag();
  ring.wipe();
  return timeRuns(CEILING_RUNS, async () => {
    const key = await combineShares(shares);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    Buffer.concat([decipher.update(sealed), decipher.final()]);
  });
}
