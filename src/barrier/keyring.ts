/**
 * The barrier keyring: the root key plus every data-encryption key term ever
 * installed. Old terms stay so values written before a rotation still read.
 */
export interface KeyTerm {
  term: number;
  key: Buffer;
  installTime: Date;
  /** Encryptions performed with this term (persisted in batches, see AesGcmBarrier). */
  encryptions: number;
}

export interface RotationConfig {
  /** Encryptions after which the active term is rotated automatically. */
  maxOperations: number;
  /** Seconds after which the active term is rotated automatically; 0 = never. */
  interval: number;
}

/**
 * NIST SP 800-38D allows 2^32 random-nonce encryptions per key; Vault rotates
 * at about 90% of that (3,865,470,566), so do we.
 */
export const DEFAULT_MAX_OPERATIONS = 3_865_470_566;

export class Keyring {
  readonly terms = new Map<number, KeyTerm>();
  activeTerm = 0;
  rotation: RotationConfig = { maxOperations: DEFAULT_MAX_OPERATIONS, interval: 0 };

  constructor(public rootKey: Buffer) {}

  active(): KeyTerm {
    const t = this.terms.get(this.activeTerm);
    if (!t) throw new Error('keyring has no active term');
    return t;
  }

  addTerm(key: Buffer, now = new Date()): KeyTerm {
    const term = this.activeTerm + 1;
    const entry: KeyTerm = { term, key, installTime: now, encryptions: 0 };
    this.terms.set(term, entry);
    this.activeTerm = term;
    return entry;
  }

  /** JSON form, encrypted by the root key before it reaches storage. */
  serialize(): Buffer {
    return Buffer.from(
      JSON.stringify({
        root_key: this.rootKey.toString('base64'),
        active_term: this.activeTerm,
        rotation: { max_operations: this.rotation.maxOperations, interval: this.rotation.interval },
        keys: [...this.terms.values()].map((t) => ({
          term: t.term,
          value: t.key.toString('base64'),
          install_time: t.installTime.toISOString(),
          encryptions: t.encryptions,
        })),
      }),
    );
  }

  static deserialize(raw: Buffer): Keyring {
    const doc = JSON.parse(raw.toString('utf8'));
    const ring = new Keyring(Buffer.from(doc.root_key, 'base64'));
    for (const k of doc.keys) {
      ring.terms.set(k.term, {
        term: k.term,
        key: Buffer.from(k.value, 'base64'),
        installTime: new Date(k.install_time),
        encryptions: k.encryptions ?? 0,
      });
    }
    ring.activeTerm = doc.active_term;
    if (doc.rotation) ring.rotation = { maxOperations: doc.rotation.max_operations, interval: doc.rotation.interval };
    return ring;
  }

  /** Overwrites key material in memory (best effort: JS may hold copies). */
  wipe(): void {
    this.rootKey.fill(0);
    for (const t of this.terms.values()) t.key.fill(0);
    this.terms.clear();
  }
}
