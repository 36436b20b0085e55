import type { StorageBackend } from './backend.ts';
import { badRequest } from '../core/errors.ts';

/** One write in an atomic batch; `value` is required for puts. */
export interface TxOp {
  op: 'put' | 'delete';
  key: string;
  value?: Buffer;
}

/** A backend that can apply several writes all-or-nothing. */
export interface TransactionalBackend extends StorageBackend {
  /**
   * Applies every op in order, atomically: after it resolves all are durable;
   * if it rejects none is visible. A put without a value rejects the batch.
   */
  transaction(ops: TxOp[]): Promise<void>;
}

/** Narrows a backend to one that supports atomic batches. */
export function isTransactional(backend: StorageBackend): backend is TransactionalBackend {
  return typeof (backend as Partial<TransactionalBackend>).transaction === 'function';
}

/** Checks a batch before any of it is applied, so a bad op cannot half-apply. */
export function validateOps(ops: TxOp[], assertKey: (key: string) => void): void {
  for (const op of ops) {
    assertKey(op.key);
    if (op.op === 'put') {
      if (!Buffer.isBuffer(op.value)) throw badRequest(`transaction put of "${op.key}" has no value`);
    } else if (op.op !== 'delete') {
      throw badRequest(`unknown transaction op "${String(op.op)}"`);
    }
  }
}
