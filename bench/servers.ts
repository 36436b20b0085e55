import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { Api, TestServer, TRESOR_BIN, type ApiResponse } from '../test/helpers/server.ts';
import { SOFTHSM_LIB, type SoftHsmToken } from '../test/helpers/softhsm.ts';

/** Throws unless `res` has `status` (default any 2xx); the message carries the API's error text. */
export function expectOk(res: ApiResponse, what: string, status?: number): ApiResponse {
  const ok = status === undefined ? res.status >= 200 && res.status < 300 : res.status === status;
  if (!ok) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body?.errors ?? res.body)}`);
  return res;
}

/** The HSM-sealed bench server's seal: AES-GCM key "bench-root" on `token`; the PIN goes in through VAULT_HSM_PIN. */
export const HSM_KEY_LABEL = 'bench-root';

export function hsmServerConfig(token: SoftHsmToken, maxParallel: number): string {
  return `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
}
seal "pkcs11" {
  lib          = "${SOFTHSM_LIB}"
  token_label  = "${token.label}"
  key_label    = "${HSM_KEY_LABEL}"
  generate_key = "true"
  max_parallel = ${maxParallel}
}
`;
}

/**
 * `PUT sys/init` with recovery shares on an HSM-sealed server, retried while
 * the seal is still opening (503) after the banner; returns the root token
 * and makes it the API's token.
 */
export async function initHsmServer(server: TestServer, shares: number, threshold: number): Promise<string> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const res = await server.api.put('sys/init', { recovery_shares: shares, recovery_threshold: threshold });
    if (res.status !== 503 || performance.now() > deadline) {
      server.api.token = expectOk(res, 'sys/init').body.root_token as string;
      return server.api.token;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const hsmServerEnv = (token: SoftHsmToken): NodeJS.ProcessEnv => ({ ...token.env, VAULT_HSM_PIN: token.pin });

/** Stops a TestServer (SIGTERM, then SIGKILL if it lingers) and removes its directory. */
export async function discard(server: TestServer | undefined): Promise<void> {
  if (!server) return;
  await server.stop().catch(() => server.kill());
  server.cleanup();
}

export interface AutoUnsealTiming {
  /** spawn() of `tresor server` until seal-status first says sealed:false. */
  startToUnsealedMs: number;
  /** The "server started" banner on stdout until sealed:false. */
  bannerToUnsealedMs: number;
}

const SEAL_STATUS_POLL_MS = 2;

/**
 * Restarts a stopped server from its own directory (same server.hcl, same
 * port) and times how long auto-unseal takes, then stops it again. Timing
 * needs the banner's arrival to the millisecond, which TestServer's 50 ms
 * output polling cannot give, hence a direct spawn.
 */
export async function timeAutoUnseal(stopped: TestServer, env: NodeJS.ProcessEnv): Promise<AutoUnsealTiming> {
  const started = performance.now();
  const proc = spawn(TRESOR_BIN, ['server', `-config=${path.join(stopped.dir, 'server.hcl')}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(proc, 'exit');
  proc.stderr.resume();
  try {
    const bannerAt = await new Promise<number>((resolve, reject) => {
      let output = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('server started')) resolve(performance.now());
      });
      proc.once('exit', (code) => reject(new Error(`tresor server exited with ${code} before its banner`)));
    });
    proc.stdout.resume();
    const api = new Api(`http://127.0.0.1:${stopped.port}`);
    while ((await api.get('sys/seal-status')).body?.sealed !== false) {
      if (performance.now() - started > 60_000) throw new Error('auto-unseal did not finish within 60 s');
      await new Promise((r) => setTimeout(r, SEAL_STATUS_POLL_MS));
    }
    const unsealedAt = performance.now();
    return { startToUnsealedMs: unsealedAt - started, bannerToUnsealedMs: unsealedAt - bannerAt };
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}
