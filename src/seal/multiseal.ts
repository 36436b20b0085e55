/**
 * Several auto-unseal seals at once (`enable_multiseal = true`): every value
 * is wrapped under each healthy seal, and unwrapping succeeds when any one
 * seal can unwrap its part.
 *
 * Multi-blob (version 1): u8 0x4D ('M'), u8 1, u8 count, then per seal:
 * u16 length + name (UTF-8), u32 length + that seal's own blob. A blob that
 * does not start with 0x4D is an older single-seal blob (a pkcs11 blob starts
 * with its version byte 1, a transit blob with 'T'): it is tried with every
 * member in priority order, and reported as needing a rewrap.
 */
import { TresorError } from '../core/errors.ts';
import type { Logger } from '../logger.ts';
import type { KeyInfo, SealBackendStatus, SealHealth, SealWrapper } from './seal.ts';

const MAGIC = 0x4d;
const VERSION = 1;

export interface MultiSealMember {
  name: string;
  type: string;
  priority: number;
  seal: SealWrapper & { ready: Promise<SealWrapper>; firstOutcome: Promise<'opened' | 'retrying'> };
}

interface Entry {
  name: string;
  blob: Buffer;
}

export function encodeMultiBlob(entries: Entry[]): Buffer {
  const parts: Buffer[] = [Buffer.from([MAGIC, VERSION, entries.length])];
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const head = Buffer.alloc(2 + name.length + 4);
    head.writeUInt16BE(name.length, 0);
    name.copy(head, 2);
    head.writeUInt32BE(e.blob.length, 2 + name.length);
    parts.push(head, e.blob);
  }
  return Buffer.concat(parts);
}

/** The entries of a multi-blob, or undefined for an older single-seal blob. */
export function decodeMultiBlob(bytes: Buffer): Entry[] | undefined {
  if (bytes.length === 0 || bytes[0] !== MAGIC) return undefined;
  const bad = () => new TresorError(400, 'multiseal: the wrapped blob is malformed');
  if (bytes.length < 3) throw bad();
  if (bytes[1] !== VERSION) throw new TresorError(400, `multiseal: wrapped blob version ${bytes[1]} is not supported`);
  const entries: Entry[] = [];
  let at = 3;
  for (let i = 0; i < bytes[2]; i++) {
    if (at + 2 > bytes.length) throw bad();
    const nameLen = bytes.readUInt16BE(at);
    at += 2;
    if (at + nameLen + 4 > bytes.length) throw bad();
    const name = bytes.subarray(at, at + nameLen).toString('utf8');
    at += nameLen;
    const len = bytes.readUInt32BE(at);
    at += 4;
    if (at + len > bytes.length) throw bad();
    entries.push({ name, blob: bytes.subarray(at, at + len) });
    at += len;
  }
  if (at !== bytes.length) throw bad();
  return entries;
}

export class MultiSeal implements SealWrapper {
  readonly type = 'multiseal';
  private readonly members: MultiSealMember[];
  readonly ready: Promise<SealWrapper>;
  readonly firstOutcome: Promise<'opened' | 'retrying'>;

  /**
   * A member whose stanza is wrong (or whose token is gone) is logged and
   * stays unhealthy; start-up fails only when every member fails that way.
   */
  constructor(
    members: MultiSealMember[],
    private readonly logger: Logger,
  ) {
    this.members = [...members].sort((a, b) => a.priority - b.priority);
    this.ready = anyOf(this.members.map((m) => m.seal.ready.then(() => this as SealWrapper)));
    this.ready.catch(() => {});
    for (const m of this.members) {
      m.seal.ready.catch((err) => this.logger.error(`seal: multiseal member "${m.name}" (seal "${m.type}") cannot be opened: ${(err as Error).message}`));
    }
    const sorted = this.members;
    this.firstOutcome = (async () => {
      const outcomes = await Promise.allSettled(sorted.map((m) => m.seal.firstOutcome));
      if (outcomes.some((o) => o.status === 'fulfilled' && o.value === 'opened')) return 'opened' as const;
      if (outcomes.some((o) => o.status === 'fulfilled')) return 'retrying' as const;
      throw (outcomes[0] as PromiseRejectedResult).reason;
    })();
    this.firstOutcome.catch(() => {});
  }

  /** Members that answer now, in priority order; all of them when none does. */
  private usable(): MultiSealMember[] {
    const healthy = this.members.filter((m) => m.seal.health().healthy);
    return healthy.length > 0 ? healthy : this.members;
  }

