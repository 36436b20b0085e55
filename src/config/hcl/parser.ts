/**
 * A small recursive-descent reader for HCL as Vault's configuration and
 * policy files use it (HCL v1 style). Written in-house because the npm HCL
 * parsers are unmaintained or do not report line numbers.
 *
 *   body      := (item [","])*
 *   item      := key "=" value | key label* "{" body "}"
 *   key,label := identifier | "quoted string"
 *   value     := string | heredoc | number | true | false
 *              | "[" (value ",")* [value] "]" | "{" body "}"
 */
import type { HclAttribute, HclBlock, HclBody, HclComment, HclItem, HclLabel, HclValue } from './ast.ts';
import { HclSyntaxError } from './errors.ts';
import { lex, type Token } from './lexer.ts';

/** Parses HCL source into a body; throws HclSyntaxError with the position. */
export function parseHcl(source: string): HclBody {
  const { tokens, comments } = lex(source);
  return new Parser(tokens, comments).parseDocument();
}

/** How a token reads in an error message (never a string's content). */
export function describeToken(token: Token): string {
  switch (token.type) {
    case 'eof':
      return 'end of file';
    case 'string':
    case 'heredoc':
      return 'a string';
    case 'number':
      return 'a number';
    default:
      return `"${token.text}"`;
  }
}

class Parser {
  private pos = 0;
  private nextComment = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly comments: HclComment[],
  ) {}

  parseDocument(): HclBody {
    return this.parseBody('eof', 1, 1);
  }

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private take(): Token {
    return this.tokens[this.pos++];
  }

  private isPunct(token: Token, text: string): boolean {
    return token.type === 'punct' && token.text === text;
  }

  private fail(message: string, token: { line: number; column: number }): never {
    throw new HclSyntaxError(message, token.line, token.column);
  }

  /** Comments that start before `token`, in source order. */
  private commentsBefore(token: Token): HclComment[] {
    const found: HclComment[] = [];
    while (this.nextComment < this.comments.length) {
      const c = this.comments[this.nextComment];
      if (c.line > token.line || (c.line === token.line && c.column > token.column)) break;
      found.push(c);
      this.nextComment++;
    }
    return found;
  }

  /** Moves a comment sharing the previous item's last line onto that item. */
  private attachTrailing(previous: HclItem | undefined, endLine: number, comments: HclComment[]): HclComment[] {
    if (previous && comments.length > 0 && comments[0].line === endLine) {
      previous.trailingComment = comments[0];
      return comments.slice(1);
    }
    return comments;
  }

  private parseBody(end: '}' | 'eof', line: number, column: number): HclBody {
    const items: HclItem[] = [];
    let previousEndLine = 0;
    for (;;) {
      const token = this.peek();
      const comments = this.attachTrailing(items.at(-1), previousEndLine, this.commentsBefore(token));
      const atEnd = end === 'eof' ? token.type === 'eof' : this.isPunct(token, '}');
      if (atEnd) return { line, column, items, endComments: comments };
      if (token.type === 'eof') this.fail('expected "}" before end of file', token);
      const item = this.parseItem(comments);
      items.push(item);
      if (this.isPunct(this.peek(), ',')) this.take();
      previousEndLine = this.tokens[this.pos - 1].endLine;
    }
  }

  private parseItem(leadingComments: HclComment[]): HclItem {
    const keyToken = this.take();
    if (keyToken.type !== 'ident' && keyToken.type !== 'string') {
      this.fail(`expected a key or block name, found ${describeToken(keyToken)}`, keyToken);
    }
    const key = keyToken.text;
    const at = { line: keyToken.line, column: keyToken.column };
    if (this.isPunct(this.peek(), '=')) {
      this.take();
      const value = this.parseValue(key);
      const attribute: HclAttribute = { kind: 'attribute', key, value, ...at, leadingComments };
      return attribute;
    }
    const labels: HclLabel[] = [];
    while (this.peek().type === 'string' || this.peek().type === 'ident') {
      const label = this.take();
      labels.push({ value: label.text, quoted: label.type === 'string', line: label.line, column: label.column });
    }
    const brace = this.peek();
    if (!this.isPunct(brace, '{')) {
      // `address "x"` (one stray word) is almost always a forgotten "=".
      if (labels.length <= 1) this.fail(`expected "=" after key "${key}"`, labels[0] ?? brace);
      this.fail(`expected "{" after the labels of block "${key}"`, brace);
    }
    this.take();
    const body = this.parseBody('}', brace.line, brace.column);
    this.take(); // closing brace
    const block: HclBlock = { kind: 'block', type: key, labels, body, ...at, leadingComments };
    return block;
  }

  private parseValue(key: string): HclValue {
    const token = this.take();
    const at = { line: token.line, column: token.column };
    switch (token.type) {
      case 'string':
        return { kind: 'string', value: token.text, ...at };
      case 'heredoc':
        return { kind: 'string', value: token.text, heredoc: token.heredoc, ...at };
      case 'number':
        return { kind: 'number', value: parseNumber(token.text), raw: token.text, ...at };
      case 'ident':
        if (token.text === 'true' || token.text === 'false') return { kind: 'bool', value: token.text === 'true', ...at };
        return this.fail(`invalid value for key "${key}": strings must be quoted`, token);
      case 'punct':
        if (token.text === '[') return { kind: 'list', items: this.parseListItems(key), ...at };
        if (token.text === '{') {
          const body = this.parseBody('}', token.line, token.column);
          this.take();
          return { kind: 'object', body, ...at };
        }
        break;
    }
    return this.fail(`expected a value for key "${key}", found ${describeToken(token)}`, token);
  }

  private parseListItems(key: string): HclValue[] {
    const items: HclValue[] = [];
    for (;;) {
      if (this.isPunct(this.peek(), ']')) break;
      items.push(this.parseValue(key));
      const next = this.peek();
      if (this.isPunct(next, ',')) {
        this.take();
      } else if (!this.isPunct(next, ']')) {
        this.fail(`expected "," or "]" in the list for key "${key}", found ${describeToken(next)}`, next);
      }
    }
    this.take();
    // Comments inside a list have no node to hang on; drop them with the list.
    this.commentsBefore(this.tokens[this.pos - 1]);
    return items;
  }
}

/** Decimal (int, float, exponent, negative) or 0x hexadecimal. */
export function parseNumber(text: string): number {
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  const magnitude = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : Number(digits);
  return negative ? -magnitude : magnitude;
}
