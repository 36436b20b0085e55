/**
 * `random`, `random/<bytes>`, `random/<source>` and `random/<source>/<bytes>`
 * `{bytes?, format?, source?}` → `{random_bytes}` (base64 by default, or hex).
 * Path values win over body values, as in Vault.
 *
 * Sources, as Vault's: "platform" is the OS generator; "seal" is the seal's
 * (HSM's) generator, which a mount reaches through the request's random
 * source when it has external_entropy_access (Tresor mixes the HSM's bytes
 * with the OS's there; without access "seal" falls back to the OS with
 * Vault's warning); "all" is both XORed together.
 */
import { randomBytes } from 'node:crypto';
import { badRequest, quoted } from '../../core/errors.ts';
import { osRandom } from '../../core/entropy.ts';
import { genericName, optionalSegment, type FieldData, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { parseGoInt } from './ciphertext.ts';
import { formatField } from './fields.ts';

const SOURCES = new Set(['', 'platform', 'seal', 'all']);
const DEFAULT_BYTES = 32;
const MAX_BYTES = 128 * 1024;
const NO_SEAL_ENTROPY = 'no seal/entropy augmentation available, using platform entropy source';

/** The `random[/<source>][/<bytes>]` path. */
export function randomPaths(): PathDeclaration<LogicalRequest>[] {
  return [
    {
      pattern: `random(?:/${genericName('source')})?${optionalSegment('urlbytes')}`,
      fields: {
        urlbytes: { type: 'string', description: 'The number of bytes, given in the path.' },
        bytes: { type: 'int', default: DEFAULT_BYTES, description: `The number of bytes to generate, 1 to ${MAX_BYTES} (default ${DEFAULT_BYTES}).` },
        format: formatField('base64'),
        source: {
          type: 'string',
          default: 'platform',
          description: 'The entropy source: "platform" (the OS, the default), "seal" (the HSM, for mounts with external_entropy_access) or "all" (both, XORed).',
        },
      },
      synopsis: 'Generate random bytes.',
      description: 'A single path segment that is not a source name is the byte count.',
      operations: { update: { summary: 'Generate random bytes.', handler: (req, f) => generateRandom(req, f) } },
    },
  ];
}

const urlCount = (text: string) => {
  const n = parseGoInt(text);
  if (n === undefined) throw badRequest(`error parsing url-set byte count: strconv.Atoi: parsing "${text.slice(0, 32)}": invalid syntax`);
  return n;
};

/** Vault's parsing, which lets an ACL govern both the source and the byte count in the path. */
function sourceAndBytes(fields: FieldData): { source: string; bytes: number } {
  const urlBytes = fields.getOk<string>('urlbytes');
  const source = fields.getOk<string>('source');
  if (source === undefined || source === '') return { source: 'platform', bytes: fields.get<number>('bytes') };
  if (urlBytes === undefined && SOURCES.has(source)) return { source, bytes: fields.get<number>('bytes') };
  if (urlBytes === undefined) return { source: 'platform', bytes: urlCount(source) };
  return { source, bytes: urlCount(urlBytes) };
}

async function generateRandom(req: LogicalRequest, fields: FieldData): Promise<LogicalResponse> {
  const { source, bytes } = sourceAndBytes(fields);
  const format = fields.get<string>('format');
  if (bytes < 1) throw badRequest('"bytes" cannot be less than 1');
  if (bytes > MAX_BYTES) throw badRequest(`"bytes" should be less than ${MAX_BYTES}`);
  if (format !== 'hex' && format !== 'base64') throw badRequest(`unsupported encoding format "${quoted(format)}"; must be "hex" or "base64"`);
  const sealReachable = req.randomBytes !== osRandom;
  let out: Buffer;
  const warnings: string[] = [];
  switch (source) {
    case '':
    case 'platform':
      out = randomBytes(bytes);
      break;
    case 'seal':
      if (!sealReachable) warnings.push(NO_SEAL_ENTROPY);
      out = await req.randomBytes(bytes);
      break;
    case 'all': {
      const seal = await req.randomBytes(bytes);
      out = randomBytes(bytes);
      for (let i = 0; i < bytes; i++) out[i] ^= seal[i];
      break;
    }
    default:
      throw badRequest(`unsupported entropy source "${quoted(source)}"; must be "platform" or "seal", or "all"`);
  }
  const res: LogicalResponse = { data: { random_bytes: out.toString(format) } };
  if (warnings.length) res.warnings = warnings;
  return res;
}
