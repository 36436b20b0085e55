import type { TestServer } from '../../test/helpers/server.ts';
import type { LoopOptions } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import { rateFigure, type Figure } from '../report.ts';
import { expectOk } from '../servers.ts';
import { loopNote } from './http-compare.ts';

/** A Prometheus server scrapes every 15 s or so; this scraper is far harsher, to make the cost visible. */
const SCRAPE_INTERVAL_MS = 100;
const KEYS = 100;

/**
 * The cost of telemetry: KV v1 reads (`GET /v1/mkv/k<n>`) with and without a
 * concurrent `GET /v1/sys/metrics?format=prometheus` every 100 ms, in the
 * same run on the same server; the ratio is with/without.
 */
export async function benchMetricsScrape(server: TestServer, rootToken: string, loop: LoopOptions): Promise<Figure[]> {
  const headers = { 'x-vault-token': rootToken };
  expectOk(await server.api.post('sys/mounts/mkv', { type: 'kv' }, rootToken), 'mount mkv');
  for (let i = 0; i < KEYS; i++) expectOk(await server.api.put(`mkv/k${i}`, { v: String(i) }, rootToken), 'kv write');
  const read = (seq: number): BenchRequest => ({ method: 'GET', path: `/v1/mkv/k${seq % KEYS}`, headers });

  const plain = await httpLoad({ ...loop, url: server.api.addr, request: read });

  let stop = false;
  let scrapes = 0;
  let scrapeMs = 0;
  let scrapeBytes = 0;
  const scraper = (async () => {
    while (!stop) {
      const start = performance.now();
      const res = await fetch(`${server.api.addr}/v1/sys/metrics?format=prometheus`, { headers });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`sys/metrics → HTTP ${res.status}: ${text.slice(0, 200)}`);
      scrapeMs += performance.now() - start;
      scrapeBytes = text.length;
      scrapes++;
      await new Promise((r) => setTimeout(r, SCRAPE_INTERVAL_MS));
    }
  })();
  let scraped;
  try {
    scraped = await httpLoad({ ...loop, url: server.api.addr, request: read });
  } finally {
    stop = true;
    await scraper;
  }
  const note = `${loopNote(scraped)}; ${scrapes} scrapes, mean ${(scrapeMs / Math.max(scrapes, 1)).toFixed(1)} ms, ${(scrapeBytes / 1024).toFixed(0)} KiB each`;
  return [
    rateFigure('metrics.kv.read.scraped', `KV read, sys/metrics scraped every ${SCRAPE_INTERVAL_MS} ms`, 'req/s', scraped.perSecond, { label: 'KV read, no scraper', value: plain.perSecond }, note),
  ];
}
