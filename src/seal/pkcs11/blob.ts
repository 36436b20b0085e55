import { TresorError } from '../../core/errors.ts';

export const BLOB_VERSION = 1;

/** Decoded form of a wrapped blob. Empty buffers/strings mean "not used". */
export interface SealBlob {
  /** CKM_* number of the encryption mechanism. */
  mechanism: number;
  keyLabel: string;
  keyId: Buffer;
  hmacKeyLabel: string;
  hmacKeyId: Buffer;
  iv: Buffer;
  /** RSA-OAEP only: the data key, encrypted to the RSA key. */
  wrappedKey: Buffer;
  /** For GCM the 16-byte tag is appended, as PKCS#11 returns it. */
  ciphertext: Buffer;
  /** CBC only: HMAC-SHA256 over `macInput()`. */
  hmac: Buffer;
}

/**
 * Wire format, version 1 (all integers big-endian):
 *
 *   offset 0   u8   version (1)
 *   offset 1   u32  mechanism (CKM_AES_GCM 0x1087, CKM_AES_CBC_PAD 0x1085, CKM_RSA_PKCS_OAEP 0x9)
 *   then, each as u16 length + bytes:
 *              key label (UTF-8), key id, HMAC key label (UTF-8), HMAC key id,
 *              IV (12 bytes GCM / 16 bytes CBC / 12 bytes RSA envelope),
 *              wrapped data key (RSA-OAEP only, else empty)
 *   then       u32 length + ciphertext
 *   then       u16 length + HMAC (32 bytes for CBC, else empty)
 *
 * Everything before the HMAC field is the "MAC body": CBC mode MACs it
 * followed by the caller's AAD, so the header, IV and ciphertext are all
 * authenticated and the length prefixes keep the AAD boundary unambiguous.
 */
export function encodeBlob(blob: SealBlob): Buffer {
  return Buffer.concat([macBody(blob), lengthPrefixed(blob.hmac, 2)]);
}

/** The bytes CBC mode authenticates before appending the AAD (see encodeBlob). */
export function macBody(blob: Omit<SealBlob, 'hmac'>): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(BLOB_VERSION, 0);
  head.writeUInt32BE(blob.mechanism, 1);
  return Buffer.concat([
    head,
    lengthPrefixed(Buffer.from(blob.keyLabel, 'utf8'), 2),
    lengthPrefixed(blob.keyId, 2),
    lengthPrefixed(Buffer.from(blob.hmacKeyLabel, 'utf8'), 2),
    lengthPrefixed(blob.hmacKeyId, 2),
    lengthPrefixed(blob.iv, 2),
    lengthPrefixed(blob.wrappedKey, 2),
    lengthPrefixed(blob.ciphertext, 4),
  ]);
}

/** Parses a blob; anything malformed is a 400 that does not echo the bytes. */
export function decodeBlob(bytes: Buffer): SealBlob {
  const reader = new Reader(bytes);
  const version = reader.u8();
  if (version !== BLOB_VERSION) throw malformed(`unsupported version ${version}`);
  const blob: SealBlob = {
    mechanism: reader.u32(),
    keyLabel: reader.field(2).toString('utf8'),
    keyId: reader.field(2),
    hmacKeyLabel: reader.field(2).toString('utf8'),
    hmacKeyId: reader.field(2),
    iv: reader.field(2),
    wrappedKey: reader.field(2),
    ciphertext: reader.field(4),
    hmac: reader.field(2),
  };
  if (!reader.atEnd()) throw malformed('trailing bytes');
  return blob;
}

function lengthPrefixed(value: Buffer, width: 2 | 4): Buffer {
  const max = width === 2 ? 0xffff : 0xffffffff;
  if (value.length > max) throw new TresorError(400, `pkcs11 seal: field of ${value.length} bytes is too long for a blob`);
  const prefix = Buffer.alloc(width);
  if (width === 2) prefix.writeUInt16BE(value.length);
  else prefix.writeUInt32BE(value.length);
  return Buffer.concat([prefix, value]);
}

const malformed = (why: string) => new TresorError(400, `pkcs11 seal: malformed wrapped blob (${why})`);

class Reader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  u8(): number {
    this.need(1);
    return this.bytes.readUInt8(this.offset++);
  }

  u32(): number {
    this.need(4);
    const value = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  field(width: 2 | 4): Buffer {
    this.need(width);
    const length = width === 2 ? this.bytes.readUInt16BE(this.offset) : this.bytes.readUInt32BE(this.offset);
    this.offset += width;
    this.need(length);
    const value = Buffer.from(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  atEnd(): boolean {
    return this.offset === this.bytes.length;
  }

  private need(n: number): void {
    if (this.offset + n > this.bytes.length) throw malformed('truncated');
  }
}
