/**
 * Reads a JSON document into the HCL tree, so `.json` configs and policies go
 * through the same decoding as HCL. A JSON object becomes an HclObject (or
 * the top-level HclBody) whose members are attributes; the decoders accept
 * that shape wherever HCL would have a block (see blocks.ts). Positions are
 * exact because the shared tokenizer tracks them.
 */
import type { HclAttribute, HclBody, HclValue } from './ast.ts';
import { HclSyntaxError } from './errors.ts';
import { lex, type Token } from './lexer.ts';
import { describeToken, parseNumber } from './parser.ts';

/** Parses a JSON object document; throws HclSyntaxError with the position. */
export function parseJsonToHcl(source: string): HclBody {
  const { tokens } = lex(source);
  let pos = 0;
  const take = () => tokens[pos++];
  const fail = (message: string, token: Token): never => {
    throw new HclSyntaxError(message, token.line, token.column);
  };
  const expectPunct = (text: string, context: string): Token => {
    const token = take();
    if (token.type !== 'punct' || token.text !== text) fail(`expected "${text}" ${context}, found ${describeToken(token)}`, token);
    return token;
  };

  const readMembers = (open: Token): HclBody => {
    const items: HclAttribute[] = [];
    if (tokens[pos].type === 'punct' && tokens[pos].text === '}') {
      take();
      return { line: open.line, column: open.column, items, endComments: [] };
    }
    for (;;) {
      const keyToken = take();
      if (keyToken.type !== 'string') fail(`expected a quoted key, found ${describeToken(keyToken)}`, keyToken);
      expectPunct(':', `after key "${keyToken.text}"`);
      const value = readValue(keyToken.text);
      items.push({ kind: 'attribute', key: keyToken.text, value, line: keyToken.line, column: keyToken.column, leadingComments: [] });
      const next = take();
      if (next.type === 'punct' && next.text === '}') break;
      if (next.type !== 'punct' || next.text !== ',') fail(`expected "," or "}" after the value of "${keyToken.text}"`, next);
    }
    return { line: open.line, column: open.column, items, endComments: [] };
  };

  const readValue = (key: string): HclValue => {
    const token = take();
    const at = { line: token.line, column: token.column };
    if (token.type === 'string') return { kind: 'string', value: token.text, ...at };
    if (token.type === 'number' && !/^-?0[xX]/.test(token.text)) {
      return { kind: 'number', value: parseNumber(token.text), raw: token.text, ...at };
    }
    if (token.type === 'ident' && (token.text === 'true' || token.text === 'false')) {
      return { kind: 'bool', value: token.text === 'true', ...at };
    }
    if (token.type === 'punct' && token.text === '{') return { kind: 'object', body: readMembers(token), ...at };
    if (token.type === 'punct' && token.text === '[') {
      const items: HclValue[] = [];
      if (tokens[pos].type === 'punct' && tokens[pos].text === ']') {
        take();
      } else {
        for (;;) {
          items.push(readValue(key));
          const next = take();
          if (next.type === 'punct' && next.text === ']') break;
          if (next.type !== 'punct' || next.text !== ',') fail(`expected "," or "]" in the list for "${key}"`, next);
        }
      }
      return { kind: 'list', items, ...at };
    }
    if (token.type === 'ident' && token.text === 'null') return fail(`null is not allowed for "${key}"`, token);
    return fail(`expected a JSON value for "${key}", found ${describeToken(token)}`, token);
  };

  const open = take();
  if (open.type !== 'punct' || open.text !== '{') fail('expected a JSON object', open);
  const body = readMembers(open);
  const trailing = take();
  if (trailing.type !== 'eof') fail(`unexpected ${describeToken(trailing)} after the JSON object`, trailing);
  return body;
}

/** True when the text looks like JSON (Vault sniffs the same way). */
export function looksLikeJson(source: string): boolean {
  return source.trimStart().replace(/^\uFEFF/, '').startsWith('{');
}
