/**
 * The file backend's writer thread: owns the SQLite connection that writes,
 * so each commit and its fsync (synchronous = FULL) block this thread, not
 * the server's event loop. Receives batches from FileBackend, applies each as
 * one transaction, and answers with its id once it is durable.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { TxOp } from './transactional.ts';

export interface CommitRequest {
  id: number;
  ops: TxOp[];
}

export interface CommitReply {
  id: number;
  /** Set when the batch did not commit (nothing of it is visible); the message names no value. */
  error?: string;
}

if (parentPort) {
  const port = parentPort;
  const db = new Database((workerData as { file: string }).file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const put = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  const del = db.prepare('DELETE FROM kv WHERE key = ?');
  const apply = db.transaction((ops: TxOp[]) => {
    for (const op of ops) {
      if (op.op === 'put') put.run(op.key, Buffer.from(op.value!.buffer, op.value!.byteOffset, op.value!.byteLength));
      else del.run(op.key);
    }
  });
  port.on('message', (req: CommitRequest | 'close') => {
    if (req === 'close') {
      db.close();
      port.close();
      return;
    }
    let reply: CommitReply = { id: req.id };
    try {
      apply(req.ops);
    } catch (err) {
      reply = { id: req.id, error: (err as Error).message };
    }
    port.postMessage(reply);
  });
}
