import { hkdfSync, randomBytes } from 'node:crypto';
import type { SealWrapper } from '../seal/seal.ts';

export type RandomSource = (length: number) => Promise<Buffer>;

export const osRandom: RandomSource = async (n) => randomBytes(n);

/**
 * Entropy augmentation: bytes from the HSM's generator and from the OS are
 * both fed to HKDF-SHA256, so the output is unpredictable as long as either
 * source is. If the HSM cannot answer, the call fails with its PKCS#11 error
 * rather than silently falling back to the OS alone.
 */
export function augmentedRandom(seal: SealWrapper): RandomSource {
  return async (n) => {
    if (n === 0) return Buffer.alloc(0);
    const fromHsm = await seal.generateRandom(n);
    const fromOs = randomBytes(n);
    const out = Buffer.from(hkdfSync('sha256', Buffer.concat([fromHsm, fromOs]), Buffer.alloc(0), 'tresor entropy augmentation', n));
    fromHsm.fill(0);
    fromOs.fill(0);
    return out;
  };
}
