import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TresorError } from '../core/errors.ts';
import { combineShares, decodeShare, splitKey, validateShareParams } from './shamir.ts';

// --- A deliberately naive GF(2^8) written for the test, independent of the library's log/exp tables. ---

/** Carry-less multiply reduced by x^8+x^4+x^3+x+1 (0x11b), the AES field Vault uses. */
function gfMul(a: number, b: number): number {
  let product = 0;
  while (b > 0) {
    if (b & 1) product ^= a;
    a <<= 1;
    if (a & 0x100) a ^= 0x11b;
    b >>= 1;
  }
  return product;
}

/** a^254 = a^-1 in GF(2^8). */
function gfInverse(a: number): number {
  let result = 1;
  for (let i = 0; i < 254; i++) result = gfMul(result, a);
  return result;
}

/** Horner evaluation; coefficients[0] is the constant term (the secret byte). */
function evaluatePolynomial(coefficients: number[], x: number): number {
  return coefficients.reduceRight((acc, coefficient) => gfMul(acc, x) ^ coefficient, 0);
}

/** Lagrange interpolation at x = 0 of Vault-layout shares (y bytes, then x). */
function interpolateSecret(shares: Buffer[]): Buffer {
  const keyLength = shares[0]!.length - 1;
  const xs = shares.map((share) => share[keyLength]!);
  const secret = Buffer.alloc(keyLength);
  for (let byte = 0; byte < keyLength; byte++) {
    let value = 0;
    shares.forEach((share, i) => {
      let basis = 1;
      xs.forEach((xj, j) => {
        if (j !== i) basis = gfMul(basis, gfMul(xj, gfInverse(xs[i]! ^ xj)));
      });
      value ^= gfMul(share[byte]!, basis);
    });
    secret[byte] = value;
  }
  return secret;
}

/** Every k-element subset of `items`, in order. */
function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first!, ...s]), ...subsets(rest, k)];
}

const badRequestMatching = (pattern: RegExp) => (err: unknown) =>
  err instanceof TresorError && err.status === 400 && pattern.test(err.message);

describe('validateShareParams', () => {
  const cases: Array<[number, number, string]> = [
    [0, 1, 'shares must be at least one'],
    [3, 0, 'threshold must be at least one'],
    [3, 1, 'threshold must be greater than one for multiple shares'],
    [256, 3, 'shares must be less than 256'],
    [3, 4, 'threshold cannot be larger than shares'],
    [2.5, 2, 'shares must be an integer'],
    [3, Number.NaN, 'threshold must be an integer'],
  ];
  for (const [shares, threshold, message] of cases) {
    it(`refuses shares=${shares} threshold=${threshold} with "${message}"`, () => {
      assert.throws(() => validateShareParams(shares, threshold), (err: unknown) => {
        assert.ok(err instanceof TresorError);
        assert.equal(err.status, 400);
        assert.equal(err.message, message);
        return true;
      });
    });
  }

  it('refuses a threshold above 255 even when shares is also too large', () => {
    assert.throws(() => validateShareParams(300, 300), badRequestMatching(/shares must be less than 256/));
  });

  it('accepts the boundary configurations 1-of-1, 2-of-2 and 255-of-255', () => {
    validateShareParams(1, 1);
    validateShareParams(2, 2);
    validateShareParams(255, 255);
  });

  it('words messages with the caller parameter names', () => {
    assert.throws(
      () => validateShareParams(5, 1, { shares: 'recovery_shares', threshold: 'recovery_threshold' }),
      badRequestMatching(/^recovery_threshold must be greater than one for multiple recovery_shares$/),
    );
  });
});

