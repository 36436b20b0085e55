import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Etcd3, IOptions, IRequestOp as RequestOp } from 'etcd3';
import type { StorageOptions } from './backend.ts';
import { assertValidKey, compareKeys, listingEntry } from './keys.ts';
import { validateOps, type TransactionalBackend, type TxOp } from './transactional.ts';
import { badRequest, TresorError } from '../core/errors.ts';
import { parseDurationMs } from '../config/duration.ts';

/**
 * Storage on etcd v3 (Vault's `storage "etcd"` with etcd_api = "v3").
 *
 * Every entry is one etcd key, `<path><key>`, its value the raw bytes.
 * Writes resolve only after etcd answers, i.e. after the Raft commit. A
 * transaction is one etcd Txn. With HA, the HA layer sets a write guard:
 * while this node is the active one every write is a Txn whose compare
 * checks that the leader key still has the create revision this node wrote,
 * so a node that lost its lease (paused, partitioned) can never overwrite
 * the data of the node that took over.
 */

/** etcd's default --max-request-bytes (1.5 MiB). */
export const ETCD_DEFAULT_MAX_REQUEST_BYTES = 1536 * 1024;
/** Room left in a request for the key, the Txn envelope and gRPC framing. */
const REQUEST_OVERHEAD_BYTES = 2048;
/** etcd's default --max-txn-ops. */
export const ETCD_MAX_TXN_OPS = 128;

export interface EtcdOptions {
  addresses: string[];
  /** Key prefix for every entry; ends in "/". */
  path: string;
  haEnabled: boolean;
  requestTimeoutMs: number;
  /** The HA lock's lease TTL (Vault's lock_timeout); whole seconds, at least 1. */
  lockTtlSeconds: number;
  username?: string;
  password?: string;
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  maxRequestBytes: number;
  maxReceiveBytes?: number;
}

/** What a write must satisfy: anything (sealed, not yet in HA), nothing (a standby), or the leader fence. */
export type WriteGuard =
  | { mode: 'open' }
  | { mode: 'closed'; reason: string }
  | { mode: 'fenced'; leaderKey: Buffer; createRevision: string; onLost: () => void; isValid?: () => boolean };

export { ETCD_OPTION_KEYS } from './etcd-options.ts';

/**
 * Reads the stanza plus the environment overrides Vault documents for etcd
 * (ETCD_ADDR, ETCD_HA_ENABLED, ETCD_USERNAME, ETCD_PASSWORD,
 * ETCD_DISCOVERY_SRV...), which win over the file as in Vault.
 */
export function etcdOptionsFrom(options: StorageOptions, env: NodeJS.ProcessEnv = process.env): EtcdOptions {
  const str = (key: string): string | undefined => {
    const v = options[key];
    return v === undefined || v === '' ? undefined : String(v);
  };
  const address = env.ETCD_ADDR?.trim() || str('address') || 'http://localhost:2379';
  if (env.ETCD_DISCOVERY_SRV || str('discovery_srv')) {
    throw badRequest('storage "etcd": discovery_srv is not supported by Tresor; list the members in "address"');
  }
  const api = str('etcd_api');
  if (api !== undefined && api !== 'v3' && api !== '3') throw badRequest('storage "etcd": etcd_api must be "v3" (the v2 API is not supported)');
  const addresses = address.split(',').map((a) => a.trim()).filter(Boolean);
  for (const a of addresses) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(a)) throw badRequest('storage "etcd": address must be a comma-separated list of URLs (ex. "http://127.0.0.1:2379")');
  }
  let path = str('path') ?? '/vault/';
  if (!path.endsWith('/')) path += '/';
  const haRaw = env.ETCD_HA_ENABLED?.trim() || str('ha_enabled') || 'false';
  const haEnabled = parseBool(haRaw, 'ha_enabled');
  const ms = (key: string, dflt: number) => {
    const raw = str(key);
    if (raw === undefined) return dflt;
    try {
      const value = parseDurationMs(raw);
      if (!(value > 0)) throw new Error('not positive');
      return value;
    } catch {
      throw badRequest(`storage "etcd": ${key} must be a positive duration such as "5s"`);
    }
  };
  const lockMs = ms('lock_timeout', 2000);
  const int = (key: string): number | undefined => {
    const raw = str(key);
    if (raw === undefined) return undefined;
    if (!/^[1-9]\d*$/.test(raw)) throw badRequest(`storage "etcd": ${key} must be a positive integer (bytes)`);
    return Number(raw);
  };
  return {
    addresses,
    path,
    haEnabled,
    requestTimeoutMs: ms('request_timeout', 5000),
    lockTtlSeconds: Math.max(1, Math.ceil(lockMs / 1000)),
    username: env.ETCD_USERNAME || str('username'),
    password: env.ETCD_PASSWORD || str('password'),
    tlsCaFile: str('tls_ca_file'),
    tlsCertFile: str('tls_cert_file'),
    tlsKeyFile: str('tls_key_file'),
    maxRequestBytes: int('max_request_bytes') ?? ETCD_DEFAULT_MAX_REQUEST_BYTES,
    maxReceiveBytes: int('max_receive_size'),
  };
}

