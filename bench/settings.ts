import type { LoopOptions } from './closed-loop.ts';

/** Run-wide load settings; `BENCH_DURATION_MS` shortens or lengthens every counted window. */
export interface BenchSettings {
  /** HTTP figures: requests in flight at once. */
  http: LoopOptions;
  /** Seal and raw HSM figures use the same windows; concurrency is set per figure. */
  hsmWindow: Omit<LoopOptions, 'concurrency'>;
  /** Sealed→unsealed rounds timed for the Shamir unseal figure. */
  unsealRounds: number;
  /** Restarts timed for the auto-unseal figure (and cold raw opens for its ceiling). */
  autoUnsealRounds: number;
  /** Spawns of `tresor status` (and of `node -e 0` beside them) timed for the start-up figure. */
  startupRounds: number;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const durationMs = Number(env.BENCH_DURATION_MS ?? 3000);
  if (!Number.isInteger(durationMs) || durationMs < 100) throw new Error('BENCH_DURATION_MS must be an integer of at least 100');
  const window = { warmupMs: 500, durationMs };
  return { http: { ...window, concurrency: 32 }, hsmWindow: window, unsealRounds: 20, autoUnsealRounds: 3, startupRounds: 10 };
}
