import { randomBytes } from 'node:crypto';
import { Pkcs11Seal } from '../../src/seal/pkcs11/pkcs11-seal.ts';
import { createSoftHsmToken, softHsmSealConfig, type SoftHsmToken } from '../../test/helpers/softhsm.ts';
import { runJsonChild } from '../children.ts';
import { closedLoop, type LoopOptions, type LoopResult } from '../closed-loop.ts';
import type { RawHsmInput, RawThroughputJob, RawThroughputResult } from '../hsm-raw.ts';
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

type SealRates = Map<string, LoopResult>;
const rateKey = (op: 'encrypt' | 'decrypt', concurrency: number) => `${op}/${concurrency}`;

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
    const seal = await measureSeal(token, window);
    const jobs: RawThroughputJob[] = SEAL_PARALLELISM.flatMap((concurrency) => [
      { op: 'encrypt' as const, concurrency },
      { op: 'decrypt' as const, concurrency },
    ]);
    const input: RawHsmInput = {
      lib: softHsmSealConfig(token).lib,
      tokenLabel: token.label,
      pin: token.pin,
      keyLabel: KEY_LABEL,
      mode: 'throughput',
      jobs,
      ...window,
      plaintextBytes: PLAINTEXT_BYTES,
    };
    const raw = await runJsonChild<RawThroughputResult>('./hsm-raw.ts', input, token.env);
    const rawRate = (op: 'encrypt' | 'decrypt', concurrency: number) =>
      raw.results.find((r) => r.op === op && r.concurrency === concurrency)!.perSecond;

    const figures = SEAL_PARALLELISM.flatMap((c) =>
      (['encrypt', 'decrypt'] as const).map((op) => {
        const result = seal.get(rateKey(op, c))!;
        const verb = op === 'encrypt' ? 'wrap' : 'unwrap';
        return rateFigure(`hsm.${verb}.p${c}`, `Pkcs11Seal ${verb}, max_parallel ${c}`, 'ops/s', result.perSecond, {
          label: `raw pkcs11js C_${op === 'encrypt' ? 'Encrypt' : 'Decrypt'}Async, ${c} session${c > 1 ? 's' : ''}`,
          value: rawRate(op, c),
        }, loopNote(result));
      }),
    );
    return { figures, rawEncryptPerSecond: new Map(SEAL_PARALLELISM.map((c) => [c, rawRate('encrypt', c)])) };
  } finally {
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previousConf;
    token.cleanup();
  }
}

async function measureSeal(token: SoftHsmToken, window: Omit<LoopOptions, 'concurrency'>): Promise<SealRates> {
  const plaintext = randomBytes(PLAINTEXT_BYTES);
  const rates: SealRates = new Map();
  for (const concurrency of SEAL_PARALLELISM) {
    const seal = await Pkcs11Seal.open(softHsmSealConfig(token, { keyLabel: KEY_LABEL, maxParallel: concurrency }), { logger: quietLogger });
    try {
      const loop = { ...window, concurrency };
      rates.set(rateKey('encrypt', concurrency), await closedLoop(loop, () => seal.wrap(plaintext)));
      const blob = await seal.wrap(plaintext);
      rates.set(rateKey('decrypt', concurrency), await closedLoop(loop, () => seal.unwrap(blob)));
    } finally {
      await seal.close();
    }
  }
  return rates;
}
