import { startBareHttp } from '../children.ts';
import type { LoopOptions, LoopResult } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import { rateFigure, type Figure } from '../report.ts';

/** "p50 1.2 ms, p99 4.5 ms" plus the error count and first error, when any. */
export function loopNote(result: LoopResult): string {
  const parts = [`p50 ${result.p50Ms.toFixed(2)} ms`, `p99 ${result.p99Ms.toFixed(2)} ms`];
  if (result.errors > 0 || result.firstError) parts.push(`${result.errors} errors (first: ${result.firstError})`);
  return parts.join(', ');
}

/** The bare-node ceiling for `request`: same method, path and body, answered with `responseBody`. */
export async function bareHttpRate(loop: LoopOptions, responseBody: string, request: (seq: number) => BenchRequest): Promise<number> {
  const bare = await startBareHttp(responseBody);
  try {
    return (await httpLoad({ ...loop, url: bare.url, request })).perSecond;
  } finally {
    await bare.stop();
  }
}

/**
 * Loads Tresor at `url` with `request`, then a bare node:http server that
 * answers with a body as long as Tresor's `sampleResponse`, and returns the
 * figure with the bare rate as its ceiling.
 */
export async function compareWithBareHttp(
  id: string,
  label: string,
  loop: LoopOptions,
  url: string,
  request: (seq: number) => BenchRequest,
  sampleResponse: string,
): Promise<Figure> {
  const result = await httpLoad({ ...loop, url, request });
  const bare = await bareHttpRate(loop, sampleResponse, request);
  return rateFigure(id, label, 'req/s', result.perSecond, { label: 'bare node http', value: bare }, loopNote(result));
}
