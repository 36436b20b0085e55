/**
 * ECDSA over a caller's digest (Vault's `prehashed=true`). Node signs and
 * verifies only messages it hashes itself, so these two operations are done
 * here: verification with plain curve arithmetic (public values only), and
 * signing with the nonce point drawn by OpenSSL (an ephemeral key pair) and
 * the scalar equation blinded by a random factor, so the private scalar is
 * never multiplied unmasked. Everything else (keys, non-prehashed signing)
 * stays in Node's crypto.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { CURVES, type EcdsaType } from './key-types.ts';

interface Curve {
  p: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  bits: number;
}

const hex = (h: string) => BigInt(`0x${h}`);

export const CURVE_PARAMS: Readonly<Record<EcdsaType, Curve>> = {
  'ecdsa-p256': {
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    n: hex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
    gx: hex('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296'),
    gy: hex('4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5'),
    bits: 256,
  },
  'ecdsa-p384': {
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    n: hex('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
    gx: hex('aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7'),
    gy: hex('3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f'),
    bits: 384,
  },
  'ecdsa-p521': {
    p: 2n ** 521n - 1n,
    n: hex('01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409'),
    gx: hex('00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66'),
    gy: hex('011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650'),
    bits: 521,
  },
};

const mod = (a: bigint, m: bigint) => {
  const r = a % m;
  return r >= 0n ? r : r + m;
};

function invert(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

export const bigFromBytes = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`));

export function bigToBytes(value: bigint, length: number): Buffer {
  const hexText = value.toString(16).padStart(length * 2, '0');
  return Buffer.from(hexText.length > length * 2 ? hexText.slice(-length * 2) : hexText, 'hex');
}

/** Go's hashToInt: the digest's leftmost bits, as many as the order has. */
export function digestToScalar(digest: Buffer, curve: Curve): bigint {
  const orderBytes = Math.ceil(curve.bits / 8);
  const used = digest.length > orderBytes ? digest.subarray(0, orderBytes) : digest;
  let e = bigFromBytes(used);
  const excess = used.length * 8 - curve.bits;
  if (excess > 0) e >>= BigInt(excess);
  return e;
}

type Jacobian = [bigint, bigint, bigint];

function double(P: Jacobian, p: bigint): Jacobian {
  const [X, Y, Z] = P;
  if (Z === 0n || Y === 0n) return [0n, 1n, 0n];
  const delta = mod(Z * Z, p);
  const gamma = mod(Y * Y, p);
  const beta = mod(X * gamma, p);
  const alpha = mod(3n * (X - delta) * (X + delta), p);
  const X3 = mod(alpha * alpha - 8n * beta, p);
  const Z3 = mod((Y + Z) * (Y + Z) - gamma - delta, p);
  const Y3 = mod(alpha * (4n * beta - X3) - 8n * gamma * gamma, p);
  return [X3, Y3, Z3];
}

function add(P: Jacobian, Q: Jacobian, p: bigint): Jacobian {
  if (P[2] === 0n) return Q;
  if (Q[2] === 0n) return P;
  const [X1, Y1, Z1] = P;
  const [X2, Y2, Z2] = Q;
  const Z1Z1 = mod(Z1 * Z1, p);
  const Z2Z2 = mod(Z2 * Z2, p);
  const U1 = mod(X1 * Z2Z2, p);
  const U2 = mod(X2 * Z1Z1, p);
  const S1 = mod(Y1 * Z2 * Z2Z2, p);
  const S2 = mod(Y2 * Z1 * Z1Z1, p);
  const H = mod(U2 - U1, p);
  const R = mod(S2 - S1, p);
  if (H === 0n) return R === 0n ? double(P, p) : [0n, 1n, 0n];
  const H2 = mod(H * H, p);
  const H3 = mod(H * H2, p);
  const U1H2 = mod(U1 * H2, p);
  const X3 = mod(R * R - H3 - 2n * U1H2, p);
  const Y3 = mod(R * (U1H2 - X3) - S1 * H3, p);
  const Z3 = mod(H * Z1 * Z2, p);
  return [X3, Y3, Z3];
}

/** u1·G + u2·Q by interleaved double-and-add (public inputs only: not constant time). */
function doubleScalarMultiply(u1: bigint, u2: bigint, Q: Jacobian, curve: Curve): Jacobian {
  const G: Jacobian = [curve.gx, curve.gy, 1n];
  const GQ = add(G, Q, curve.p);
  let acc: Jacobian = [0n, 1n, 0n];
  const bits = Math.max(u1.toString(2).length, u2.toString(2).length);
  for (let i = bits - 1; i >= 0; i--) {
    acc = double(acc, curve.p);
    const b1 = (u1 >> BigInt(i)) & 1n;
    const b2 = (u2 >> BigInt(i)) & 1n;
    if (b1 && b2) acc = add(acc, GQ, curve.p);
    else if (b1) acc = add(acc, G, curve.p);
    else if (b2) acc = add(acc, Q, curve.p);
  }
  return acc;
}

/** Go's ecdsa.Verify over a digest. */
export function verifyDigest(type: EcdsaType, digest: Buffer, r: bigint, s: bigint, x: bigint, y: bigint): boolean {
  const curve = CURVE_PARAMS[type];
  if (r <= 0n || s <= 0n || r >= curve.n || s >= curve.n) return false;
  const e = digestToScalar(digest, curve);
  const w = invert(s, curve.n);
  const u1 = mod(e * w, curve.n);
  const u2 = mod(r * w, curve.n);
  const [X, , Z] = doubleScalarMultiply(u1, u2, [x, y, 1n], curve);
  if (Z === 0n) return false;
  const zInv = invert(Z, curve.p);
  const affineX = mod(X * zInv * zInv, curve.p);
  return mod(affineX, curve.n) === r;
}

function randomScalar(n: bigint): bigint {
  const length = Math.ceil(n.toString(16).length / 2) + 8;
  for (;;) {
    const candidate = mod(bigFromBytes(randomBytes(length)), n);
    if (candidate !== 0n) return candidate;
  }
}

/**
 * Signs a digest with private scalar `d`: r from an OpenSSL-generated nonce
 * key pair, s = (k·b)⁻¹ · (b·e + (b·r)·d) mod n with a fresh random b.
 */
export function signDigest(type: EcdsaType, digest: Buffer, d: bigint): { r: bigint; s: bigint } {
  const curve = CURVE_PARAMS[type];
  const e = digestToScalar(digest, curve);
  for (;;) {
    const nonce = generateKeyPairSync('ec', { namedCurve: CURVES[type].node }).privateKey.export({ format: 'jwk' });
    const k = bigFromBytes(Buffer.from(nonce.d!, 'base64url'));
    const r = mod(bigFromBytes(Buffer.from(nonce.x!, 'base64url')), curve.n);
    if (r === 0n) continue;
    const b = randomScalar(curve.n);
    const kb = mod(k * b, curve.n);
    const s = mod(invert(kb, curve.n) * mod(b * e + mod(b * r, curve.n) * d, curve.n), curve.n);
    if (s !== 0n) return { r, s };
  }
}
