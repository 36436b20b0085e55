import { randomBytes } from 'node:crypto';
import { Pkcs11Seal } from '../../src/seal/pkcs11/pkcs11-seal.ts';
import { createSoftHsmToken, softHsmSealConfig, type SoftHsmToken } from '../../test/helpers/softhsm.ts';
import { runJsonChild } from '../children.ts';
import { closedLoop, type LoopOptions, type LoopResult } from '../closed-loop.ts';
import type { RawHsmInput, RawThroughputResult } from '../hsm-raw.ts';
import { rateFigure, type Figure } from '../report.ts';
import { loopNote } from './http-compare.ts';

export const SEAL_PARALLELISM = [1, 4] as const;
/** Plaintext size for wrap/unwrap: a small secret, as seal-wrapped KV values are. */
export const PLAINTEXT_BYTES = 64;
const KEY_LABEL = 'tresor-key';
const quietLogger = { info() {}, warn() {}, error() {} };

export interface HsmSealBench {
  figures: Figure[];
  /** Raw pkcs11js AES-GCM encrypt ops/s by concurrency: the HSM-side ceiling for seal-wrapped writes. */
  rawEncryptPerSecond: Map<number, number>;
}

/**
 * Pkcs11Seal wrap/unwrap in-process on a fresh SoftHSM2 token, with
 * max_parallel 1 and 4 and as many operations in flight, against raw
 * pkcs11js C_EncryptAsync/C_DecryptAsync on the same key with as many
 * sessions, in a child process (one C_Initialize per process at a time).
 */
export async function benchHsmSeal(window: Omit<LoopOptions, 'concurrency'>): Promise<HsmSealBench> {
  const token = createSoftHsmToken({ label: 'bench-seal' });
  const previousConf = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = token.conf;
  try {
    const figures: Figure[] = [];
    const rawEncryptPerSecond = new Map<number, number>();
    // Each seal measurement is followed at once by its raw twin, so load from elsewhere drifts less between them.
    for (const concurrency of SEAL_PARALLELISM) {
      const seal = await measureSeal(token, window, concurrency);
      const raw = await measureRaw(token, window, concurrency);
      rawEncryptPerSecond.set(concurrency, raw.get('encrypt')!.perSecond);
      for (const op of ['encrypt', 'decrypt'] as const) {
        const result = seal.get(op)!;
        const verb = op === 'encrypt' ? 'wrap' : 'unwrap';
        const rawLabel = `raw pkcs11js C_${op === 'encrypt' ? 'Encrypt' : 'Decrypt'}Async, ${concurrency} session${concurrency > 1 ? 's' : ''}`;
        const ceiling = { label: rawLabel, value: raw.get(op)!.perSecond };
        figures.push(rateFigure(`hsm.${verb}.p${concurrency}`, `Pkcs11Seal ${verb}, max_parallel ${concurrency}`, 'ops/s', result.perSecond, ceiling, loopNote(result)));
      }
    }
    return { figures, rawEncryptPerSecond };
  } finally {
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previousConf;
    token.cleanup();
  }
}

type Rates = Map<'encrypt' | 'decrypt', LoopResult>;

/** Opens the seal with max_parallel `concurrency`, runs wrap then unwrap loops with as many in flight, closes it. */
async function measureSeal(token: SoftHsmToken, window: Omit<LoopOptions, 'concurrency'>, concurrency: number): Promise<Rates> {
  const plaintext = randomBytes(PLAINTEXT_BYTES);
  const seal = await Pkcs11Seal.open(softHsmSealConfig(token, { keyLabel: KEY_LABEL, maxParallel: concurrency }), { logger: quietLogger });
  try {
    const loop = { ...window, concurrency };
    const rates: Rates = new Map([['encrypt', await closedLoop(loop, () => seal.wrap(plaintext))]]);
    const blob = await seal.wrap(plaintext);
    rates.set('decrypt', await closedLoop(loop, () => seal.unwrap(blob)));
    return rates;
  } finally {
    await seal.close();
  }
}

/** The same two loops on raw pkcs11js in a child process (the seal must be closed first). */
async function measureRaw(token: SoftHsmToken, window: Omit<LoopOptions, 'concurrency'>, concurrency: number): Promise<Rates> {
  const input: RawHsmInput = {
    lib: softHsmSealConfig(token).lib,
    tokenLabel: token.label,
    pin: token.pin,
    keyLabel: KEY_LABEL,
    mode: 'throughput',
    jobs: [
      { op: 'encrypt', concurrency },
      { op: 'decrypt', concurrency },
    ],
    ...window,
    plaintextBytes: PLAINTEXT_BYTES,
  };
  const raw = await runJsonChild<RawThroughputResult>('./hsm-raw.ts', input, token.env);
  return new Map(raw.results.map((r) => [r.op, r]));
}
