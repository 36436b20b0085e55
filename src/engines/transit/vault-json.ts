/**
 * JSON with arbitrary-size integers, as Go writes big.Int fields (Vault's
 * stored EC and RSA key numbers are bare JSON numbers of hundreds of
 * digits). JSON.parse would round them to doubles; here every integer
 * literal too long for a double comes back as a bigint, and a bigint is
 * written back as a bare number.
 */

const MARK = '\u0000big:';
const SAFE_DIGITS = 15;

/** Parses JSON text, giving integer literals of more than 15 digits as bigints. */
export function parseBigJson(text: string): unknown {
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string, escapes included.
      i++;
      while (i < n && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i++;
      while (i < n && /[0-9.eE+-]/.test(text[i])) i++;
      const token = text.slice(start, i);
      if (/^-?\d+$/.test(token) && token.replace('-', '').length > SAFE_DIGITS) {
        // The mark's NUL goes in escaped: a raw control character is not valid inside a JSON string.
        out += `${text.slice(last, start)}"\\u0000big:${token}"`;
        last = i;
      }
      continue;
    }
    i++;
  }
  out += text.slice(last);
  return JSON.parse(out, (_key, value) => (typeof value === 'string' && value.startsWith(MARK) ? BigInt(value.slice(MARK.length)) : value));
}

/** JSON text with bigints written as bare integer literals (what Go's big.Int marshals to). */
export function stringifyBigJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${MARK}${v.toString()}` : v));
  return text.replace(/"\\u0000big:(-?\d+)"/g, '$1');
}
