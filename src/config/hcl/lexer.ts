/**
 * Tokenizer shared by the HCL and JSON readers. It tracks line and column
 * for every token and keeps comments aside so the formatter can keep them.
 */
import type { HclComment } from './ast.ts';
import { HclSyntaxError } from './errors.ts';

export type Punctuation = '{' | '}' | '[' | ']' | '=' | ',' | ':';

export interface Token {
  type: 'ident' | 'string' | 'heredoc' | 'number' | 'punct' | 'eof';
  /** Decoded string content, identifier name, punctuation or number spelling. */
  text: string;
  line: number;
  column: number;
  /** Line of the token's last character (heredocs span several lines). */
  endLine: number;
  heredoc?: { marker: string; indented: boolean };
}

export interface LexResult {
  tokens: Token[];
  comments: HclComment[];
}

const PUNCTUATION = new Set(['{', '}', '[', ']', '=', ',', ':']);
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_.\-]/;
const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f',
};

/** Splits `source` into tokens; throws HclSyntaxError on malformed input. */
export function lex(source: string): LexResult {
  return new Lexer(source).run();
}

class Lexer {
  private offset = 0;
  private line = 1;
  private column = 1;
  private readonly tokens: Token[] = [];
  private readonly comments: HclComment[] = [];

  constructor(private readonly src: string) {}

  run(): LexResult {
    for (;;) {
      this.skipWhitespaceAndComments();
      if (this.offset >= this.src.length) break;
      this.tokens.push(this.readToken());
    }
    this.tokens.push({ type: 'eof', text: '', line: this.line, column: this.column, endLine: this.line });
    return { tokens: this.tokens, comments: this.comments };
  }

  private peek(ahead = 0): string {
    return this.src[this.offset + ahead] ?? '';
  }

  private advance(): string {
    const ch = this.src[this.offset++];
    if (ch === '\n') {
      this.line++;
      this.column = 1;
    } else {
      this.column++;
    }
    return ch;
  }

  private fail(message: string, line = this.line, column = this.column): never {
    throw new HclSyntaxError(message, line, column);
  }

  private skipWhitespaceAndComments(): void {
    while (this.offset < this.src.length) {
      const ch = this.peek();
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === '\uFEFF') {
        this.advance();
      } else if (ch === '#' || (ch === '/' && this.peek(1) === '/')) {
        this.readLineComment();
      } else if (ch === '/' && this.peek(1) === '*') {
        this.readBlockComment();
      } else {
        return;
      }
    }
  }

  private readLineComment(): void {
    const { line, column } = this;
    const start = this.offset;
    while (this.offset < this.src.length && this.peek() !== '\n') this.advance();
    this.comments.push({ text: this.src.slice(start, this.offset).trimEnd(), line, column });
  }

  private readBlockComment(): void {
    const { line, column } = this;
    const end = this.src.indexOf('*/', this.offset + 2);
    if (end < 0) this.fail('unterminated comment "/*"', line, column);
    const start = this.offset;
    while (this.offset < end + 2) this.advance();
    this.comments.push({ text: this.src.slice(start, this.offset), line, column });
  }

  private readToken(): Token {
    const { line, column } = this;
    const ch = this.peek();
    const token = (type: Token['type'], text: string): Token => ({ type, text, line, column, endLine: this.line });
    if (PUNCTUATION.has(ch)) {
      this.advance();
      return token('punct', ch);
    }
    if (ch === '"') return token('string', this.readQuoted());
    if (ch === '<' && this.peek(1) === '<') return this.readHeredoc();
    if (ch === '-' || (ch >= '0' && ch <= '9')) return token('number', this.readNumber());
    if (IDENT_START.test(ch)) {
      const start = this.offset;
      while (IDENT_PART.test(this.peek())) this.advance();
      return token('ident', this.src.slice(start, this.offset));
    }
    return this.fail(`unexpected character ${JSON.stringify(ch)}`);
  }

  private readQuoted(): string {
    const startLine = this.line;
    const startColumn = this.column;
    this.advance(); // opening quote
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === '' || ch === '\n') this.fail('unterminated string', startLine, startColumn);
      this.advance();
      if (ch === '"') return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      out += this.readEscape();
    }
  }

  private readEscape(): string {
    const line = this.line;
    const column = this.column - 1;
    const ch = this.advance();
    if (ch in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[ch];
    if (ch === 'u' || ch === 'U') {
      const digits = ch === 'u' ? 4 : 8;
      const hex = this.src.slice(this.offset, this.offset + digits);
      if (!new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(hex)) {
        this.fail(`invalid escape "\\${ch}": expected ${digits} hex digits`, line, column);
      }
      for (let i = 0; i < digits; i++) this.advance();
      const codePoint = parseInt(hex, 16);
      if (codePoint > 0x10ffff) this.fail(`invalid escape "\\${ch}${hex}": not a Unicode code point`, line, column);
      return String.fromCodePoint(codePoint);
    }
    return this.fail(`invalid escape "\\${ch}" in string`, line, column);
  }

  private readNumber(): string {
    const start = this.offset;
    const { line, column } = this;
    const match = /^-?(?:0[xX][0-9A-Fa-f]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.src.slice(start));
    if (!match) this.fail('invalid number', line, column);
    for (let i = 0; i < match[0].length; i++) this.advance();
    // The value is not echoed: an unquoted PIN would otherwise leak here.
    if (IDENT_PART.test(this.peek())) {
      this.fail('invalid number: unexpected characters after the digits (quote strings such as durations)', line, column);
    }
    return match[0];
  }

  /**
   * `<<MARKER` or `<<-MARKER`, a newline, content lines, then a line holding
   * only the marker. The value keeps the final newline (as HCL v1 does); the
   * `-` form strips the closing line's indentation from every content line
   * when they all share it.
   */
  private readHeredoc(): Token {
    const { line, column } = this;
    this.advance();
    this.advance();
    const indented = this.peek() === '-';
    if (indented) this.advance();
    const markerStart = this.offset;
    while (IDENT_PART.test(this.peek())) this.advance();
    const marker = this.src.slice(markerStart, this.offset);
    if (!marker || !IDENT_START.test(marker[0])) this.fail('expected a heredoc marker after "<<"', line, column);
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') this.advance();
    if (this.peek() !== '\n') this.fail(`expected a newline after heredoc marker "${marker}"`);
    this.advance();

    const lines: string[] = [];
    for (;;) {
      if (this.offset >= this.src.length) this.fail(`unterminated heredoc "${marker}"`, line, column);
      const lineEnd = this.src.indexOf('\n', this.offset);
      const text = this.src.slice(this.offset, lineEnd < 0 ? this.src.length : lineEnd).replace(/\r$/, '');
      const isClosing = text.trim() === marker;
      const consumeTo = isClosing ? this.offset + text.replace(/\s+$/, '').length : lineEnd < 0 ? this.src.length : lineEnd + 1;
      while (this.offset < consumeTo) this.advance();
      if (isClosing) {
        const closingIndent = text.slice(0, text.indexOf(marker));
        const value = indented ? dedent(lines, closingIndent) : lines;
        return {
          type: 'heredoc',
          text: value.map((l) => l + '\n').join(''),
          line,
          column,
          endLine: this.line,
          heredoc: { marker, indented },
        };
      }
      lines.push(text);
    }
  }
}

function dedent(lines: string[], indent: string): string[] {
  if (!indent || !lines.every((l) => l.startsWith(indent) || l.trim() === '')) return lines;
  return lines.map((l) => l.slice(indent.length));
}
