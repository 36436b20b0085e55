import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StorageBackend } from './backend.ts';
import { assertValidKey, listingEntry, prefixSuccessor } from './keys.ts';
import { validateOps, type TransactionalBackend, type TxOp } from './transactional.ts';

/** Name of the SQLite database inside the configured directory. */
export const DATABASE_FILE = 'tresor.db';

export interface FileBackendOptions {
  /** Directory holding the database; created with mode 0700 if missing. */
  path: string;
}

/**
 * The durable embedded backend: one SQLite table `kv(key TEXT PRIMARY KEY,
 * value BLOB)` in WAL mode with `synchronous = FULL`, so every resolved put
 * has been fsynced and survives kill -9 or power loss.
 *
 * Group commit: writes made in the same turn of the event loop (concurrent
 * requests) are applied together in one transaction, so one fsync makes a
 * whole batch durable. A write's promise resolves only after its batch has
 * committed, so "resolved" always means "durable"; a failed batch rejects
 * every write in it.
 */
export class FileBackend implements TransactionalBackend {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], { value: Buffer }>;
  private readonly putStmt: Database.Statement<[string, Buffer]>;
  private readonly deleteStmt: Database.Statement<[string]>;
  private readonly rangeStmt: Database.Statement<[string, string], { key: string }>;
  private readonly openRangeStmt: Database.Statement<[string], { key: string }>;
  private readonly applyBatch: (ops: TxOp[]) => void;

  constructor(options: FileBackendOptions) {
    if (!options.path) throw new Error('file storage requires a "path" directory');
    fs.mkdirSync(options.path, { recursive: true, mode: 0o700 });
    const file = path.join(options.path, DATABASE_FILE);
    // Create the file ourselves so it never exists with umask-derived permissions;
    // SQLite gives its -wal and -shm files the same mode as the database.
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    fs.chmodSync(file, 0o600);

    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');

    this.getStmt = this.db.prepare('SELECT value FROM kv WHERE key = ?');
    this.putStmt = this.db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.deleteStmt = this.db.prepare('DELETE FROM kv WHERE key = ?');
    this.rangeStmt = this.db.prepare('SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key');
    this.openRangeStmt = this.db.prepare('SELECT key FROM kv WHERE key >= ? ORDER BY key');
    this.applyBatch = this.db.transaction((ops: TxOp[]) => {
      for (const op of ops) {
        if (op.op === 'put') this.putStmt.run(op.key, op.value!);
        else this.deleteStmt.run(op.key);
      }
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    assertValidKey(key);
    return this.getStmt.get(key)?.value;
  }

  // Each op is checked before it joins a group commit, so one bad write
  // cannot fail the other writes of its batch.
  async put(key: string, value: Buffer): Promise<void> {
    const ops: TxOp[] = [{ op: 'put', key, value }];
    validateOps(ops, assertValidKey);
    return this.enqueue(ops);
  }

  async delete(key: string): Promise<void> {
    const ops: TxOp[] = [{ op: 'delete', key }];
    validateOps(ops, assertValidKey);
    return this.enqueue(ops);
  }

  private pending: { ops: TxOp[]; waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> } | undefined;

  /** Queues ops for the next group commit (scheduled with setImmediate, after this turn's I/O). */
  private enqueue(ops: TxOp[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.pending) {
        this.pending = { ops: [], waiters: [] };
        setImmediate(() => this.flush());
      }
      this.pending.ops.push(...ops);
      this.pending.waiters.push({ resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = undefined;
    if (!batch) return;
    try {
      this.applyBatch(batch.ops);
    } catch (err) {
      for (const w of batch.waiters) w.reject(err);
      return;
    }
    for (const w of batch.waiters) w.resolve();
  }

  /**
   * Walks the primary-key index from `prefix` in key order. When a key lies
   * in a sub-folder, the folder is reported once and the scan re-seeks past
   * its whole subtree, so cost grows with the entries listed, not with
   * everything stored below them.
   */
  async list(prefix: string): Promise<string[]> {
    assertValidKey(prefix);
    const out: string[] = [];
    let from: string | undefined = prefix;
    const end = prefixSuccessor(prefix);
    while (from !== undefined) {
      const rows = end === undefined ? this.openRangeStmt.iterate(from) : this.rangeStmt.iterate(from, end);
      let resumeAt: string | undefined;
      for (const { key } of rows) {
        const entry = listingEntry(prefix, key);
        out.push(entry.name);
        if (entry.isFolder) {
          resumeAt = prefixSuccessor(prefix + entry.name);
          break; // leaving the loop closes the iterator
        }
      }
      from = resumeAt;
    }
    return out;
  }

  async transaction(ops: TxOp[]): Promise<void> {
    validateOps(ops, assertValidKey);
    return this.enqueue(ops);
  }

  async close(): Promise<void> {
    this.flush();
    if (this.db.open) this.db.close();
  }
}
