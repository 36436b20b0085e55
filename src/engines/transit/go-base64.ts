/**
 * Base64 as Vault decodes it: Go's `base64.StdEncoding` (standard alphabet,
 * padding required, CR and LF skipped anywhere, non-strict about the unused
 * bits of the last quantum), with Go's error text, which names only the
 * offset of the first bad byte ("illegal base64 data at input byte 4"), so
 * it can be shown to a client without echoing any of the value.
 */
import { badRequest } from '../../core/errors.ts';

// The common case: padded standard base64 without line breaks. Anything else takes the slow path.
const CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

const CR = 0x0d;
const LF = 0x0a;
const PAD = 0x3d;

/** Go's CorruptInputError text. */
export const illegalBase64 = (offset: number) => `illegal base64 data at input byte ${offset}`;

/**
 * The bytes of `text`, or the offset Go reports for the first error. Follows
 * Go's decodeQuantum step by step so the offsets agree with Vault's.
 */
export function goBase64Decode(text: string): { bytes: Buffer } | { errorAt: number } {
  if (CANONICAL.test(text)) return { bytes: Buffer.from(text, 'base64') };
  // Go decodes the string's UTF-8 bytes, so offsets count bytes, not characters.
  const bytes = Buffer.from(text, 'utf8');
  const out: number[] = [];
  let si = 0;
  while (si < bytes.length) {
    const quantum = [0, 0, 0, 0];
    let dlen = 4;
    let j = 0;
    let end = false;
    for (; j < 4; j++) {
      if (si === bytes.length) {
        if (j === 0) return { bytes: Buffer.from(out) };
        return { errorAt: si - j };
      }
      const c = bytes[si++];
      const v = DECODE[c];
      if (v >= 0) {
        quantum[j] = v;
        continue;
      }
      if (c === LF || c === CR) {
        j--;
        continue;
      }
      if (c !== PAD) return { errorAt: si - 1 };
      // Padding: only after two or three data characters.
      if (j < 2) return { errorAt: si - 1 };
      if (j === 2) {
        while (si < bytes.length && (bytes[si] === LF || bytes[si] === CR)) si++;
        if (si === bytes.length) return { errorAt: bytes.length };
        if (bytes[si] !== PAD) return { errorAt: si - 1 };
        si++;
      }
      while (si < bytes.length && (bytes[si] === LF || bytes[si] === CR)) si++;
      if (si < bytes.length) return { errorAt: si };
      dlen = j;
      end = true;
      break;
    }
    const value = (quantum[0] << 18) | (quantum[1] << 12) | (quantum[2] << 6) | quantum[3];
    const decoded = [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
    for (let k = 0; k < dlen - 1; k++) out.push(decoded[k]);
    if (end) break;
    // Trailing line breaks after the last full quantum end the input cleanly.
    while (si < bytes.length && (bytes[si] === LF || bytes[si] === CR)) si++;
  }
  return { bytes: Buffer.from(out) };
}

/** Decodes or throws a 400 with `describe(goError)` (default: Go's text alone). */
export function decodeBase64OrThrow(text: string, describe: (goError: string) => string = (e) => e): Buffer {
  const result = goBase64Decode(text);
  if ('bytes' in result) return result.bytes;
  throw badRequest(describe(illegalBase64(result.errorAt)));
}

/** True when `text` decodes as Go's StdEncoding would accept it. */
export function isGoBase64(text: string): boolean {
  return 'bytes' in goBase64Decode(text);
}
