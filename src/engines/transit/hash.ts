/**
 * Vault's hash algorithm names, and `hash` / `hash/<algorithm>`
 * `{input: base64, algorithm?, format?}` → `{sum}` (hex by default, or
 * base64). The path's algorithm wins over the body's.
 */
import { createHash } from 'node:crypto';
import { badRequest, quoted } from '../../core/errors.ts';
import { optionalSegment, type FieldData, type FieldSchema, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { base64Bytes, formatField, outputFormat, urlAlgorithmField } from './fields.ts';

/** Vault's HashTypeMap, by Node's names ("none" has no hash). */
export const HASHES: ReadonlyMap<string, string> = new Map(Object.entries({
  sha1: 'sha1',
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
  'sha3-224': 'sha3-224',
  'sha3-256': 'sha3-256',
  'sha3-384': 'sha3-384',
  'sha3-512': 'sha3-512',
}));

/** Digest sizes in bytes. */
export const HASH_BYTES: Readonly<Record<string, number>> = {
  sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64, 'sha3-224': 28, 'sha3-256': 32, 'sha3-384': 48, 'sha3-512': 64,
};

/** The hash endpoint takes the SHA-2 and SHA-3 families only (no sha1), as Vault's. */
const SUM_ALGORITHMS = [...HASHES.keys()].filter((name) => name !== 'sha1');

/** A body field naming a hash algorithm (default sha2-256). */
export const hashAlgorithmField = (what: string, names: readonly string[], extra = ''): FieldSchema => ({
  type: 'string',
  default: 'sha2-256',
  description: `The hash algorithm for the ${what}: one of ${names.join(', ')} (default sha2-256).${extra}`,
});

/** The `hash[/<algorithm>]` path. */
export function hashPaths(): PathDeclaration<LogicalRequest>[] {
  return [
    {
      pattern: `hash${optionalSegment('urlalgorithm')}`,
      fields: {
        input: { type: 'string', description: 'Base64 input to hash.' },
        algorithm: hashAlgorithmField('sum', SUM_ALGORITHMS),
        urlalgorithm: urlAlgorithmField('sum'),
        format: formatField('hex'),
      },
      synopsis: 'Hash data (SHA-2 or SHA-3).',
      operations: { update: { summary: 'Hash the input.', handler: async (_req, f) => hash(f) } },
    },
  ];
}

function hash(fields: FieldData): LogicalResponse {
  const raw = fields.getOk<string>('input');
  if (raw === undefined) throw badRequest('input missing');
  const format = fields.get<string>('format');
  const algorithm = fields.getOk<string>('urlalgorithm') || fields.get<string>('algorithm');
  const input = base64Bytes(raw, 'unable to decode input as base64: ');
  const encoding = outputFormat(fields, 'hex', (f) => `unsupported encoding format ${f}; must be "hex" or "base64"`);
  if (format === '') throw badRequest('unsupported encoding format ; must be "hex" or "base64"');
  const nodeName = SUM_ALGORITHMS.includes(algorithm) ? HASHES.get(algorithm) : undefined;
  if (nodeName === undefined) throw badRequest(`unsupported algorithm ${quoted(algorithm)}`);
  return { data: { sum: createHash(nodeName).update(input).digest(encoding) } };
}
