/** Small statistics helpers for benchmark samples (milliseconds). */

/** The q-quantile (0..1) of `samples` by nearest rank; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

/** Runs `fn` `count` times one after another and returns each run's duration in ms. */
export async function timeRuns(count: number, fn: () => Promise<unknown> | unknown): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn();
    durations.push(performance.now() - start);
  }
  return durations;
}
