/**
 * `random`, `random/<bytes>`, `random/<source>` and `random/<source>/<bytes>`
 * `{bytes?, format?, source?}` → `{random_bytes}` (base64 by default, or hex).
 * Path values win over body values, as in Vault.
 *
 * Every source draws from the request's random source: that is the HSM mixed
 * with the OS when the mount has external_entropy_access (so "seal" and "all"
 * get what they ask for), and the OS otherwise. "platform" is accepted for
 * compatibility and gets the same bytes, which are never weaker than the OS's.
 */
import { badRequest } from '../../core/errors.ts';
import { parseNonNegativeInt } from '../../core/request-fields.ts';
import { genericName, optionalSegment, type FieldData, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { formatField, outputFormat } from './fields.ts';

const SOURCES = new Set(['platform', 'seal', 'all']);
const DEFAULT_BYTES = 32;
const MAX_BYTES = 128 * 1024;
const PATH = 'random';

/** The `random[/<source>][/<bytes>]` path. */
export function randomPaths(): PathDeclaration<LogicalRequest>[] {
  return [
    {
      pattern: `${PATH}(?:/${genericName('source')})?${optionalSegment('urlbytes')}`,
      fields: {
        urlbytes: { type: 'string', description: 'The number of bytes, given in the path.' },
        bytes: { type: 'int', default: DEFAULT_BYTES, description: `The number of bytes to generate, 1 to ${MAX_BYTES} (default ${DEFAULT_BYTES}).` },
        format: formatField('base64'),
        source: {
          type: 'string',
          default: 'platform',
          description: 'The entropy source: "platform", "seal" or "all" (default "platform"); every source draws from the mount\'s random source.',
        },
      },
      synopsis: 'Generate random bytes.',
      description: 'A single path segment that is not a source name is the byte count.',
      operations: { update: { summary: 'Generate random bytes.', handler: (req, f) => generateRandom(req, f) } },
    },
  ];
}

/** The source and byte count, from the path segments (captures) over the body. */
function sourceAndBytes(req: LogicalRequest, fields: FieldData): { source: string; bytes: number } {
  const urlbytes = fields.getOk<string>('urlbytes');
  const source = fields.getOk<string>('source') || 'platform';
  if (urlbytes !== undefined) return { source, bytes: parseNonNegativeInt(urlbytes, 'bytes') };
  // `random/<n>`: a lone segment that is no source name is the byte count.
  if (req.path !== PATH && !SOURCES.has(source)) return { source: 'platform', bytes: parseNonNegativeInt(source, 'bytes') };
  return { source, bytes: fields.getOk<number>('bytes') ?? DEFAULT_BYTES };
}

async function generateRandom(req: LogicalRequest, fields: FieldData): Promise<LogicalResponse> {
  const { source, bytes } = sourceAndBytes(req, fields);
  if (!SOURCES.has(source)) throw badRequest('"source" must be "platform", "seal" or "all"');
  if (bytes < 1 || bytes > MAX_BYTES) throw badRequest(`"bytes" must be between 1 and ${MAX_BYTES}`);
  const format = outputFormat(fields, 'base64');
  return { data: { random_bytes: (await req.randomBytes(bytes)).toString(format) } };
}