function parseBool(raw: string, key: string): boolean {
  const v = raw.toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw badRequest(`storage "etcd": ${key} must be "true" or "false"`);
}

/** The smallest byte string greater than every string starting with `prefix` (etcd's prefix range end). */
export function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export class EtcdBackend implements TransactionalBackend {
  readonly client: Etcd3;
  readonly options: EtcdOptions;
  private readonly prefix: Buffer;
  private guard: WriteGuard = { mode: 'open' };
  private closed = false;

  constructor(options: EtcdOptions) {
    this.options = options;
    this.prefix = Buffer.from(options.path, 'utf8');
    const cfg: IOptions = {
      hosts: options.addresses,
      dialTimeout: options.requestTimeoutMs,
      // Retries are ours to decide (a write must not be applied twice behind the caller's back).
      faultHandling: {},
    };
    const tls = options.addresses.some((a) => a.startsWith('https://'));
    if (tls || options.tlsCaFile) {
      cfg.credentials = {
        rootCertificate: readFile(options.tlsCaFile ?? '/etc/ssl/certs/ca-certificates.crt', 'tls_ca_file'),
        ...(options.tlsCertFile ? { certChain: readFile(options.tlsCertFile, 'tls_cert_file') } : {}),
        ...(options.tlsKeyFile ? { privateKey: readFile(options.tlsKeyFile, 'tls_key_file') } : {}),
      };
    }
    if (options.username) cfg.auth = { username: options.username, password: options.password ?? '' };
    const receive = options.maxReceiveBytes ?? Math.max(options.maxRequestBytes * 2, 4 * 1024 * 1024);
    cfg.grpcOptions = { 'grpc.max_receive_message_length': receive, 'grpc.max_send_message_length': options.maxRequestBytes + 64 * 1024 };
    // Loaded on first use so servers on other storage never load gRPC.
    const { Etcd3: Client } = createRequire(import.meta.url)('etcd3') as typeof import('etcd3');
    this.client = new Client(cfg);
  }

  get haEnabled(): boolean {
    return this.options.haEnabled;
  }

  /** The full etcd key for a storage key. */
  etcdKey(key: string): Buffer {
    return Buffer.concat([this.prefix, Buffer.from(key, 'utf8')]);
  }

  /** Call options with the configured request deadline. */
  callOptions(timeoutMs = this.options.requestTimeoutMs) {
    return { deadline: Date.now() + timeoutMs };
  }

  setWriteGuard(guard: WriteGuard): void {
    this.guard = guard;
  }

  get writeGuard(): WriteGuard {
    return this.guard;
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.check(key);
    const res = await this.call(() => this.client.kv.range({ key: this.etcdKey(key) }, this.callOptions()));
    const kv = res.kvs[0];
    return kv ? Buffer.from(kv.value) : undefined;
  }

  async put(key: string, value: Buffer): Promise<void> {
    this.check(key);
    this.checkSize([{ op: 'put', key, value }]);
    await this.write([{ request_put: { key: this.etcdKey(key), value: Buffer.from(value) } }]);
  }

  async delete(key: string): Promise<void> {
    this.check(key);
    await this.write([{ request_delete_range: { key: this.etcdKey(key) } }]);
  }

  async list(prefix: string): Promise<string[]> {
    this.check(prefix);
    const start = this.etcdKey(prefix);
    const res = await this.call(() =>
      this.client.kv.range({ key: start, range_end: rangeEnd(start), keys_only: true }, this.callOptions()),
    );
    const names = new Set<string>();
    for (const kv of res.kvs) {
      const key = kv.key.subarray(this.prefix.length).toString('utf8');
      names.add(listingEntry(prefix, key).name);
    }
    return [...names].sort(compareKeys);
  }

  async transaction(ops: TxOp[]): Promise<void> {
    this.ensureOpen();
    validateOps(ops, assertValidKey);
    if (ops.length > ETCD_MAX_TXN_OPS) {
      throw badRequest(`transaction of ${ops.length} operations exceeds etcd's limit of ${ETCD_MAX_TXN_OPS}`);
    }
    this.checkSize(ops);
    if (ops.length === 0) return;
    await this.write(
      ops.map((op) =>
        op.op === 'put'
          ? { request_put: { key: this.etcdKey(op.key), value: Buffer.from(op.value!) } }
          : { request_delete_range: { key: this.etcdKey(op.key) } },
      ),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }

  /** One Txn: unconditional unless the guard fences it with the leader key. */
  private async write(success: RequestOp[]): Promise<void> {
    const guard = this.guard;
    if (guard.mode === 'closed') throw new TresorError(503, guard.reason);
    if (guard.mode === 'open') {
      await this.call(() => this.client.kv.txn({ compare: [], success, failure: [] }, this.callOptions()));
      return;
    }
    // The local lease clock first: a node that cannot vouch for its lease does not even try.
    if (guard.isValid && !guard.isValid()) {
      guard.onLost();
      throw new TresorError(503, 'this node is no longer the active node; the write was not applied');
    }
    const res = await this.call(() =>
      this.client.kv.txn(
        {
          compare: [{ key: guard.leaderKey, target: 'Create', result: 'Equal', create_revision: guard.createRevision }],
          success,
          failure: [],
        } as never,
        this.callOptions(),
      ),
    );
    if (!res.succeeded) {
      guard.onLost();
      throw new TresorError(503, 'this node is no longer the active node; the write was not applied');
    }
  }

  /** Refuses writes that etcd would reject for size, before anything is sent. */
  private checkSize(ops: TxOp[]): void {
    const limit = this.options.maxRequestBytes - REQUEST_OVERHEAD_BYTES;
    let total = 0;
    for (const op of ops) {
      const bytes = this.prefix.length + Buffer.byteLength(op.key, 'utf8') + (op.value?.length ?? 0);
      total += bytes;
      if (bytes > limit) {
        throw new TresorError(413, `storage entry too large: ${op.value?.length ?? 0} bytes is over the etcd request limit of ${limit} bytes per entry`);
      }
    }
    if (total > limit) {
      throw new TresorError(413, `storage transaction too large: ${total} bytes is over the etcd request limit of ${limit} bytes`);
    }
  }

  /** Runs one etcd call, turning client errors into Tresor's (503 when etcd cannot be reached). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.ensureOpen();
    try {
      return await fn();
    } catch (err) {
      throw etcdError(err);
    }
  }

  private check(key: string): void {
    this.ensureOpen();
    assertValidKey(key);
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('storage backend is closed');
  }
}

function readFile(file: string, option: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw badRequest(`storage "etcd": cannot read ${option}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Maps an etcd3/gRPC error onto a TresorError; its text names etcd, never a value. */
export function etcdError(err: unknown): Error {
  if (err instanceof TresorError) return err;
  const message = (err as Error)?.message ?? String(err);
  if (/request is too large|larger than max|message larger/i.test(message)) {
    return new TresorError(413, 'storage entry too large for etcd: the request was refused and nothing was written');
  }
  if (/too many operations in txn/i.test(message)) return badRequest(`etcd refused the transaction: ${message}`);
  if (/authentication failed|invalid auth token|permission denied|user name is empty/i.test(message)) {
    return new TresorError(500, `etcd refused the credentials: ${message}`);
  }
  return new TresorError(503, `etcd is unavailable: ${message.split('\n')[0]}`);
}