describe('splitKey / combineShares', () => {
  it('returns the key itself as the only share for 1-of-1, and combines it back', async () => {
    const key = randomBytes(32);
    const shares = await splitKey(key, 1, 1);
    assert.equal(shares.length, 1);
    assert.deepEqual(shares[0], key);
    assert.notEqual(shares[0], key, 'the share must be a copy, not the caller buffer');
    assert.deepEqual(await combineShares(shares), key);
  });

  for (const [threshold, total] of [[2, 3], [3, 5], [5, 10]] as const) {
    it(`rebuilds the key from every ${threshold}-share subset of a ${threshold}-of-${total} split`, async () => {
      const key = randomBytes(32);
      const shares = await splitKey(key, total, threshold);
      assert.equal(shares.length, total);
      for (const subset of subsets(shares, threshold)) {
        assert.deepEqual(await combineShares(subset), key);
      }
    });
  }

  it('lays shares out as key bytes followed by a distinct non-zero x coordinate', async () => {
    const key = randomBytes(16);
    const shares = await splitKey(key, 5, 3);
    const xs = shares.map((share) => {
      assert.equal(share.length, key.length + 1);
      return share[key.length]!;
    });
    assert.equal(new Set(xs).size, 5);
    assert.ok(xs.every((x) => x !== 0));
  });

  it('produces shares that an independent GF(256) interpolation turns back into the key', async () => {
    const key = randomBytes(32);
    const shares = await splitKey(key, 5, 3);
    assert.deepEqual(interpolateSecret(shares.slice(1, 4)), key);
  });

  it('rebuilds the key when more shares than the threshold are given', async () => {
    const key = randomBytes(32);
    const shares = await splitKey(key, 5, 3);
    assert.deepEqual(await combineShares(shares), key);
  });

  it('yields a different key from fewer shares than the threshold', async () => {
    const key = randomBytes(32);
    const shares = await splitKey(key, 5, 3);
    const guess = await combineShares(shares.slice(0, 2));
    assert.equal(guess.length, key.length);
    assert.notDeepEqual(guess, key);
  });

  it('yields a different key, without error, when shares come from two different splits', async () => {
    const key = randomBytes(32);
    const [a] = await splitKey(key, 3, 2);
    const others = await splitKey(key, 3, 2);
    const foreign = others.find((share) => share[32] !== a![32])!;
    assert.notDeepEqual(await combineShares([a!, foreign]), key);
  });

  it('refuses the same share given twice', async () => {
    const shares = await splitKey(randomBytes(32), 3, 2);
    await assert.rejects(combineShares([shares[0]!, shares[0]!]), badRequestMatching(/duplicate key share/));
  });

  it('refuses two shares with the same x coordinate but different values', async () => {
    const shares = await splitKey(randomBytes(32), 3, 2);
    const tampered = Buffer.from(shares[0]!);
    tampered[0] = tampered[0]! ^ 0xff;
    await assert.rejects(combineShares([shares[0]!, tampered]), badRequestMatching(/duplicate key share/));
  });

  it('refuses shares of different lengths', async () => {
    const short = await splitKey(randomBytes(16), 3, 2);
    const long = await splitKey(randomBytes(32), 3, 2);
    await assert.rejects(combineShares([short[0]!, long[1]!]), badRequestMatching(/same length/));
  });

  it('refuses an empty share list and one-byte shares', async () => {
    await assert.rejects(combineShares([]), badRequestMatching(/no key shares/));
    await assert.rejects(
      combineShares([Buffer.from([1]), Buffer.from([2])]),
      badRequestMatching(/at least two bytes/),
    );
  });

  it('refuses invalid split parameters and an empty key', async () => {
    await assert.rejects(splitKey(randomBytes(32), 3, 1), badRequestMatching(/greater than one/));
    await assert.rejects(splitKey(Buffer.alloc(0), 3, 2), badRequestMatching(/empty key/));
  });
});

describe('Vault compatibility of the share format', () => {
  it('the test field helper agrees with the FIPS-197 worked example 0x57 * 0x83 = 0xc1', () => {
    assert.equal(gfMul(0x57, 0x83), 0xc1);
    assert.equal(gfMul(0x53, gfInverse(0x53)), 1);
  });

  it('combines a 1-byte share pair computed by hand', async () => {
    // Secret 0x53, p(x) = 0x53 + 0x02·x. p(0x01) = 0x51. p(0x80) = 0x53 ^ (0x02·0x80),
    // and 0x02·0x80 = 0x100, reduced by 0x11b, is 0x1b, so p(0x80) = 0x48.
    const shares = [Buffer.from([0x51, 0x01]), Buffer.from([0x48, 0x80])];
    assert.deepEqual(await combineShares(shares), Buffer.from([0x53]));
  });

  it('combines every 3-subset of a 3-of-5 share set built independently in the test', async () => {
    const secret = [0x42, 0xa7];
    const polynomials = [
      [secret[0]!, 0x1d, 0xc3],
      [secret[1]!, 0x05, 0x9e],
    ];
    const xs = [0x01, 0x02, 0x03, 0x80, 0xff];
    const shares = xs.map((x) => Buffer.from([...polynomials.map((p) => evaluatePolynomial(p, x)), x]));
    for (const subset of subsets(shares, 3)) {
      assert.deepEqual(await combineShares(subset), Buffer.from(secret));
    }
  });
});

describe('decodeShare', () => {
  it('accepts hex in either case and base64 in standard or URL-safe form, padded or not', async () => {
    const [share] = await splitKey(randomBytes(32), 3, 2);
    const base64 = share!.toString('base64');
    const spellings = [
      share!.toString('hex'),
      share!.toString('hex').toUpperCase(),
      base64,
      base64.replace(/=+$/, ''),
      share!.toString('base64url'),
      `  ${base64}\n`,
    ];
    for (const spelling of spellings) assert.deepEqual(decodeShare(spelling), share);
  });

  it('decodes a 1-of-1 key given in base64', () => {
    const key = randomBytes(32);
    assert.deepEqual(decodeShare(key.toString('base64')), key);
  });

  it('refuses malformed input, and input too short to be a share, without echoing it', () => {
    // 'zz' is not hex but is valid unpadded base64 for a single byte: too short for any share.
    for (const bad of ['', '   ', 'zz', 'ab', 'dead beef', 'abc*def', 'A', 'AB=C', 'ab+c-d==']) {
      assert.throws(() => decodeShare(bad), (err: unknown) => {
        assert.ok(err instanceof TresorError);
        assert.equal(err.status, 400);
        if (bad.trim() !== '') assert.ok(!err.message.includes(bad.trim()));
        return true;
      });
    }
  });
});
