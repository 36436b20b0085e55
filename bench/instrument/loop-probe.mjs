// Loaded into a server under test with NODE_OPTIONS=--import=<this file> (bench only, never shipped):
// on SIGUSR2 it writes the event-loop delay seen since the last signal, and the RSS, as JSON to
// $TRESOR_BENCH_PROBE_FILE, then starts a fresh histogram. Plain JavaScript: the server runs compiled code.
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.TRESOR_BENCH_PROBE_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  process.on('SIGUSR2', () => {
    const ms = (ns) => ns / 1e6;
    const report = {
      p99Ms: ms(histogram.percentile(99)),
      maxMs: ms(histogram.max),
      samples: histogram.count,
      rssBytes: process.memoryUsage.rss(),
    };
    histogram.reset();
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(report));
    fs.renameSync(`${file}.tmp`, file);
  });
}
