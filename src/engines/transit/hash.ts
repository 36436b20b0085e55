/**
 * `hash` and `hash/<algorithm>` `{input: base64, algorithm?, format?}` →
 * `{sum}` (hex by default, or base64). The path's algorithm wins over the body's.
 */
import { createHash } from 'node:crypto';
import { badRequest } from '../../core/errors.ts';
import { optionalSegment, type FieldData, type FieldSchema, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { formatField, outputFormat, requireBase64, urlAlgorithmField } from './fields.ts';

const NODE_HASH = new Map<string, string>(Object.entries({
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
  'sha3-224': 'sha3-224',
  'sha3-256': 'sha3-256',
  'sha3-384': 'sha3-384',
  'sha3-512': 'sha3-512',
}));

const ALGORITHMS = [...NODE_HASH.keys()].join(', ');

/** A body field naming a hash algorithm (default sha2-256). */
export const hashAlgorithmField = (what: string, extra = ''): FieldSchema => ({
  type: 'string',
  default: 'sha2-256',
  description: `The hash algorithm for the ${what}: one of ${ALGORITHMS} (default sha2-256).${extra}`,
});

/** Node's name for a Vault hash algorithm ("sha2-256" when absent or empty); 400 when unsupported. */
export function nodeHashName(algorithm: string | undefined): string {
  const nodeName = NODE_HASH.get(algorithm === undefined || algorithm === '' ? 'sha2-256' : algorithm);
  if (nodeName === undefined) throw badRequest(`unsupported hash algorithm; supported: ${ALGORITHMS}`);
  return nodeName;
}

/** The `hash[/<algorithm>]` path. */
export function hashPaths(): PathDeclaration<LogicalRequest>[] {
  return [
    {
      pattern: `hash${optionalSegment('urlalgorithm')}`,
      fields: {
        input: { type: 'string', description: 'Base64 input to hash.' },
        algorithm: hashAlgorithmField('sum'),
        urlalgorithm: urlAlgorithmField('sum'),
        format: formatField('hex'),
      },
      synopsis: 'Hash data (SHA-2 or SHA-3).',
      operations: { update: { summary: 'Hash the input.', handler: async (_req, f) => hash(f) } },
    },
  ];
}

function hash(fields: FieldData): LogicalResponse {
  const input = requireBase64(fields, 'input', 'missing input to hash');
  const nodeName = nodeHashName(fields.getOk<string>('urlalgorithm') || fields.getOk<string>('algorithm'));
  // Vault's hash endpoint defaults to hex, unlike random's base64.
  const format = outputFormat(fields, 'hex');
  return { data: { sum: createHash(nodeName).update(input).digest(format) } };
}
