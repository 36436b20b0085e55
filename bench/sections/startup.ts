import { spawn } from 'node:child_process';
import { TRESOR_BIN, type TestServer } from '../../test/helpers/server.ts';
import { latencyFigure, type Figure } from '../report.ts';
import { median, quantile } from '../stats.ts';

/** Start-up targets (docs/PERFORMANCE.md): a CLI command against a running server, and an HSM server until unsealed. */
export const STATUS_TARGET_MS = 100;
export const AUTO_UNSEAL_TARGET_MS = 1000;
const WARMUP_ROUNDS = 2;

export interface SpawnTiming {
  ms: number;
  code: number | null;
  stdout: string;
}

/** spawn() of `command` until its 'exit' (stdout collected, stderr ignored). */
export function timeSpawn(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<SpawnTiming> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ ms: performance.now() - started, code, stdout }));
  });
}

export interface NodeBaseline {
  label: string;
  /** Median ms of `node -e 0`, spawn → exit. */
  value: number;
}

export interface StartupResult {
  figure: Figure;
  /** The same `tresor status` times beside a bare Node process making the same one GET: the floor for any Node CLI. */
  againstOneRequest: Figure;
  /** The ceiling, for other start-up figures measured in the same run. */
  baseline: NodeBaseline;
}

/**
 * `tresor status` (the compiled CLI through bin/tresor, as a user runs it)
 * against an unsealed server, spawn until exit, `rounds` times; ceiling: a
 * bare `node -e 0` spawned the same way, the two alternating so that both
 * see the same machine.
 */
export async function benchCliStart(server: TestServer, rounds: number): Promise<StartupResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, TRESOR_ADDR: server.api.addr };
  delete env.VAULT_TOKEN;
  delete env.TRESOR_TOKEN;
  const status = async () => {
    const run = await timeSpawn(TRESOR_BIN, ['status'], env);
    if (run.code !== 0 || !/Sealed\s+false/.test(run.stdout)) throw new Error(`tresor status exited with ${run.code}: ${run.stdout}`);
    return run.ms;
  };
  const bare = async () => {
    const run = await timeSpawn(process.execPath, ['-e', '0']);
    if (run.code !== 0) throw new Error(`node -e 0 exited with ${run.code}`);
    return run.ms;
  };
  // One GET of sys/seal-status from a bare Node process, printing nothing: what `status` must do at least.
  const oneGet = `require('node:http').get(${JSON.stringify(`${server.api.addr}/v1/sys/seal-status`)}, { agent: false }, (r) => r.resume())`;
  const bareGet = async () => {
    const run = await timeSpawn(process.execPath, ['-e', oneGet]);
    if (run.code !== 0) throw new Error(`node -e <one GET> exited with ${run.code}`);
    return run.ms;
  };
  for (let i = 0; i < WARMUP_ROUNDS; i++) await status(), await bare(), await bareGet();
  const statusMs: number[] = [];
  const bareMs: number[] = [];
  const bareGetMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    statusMs.push(await status());
    bareMs.push(await bare());
    bareGetMs.push(await bareGet());
  }
  const oneRequest = { label: 'node -e <one http.get of sys/seal-status>, spawn → exit', value: median(bareGetMs) };
  const baseline = { label: 'node -e 0, spawn → exit', value: median(bareMs) };
  const note = `median of ${rounds}, p95 ${quantile(statusMs, 0.95).toFixed(1)} ms; target < ${STATUS_TARGET_MS} ms`;
  return {
    figure: latencyFigure('startup.cli.status', '`tresor status` (compiled CLI), spawn → exit', median(statusMs), baseline, note),
    againstOneRequest: latencyFigure('startup.cli.status-vs-request', '`tresor status` beside a bare Node GET', median(statusMs), oneRequest, `median of ${rounds}`),
    baseline,
  };
}

/** The HSM auto-unseal figure (process start → unsealed) again, beside `node -e 0` and its target. */
export function autoUnsealStartFigure(autoUnseal: Figure, baseline: NodeBaseline): Figure {
  return latencyFigure('startup.server.auto-unseal', 'tresor server (compiled, HSM seal), spawn → unsealed', autoUnseal.value, baseline, `${autoUnseal.note ?? ''}; target < ${AUTO_UNSEAL_TARGET_MS} ms`);
}
