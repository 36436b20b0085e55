import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROBE_MODULE = fileURLToPath(new URL('./instrument/loop-probe.mjs', import.meta.url));

export interface ProbeReading {
  /** Event-loop delay since the previous reading (monitorEventLoopDelay, 1 ms resolution). */
  p99Ms: number;
  maxMs: number;
  samples: number;
  rssBytes: number;
}

/**
 * Reads a server child's event-loop delay and RSS through the bench-only
 * preload (bench/instrument/loop-probe.mjs): start the server with env(),
 * then each read() covers the time since the one before.
 */
export class ProcessProbe {
  private readonly file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-probe-')), 'probe.json');
  private pid: number | undefined;

  /** Environment for the server under test (keeps any NODE_OPTIONS already set). */
  env(): NodeJS.ProcessEnv {
    const nodeOptions = [process.env.NODE_OPTIONS, `--import=${PROBE_MODULE}`].filter(Boolean).join(' ');
    return { NODE_OPTIONS: nodeOptions, TRESOR_BENCH_PROBE_FILE: this.file };
  }

  attach(pid: number | undefined): void {
    if (pid === undefined) throw new Error('the server under test has no pid');
    this.pid = pid;
  }

  async read(): Promise<ProbeReading> {
    if (this.pid === undefined) throw new Error('ProcessProbe.attach() first');
    fs.rmSync(this.file, { force: true });
    process.kill(this.pid, 'SIGUSR2');
    const deadline = Date.now() + 5000;
    while (!fs.existsSync(this.file)) {
      if (Date.now() > deadline) throw new Error(`the server did not answer the probe (pid ${this.pid})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return JSON.parse(fs.readFileSync(this.file, 'utf8')) as ProbeReading;
  }
}

/** Event-loop stalls must stay under this (issue: no stall over 20 ms under any background task). */
export const LOOP_STALL_TARGET_MS = 20;
/** Idle resident memory target. */
export const IDLE_RSS_TARGET_MB = 100;
export const megabytes = (bytes: number) => bytes / (1024 * 1024);
