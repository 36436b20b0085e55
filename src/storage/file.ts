import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { StorageBackend } from './backend.ts';
import { assertValidKey, listingEntry, prefixSuccessor } from './keys.ts';
import { validateOps, type TransactionalBackend, type TxOp } from './transactional.ts';
import type { CommitReply, CommitRequest } from './file-writer.ts';

/** The writer thread's module beside this file: compiled (bin/tresor runs dist/), or TypeScript under tsx (tests). */
const RUNNING_TYPESCRIPT = import.meta.url.endsWith('.ts');
const WRITER_MODULE = new URL(RUNNING_TYPESCRIPT ? './file-writer.ts' : './file-writer.js', import.meta.url);

/** Starts the writer thread. Under tsx the worker does not inherit tsx's loader, so it registers it first. */
function startWriter(file: string): Worker {
  if (!RUNNING_TYPESCRIPT) return new Worker(WRITER_MODULE, { workerData: { file } });
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${tsx}).then(({ register }) => { register(); return import(${JSON.stringify(WRITER_MODULE.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: { file } });
}

interface Batch {
  id: number;
  ops: TxOp[];
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
}

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
 * Writes are committed by a writer thread (file-writer.ts) that owns the
 * writing connection, so a commit's fsync never blocks the event loop; reads
 * and listings use this thread's own connection, which sees every commit as
 * soon as it is acknowledged (WAL: each read starts from the latest commit).
 *
 * Group commit: writes queue while the writer is busy and go to it together
 * as the next transaction, so one fsync makes a whole batch durable (the
 * busier the server, the larger the batch). A write's promise resolves only
 * after its batch has committed, so "resolved" always means "durable"; a
 * failed batch rejects every write in it and leaves nothing of it visible.
 */
export class FileBackend implements TransactionalBackend {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], { value: Buffer }>;
  private readonly rangeStmt: Database.Statement<[string, string], { key: string }>;
  private readonly openRangeStmt: Database.Statement<[string], { key: string }>;
  private readonly writer: Worker;
  /** Writes waiting for the writer to finish the batch it has. */
  private queued: Batch | undefined;
  /** The batch the writer is committing. */
  private inFlight: Batch | undefined;
  private nextBatchId = 1;
  /** Set once the writer thread has died: every later write fails with it. */
  private writerFailure: Error | undefined;
  private closed = false;

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
    this.rangeStmt = this.db.prepare('SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key');
    this.openRangeStmt = this.db.prepare('SELECT key FROM kv WHERE key >= ? ORDER BY key');

    this.writer = startWriter(file);
    this.writer.unref(); // referenced only while a batch is in flight (see send)
    this.writer.on('message', (reply: CommitReply) => this.committed(reply));
    this.writer.on('error', (err) => this.writerDied(err));
    this.writer.on('exit', (code) => {
      if (!this.closed) this.writerDied(new Error(`the storage writer thread exited (code ${code})`));
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

  /** Queues ops for the next group commit: now if the writer is idle, else when it finishes its batch. */
  private enqueue(ops: TxOp[]): Promise<void> {
    if (this.writerFailure) return Promise.reject(this.writerFailure);
    if (this.closed) return Promise.reject(new Error('file storage is closed'));
    return new Promise((resolve, reject) => {
      if (!this.queued) {
        this.queued = { id: 0, ops: [], waiters: [] };
        // After this turn's I/O, so the writes of concurrent requests share one commit.
        if (!this.inFlight) setImmediate(() => this.sendQueued());
      }
      this.queued.ops.push(...ops);
      this.queued.waiters.push({ resolve, reject });
    });
  }

  private sendQueued(): void {
    if (this.inFlight || !this.queued) return;
    const batch = this.queued;
    this.queued = undefined;
    batch.id = this.nextBatchId++;
    this.inFlight = batch;
    this.writer.ref(); // a pending commit keeps the process alive until it is durable
    const request: CommitRequest = { id: batch.id, ops: batch.ops };
    this.writer.postMessage(request);
  }

  private committed(reply: CommitReply): void {
    const batch = this.inFlight;
    if (!batch || batch.id !== reply.id) return;
    this.inFlight = undefined;
    this.writer.unref();
    if (reply.error === undefined) for (const w of batch.waiters) w.resolve();
    else {
      const err = new Error(`file storage: commit failed: ${reply.error}`);
      for (const w of batch.waiters) w.reject(err);
    }
    if (this.queued) this.sendQueued();
    else this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  private writerDied(err: Error): void {
    this.writerFailure ??= new Error(`file storage: the writer thread failed: ${err.message}`);
    for (const batch of [this.inFlight, this.queued]) for (const w of batch?.waiters ?? []) w.reject(this.writerFailure);
    this.inFlight = this.queued = undefined;
    this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  private readonly idleWaiters: Array<() => void> = [];

  /** Resolves once every write made so far has committed (or failed). */
  private drained(): Promise<void> {
    if (!this.inFlight && !this.queued) return Promise.resolve();
    if (this.queued && !this.inFlight) this.sendQueued();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
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
    if (this.closed) return;
    await this.drained();
    this.closed = true;
    if (!this.writerFailure) {
      const exited = new Promise((resolve) => this.writer.once('exit', resolve));
      this.writer.ref(); // wait for the thread to close its connection and end
      this.writer.postMessage('close');
      await exited;
    }
    if (this.db.open) this.db.close();
  }
}