  async wrap(plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
    const targets = this.usable();
    const results = await Promise.allSettled(targets.map((m) => m.seal.wrap(plaintext, aad)));
    const entries: Entry[] = [];
    const failures: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') entries.push({ name: targets[i].name, blob: r.value });
      else failures.push(`${targets[i].name}: ${(r.reason as Error).message}`);
    });
    if (failures.length) this.logger.warn(`seal: multiseal wrap skipped ${failures.length} seal(s): ${failures.join('; ')}`);
    if (entries.length === 0) throw new TresorError(503, `multiseal: no seal could wrap (${failures.join('; ')})`);
    return encodeMultiBlob(entries);
  }

  async unwrap(blob: Buffer, aad?: Buffer): Promise<Buffer> {
    const entries = decodeMultiBlob(blob);
    const attempts: { member: MultiSealMember; blob: Buffer }[] = [];
    if (entries) {
      for (const m of this.members) {
        const e = entries.find((x) => x.name === m.name);
        if (e) attempts.push({ member: m, blob: e.blob });
      }
      if (attempts.length === 0) throw new TresorError(400, 'multiseal: the blob was wrapped by none of the configured seals');
    } else {
      const type = blob[0] === 0x54 ? 'transit' : 'pkcs11';
      for (const m of this.members) if (m.type === type) attempts.push({ member: m, blob });
      if (attempts.length === 0) throw new TresorError(400, `multiseal: the blob is a single ${type} seal blob and no ${type} seal is configured`);
    }
    // Healthy seals first, then the others in priority order.
    attempts.sort((a, b) => Number(b.member.seal.health().healthy) - Number(a.member.seal.health().healthy));
    const failures: string[] = [];
    let last: unknown;
    for (const a of attempts) {
      try {
        return await a.member.seal.unwrap(a.blob, aad);
      } catch (err) {
        last = err;
        failures.push(`${a.member.name}: ${(err as Error).message}`);
      }
    }
    const status = last instanceof TresorError ? last.status : 503;
    throw new TresorError(status, `multiseal: no seal could unwrap (${failures.join('; ')})`);
  }

  /**
   * True when the blob is an older single-seal blob, lacks a configured seal,
   * or a part is stale — but only while every seal is healthy, so a rewrap
   * never drops the part of a seal that is merely down.
   */
  needsRewrap(blob: Buffer): boolean {
    if (!this.members.every((m) => m.seal.health().healthy)) return false;
    const entries = decodeMultiBlob(blob);
    if (!entries) return true;
    for (const m of this.members) {
      const e = entries.find((x) => x.name === m.name);
      if (!e) return true;
      try {
        if (m.seal.needsRewrap(e.blob)) return true;
      } catch {
        return true;
      }
    }
    return entries.length !== this.members.length;
  }

  keyInfo(): KeyInfo {
    return { type: this.type, keyId: this.members.map((m) => `${m.name}=${m.seal.keyInfo().keyId}`).join(' ') };
  }

  async generateRandom(length: number): Promise<Buffer> {
    return this.usable()[0].seal.generateRandom(length);
  }

  health(): SealHealth {
    const states = this.members.map((m) => m.seal.health());
    if (states.every((s) => s.healthy)) return { healthy: true };
    const since = states.map((s) => s.unhealthySince).filter((s): s is string => !!s).sort()[0];
    return { healthy: false, unhealthySince: since, lastError: states.find((s) => !s.healthy)?.lastError };
  }

  backends(): SealBackendStatus[] {
    return this.members.map((m) => {
      const h = m.seal.health();
      return {
        name: m.name, type: m.type, priority: m.priority, healthy: h.healthy, ...(h.unhealthySince ? { unhealthy_since: h.unhealthySince } : {}),
        ...m.seal.keyInfo().details,
      };
    });
  }

  hasKey(): boolean {
    return this.members.some((m) => m.seal.hasKey?.() ?? true);
  }

  async waitOpen(timeoutMs = 3000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ready.then(() => {}, () => {}), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs).unref()))]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.members.map((m) => m.seal.close()));
  }
}

/** Resolves with the first to resolve; rejects once all reject. */
function anyOf<T>(promises: Promise<T>[]): Promise<T> {
  return new Promise((resolve, reject) => {
    let left = promises.length;
    if (left === 0) reject(new Error('no seals'));
    for (const p of promises) p.then(resolve, (err) => (--left === 0 ? reject(err) : undefined));
  });
}
