/**
 * `hash` and `hash/<algorithm>` `{input: base64, algorithm?, format?}` →
 * `{sum}` (hex by default, or base64). The path's algorithm wins over the body's.
 */
import { createHash } from 'node:crypto';
import { badRequest } from '../../core/errors.ts';
import type { LogicalResponse } from '../types.ts';
import { isAbsent, type JsonObject } from '../../core/request-fields.ts';
import { parseOutputFormat, requireBase64 } from './fields.ts';

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

/** Node's name for a Vault hash algorithm ("sha2-256" by default); 400 when unsupported. */
export function nodeHashName(algorithm: unknown): string {
  const chosen = isAbsent(algorithm) ? 'sha2-256' : algorithm;
  const nodeName = typeof chosen === 'string' ? NODE_HASH.get(chosen) : undefined;
  if (nodeName === undefined) throw badRequest(`unsupported hash algorithm; supported: ${[...NODE_HASH.keys()].join(', ')}`);
  return nodeName;
}

export async function hash(data: JsonObject, algorithmFromPath: string | undefined): Promise<LogicalResponse> {
  const input = requireBase64(data.input, 'input', 'missing input to hash');
  const nodeName = nodeHashName(algorithmFromPath ?? data.algorithm);
  // Vault's hash endpoint defaults to hex, unlike random's base64.
  const format = parseOutputFormat(data.format, 'hex');
  return { data: { sum: createHash(nodeName).update(input).digest(format) } };
}
