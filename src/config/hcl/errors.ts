/**
 * Errors raised while reading HCL. Both carry the 1-based position so callers
 * can prefix their own context (a file name, a policy name). Messages quote
 * keys and syntax, never attribute values, which may be secrets (a PIN).
 */
export class HclError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'HclError';
  }
}

/** The text is not well-formed HCL (or JSON). */
export class HclSyntaxError extends HclError {
  constructor(message: string, line: number, column: number) {
    super(message, line, column);
    this.name = 'HclSyntaxError';
  }
}

/** Well-formed text whose content does not fit the expected schema. */
export class HclDecodeError extends HclError {
  constructor(message: string, line: number, column: number) {
    super(message, line, column);
    this.name = 'HclDecodeError';
  }
}
