/**
 * HCL (v1 style, as Vault configs and policies use) and JSON reading into one
 * position-carrying tree. See hcl/parser.ts for the grammar.
 */
import type { HclBody } from './hcl/ast.ts';
import { looksLikeJson, parseJsonToHcl } from './hcl/json.ts';
import { parseHcl } from './hcl/parser.ts';

export type * from './hcl/ast.ts';
export { HclError, HclSyntaxError, HclDecodeError } from './hcl/errors.ts';
export { parseHcl } from './hcl/parser.ts';
export { parseJsonToHcl, looksLikeJson } from './hcl/json.ts';
export { printHcl, quote } from './hcl/printer.ts';
export { BodyReader, collectBlocks, describeBlock, parseBoolean, type DecodedBlock } from './hcl/decode.ts';

/**
 * Parses HCL or JSON into the same tree. `format` forces one syntax; by
 * default a document whose first non-blank character is `{` is JSON.
 */
export function parseDocument(source: string, format?: 'hcl' | 'json'): HclBody {
  const json = format ? format === 'json' : looksLikeJson(source);
  return json ? parseJsonToHcl(source) : parseHcl(source);
}
