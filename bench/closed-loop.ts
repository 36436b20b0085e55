import { quantile } from './stats.ts';

export interface LoopOptions {
  /** Operations kept in flight at once (one async worker each). */
  concurrency: number;
  /** Run but do not count for this long first (JIT, caches, connection set-up). */
  warmupMs: number;
  /** Length of the counted window after the warm-up. */
  durationMs: number;
}

export interface LoopResult {
  /** Successful operations that completed inside the counted window. */
  ops: number;
  /** Failed operations that completed inside the counted window. */
  errors: number;
  /** Operations started in total, warm-up and tail included (their `seq` ran 0..issued-1). */
  issued: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Message of the first failure seen anywhere in the run. */
  firstError?: string;
}

/**
 * A closed-loop driver: `concurrency` workers each start the next operation
 * as soon as their previous one settles, so the system is never offered more
 * than it can take (no coordinated-omission backlog, no open-loop queueing).
 * An operation counts when it *completes* inside the window; work started
 * before the window ends is awaited but not counted.
 *
 * `op(worker, seq)` gets the worker index (0..concurrency-1, e.g. to pick a
 * session) and a run-wide sequence number; throwing marks it failed.
 */
export async function closedLoop(options: LoopOptions, op: (worker: number, seq: number) => Promise<unknown>): Promise<LoopResult> {
  const windowStart = performance.now() + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  let firstError: string | undefined;

  const worker = async (index: number) => {
    for (;;) {
      const started = performance.now();
      if (started >= windowEnd) return;
      let failed = false;
      try {
        await op(index, issued++);
      } catch (err) {
        failed = true;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      const finished = performance.now();
      if (finished < windowStart || finished >= windowEnd) continue;
      if (failed) errors++;
      else latencies.push(finished - started);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));

  return {
    ops: latencies.length,
    errors,
    issued,
    perSecond: latencies.length / (options.durationMs / 1000),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    firstError,
  };
}
