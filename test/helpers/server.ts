import { spawn, type ChildProcess, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './build.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The CLI every test spawns: it runs the compiled dist/, which is brought up to date with src/ right here. */
export const TRESOR_BIN = path.join(ROOT, 'bin', 'tresor');
ensureBuilt();

/** A free loopback port (bind :0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface ApiResponse {
  status: number;
  body: any;
}

/** A small Vault API client over fetch, for tests. */
export class Api {
  constructor(
    readonly addr: string,
    public token?: string,
  ) {}

  async call(method: string, apiPath: string, body?: unknown, token = this.token): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (token) headers['X-Vault-Token'] = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.addr}/v1/${apiPath}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, body: parsed };
  }

  get(p: string, token?: string) {
    return this.call('GET', p, undefined, token ?? this.token);
  }
  put(p: string, body: unknown = {}, token?: string) {
    return this.call('PUT', p, body, token ?? this.token);
  }
  post(p: string, body: unknown = {}, token?: string) {
    return this.call('POST', p, body, token ?? this.token);
  }
  delete(p: string, body?: unknown, token?: string) {
    return this.call('DELETE', p, body, token ?? this.token);
  }
  list(p: string, token?: string) {
    return this.call('GET', `${p}${p.includes('?') ? '&' : '?'}list=true`, undefined, token ?? this.token);
  }

  /** Writes an ACL policy (as this client's token) and asserts Vault's 204. */
  async writePolicy(name: string, text: string): Promise<void> {
    const res = await this.put(`sys/policies/acl/${name}`, { policy: text });
    assert.equal(res.status, 204, JSON.stringify(res.body));
  }

  /** Creates a token as `parent` and returns its auth block. */
  async createToken(body: Record<string, unknown>, parent = this.token, path = 'auth/token/create'): Promise<any> {
    const res = await this.post(path, body, parent);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.auth;
  }
}

export interface ServerOptions {
  /** HCL written to server.hcl; `{{PORT}}` and `{{DATA}}` are substituted. Default: file storage, Shamir seal. */
  config?: string;
  env?: NodeJS.ProcessEnv;
  /** Reuse a data directory (restart tests); default a new temp dir. */
  dir?: string;
  /** Extra CLI args (e.g. -dev). When given with dev, no config is written. */
  args?: string[];
  /** Resolve once this text appears in the output (default: the "server started" banner). */
  readyText?: string;
  /** Run the server with this file-descriptor limit (`ulimit -n`). */
  maxOpenFiles?: number;
  /** Listen on this port instead of a free one (restart a peer at the same address). */
  port?: number;
}

export const SHAMIR_FILE_CONFIG = `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
}
`;

/** The root token id given to servers from TestServer.startDev(). */
export const DEV_ROOT_TOKEN = 'root';

/** A real `tresor server` child process on a free loopback port. */
export class TestServer {
  output = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exited: Promise<void>;

  private constructor(
    readonly proc: ChildProcess,
    readonly dir: string,
    readonly port: number,
    readonly api: Api,
  ) {
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      }),
    );
    proc.stdout!.on('data', (d) => (this.output += d));
    proc.stderr!.on('data', (d) => (this.output += d));
  }

  static async start(opts: ServerOptions = {}): Promise<TestServer> {
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-it-'));
    const port = opts.port ?? (await freePort());
    const args = [...(opts.args ?? [])];
    if (!args.includes('-dev') || opts.config) {
      const cfg = (opts.config ?? SHAMIR_FILE_CONFIG).replaceAll('{{PORT}}', String(port)).replaceAll('{{DATA}}', path.join(dir, 'data'));
      fs.writeFileSync(path.join(dir, 'server.hcl'), cfg);
      args.unshift(`-config=${path.join(dir, 'server.hcl')}`);
    } else {
      args.push(`-dev-listen-address=127.0.0.1:${port}`);
    }
    const command = opts.maxOpenFiles === undefined ? [TRESOR_BIN, 'server', ...args] : ['/bin/sh', '-c', `ulimit -n ${opts.maxOpenFiles} && exec "$0" "$@"`, TRESOR_BIN, 'server', ...args];
    const proc = spawn(command[0], command.slice(1), { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new TestServer(proc, dir, port, new Api(`http://127.0.0.1:${port}`));
    await server.waitFor(opts.readyText ?? 'server started', 30_000);
    return server;
  }

  /** A `tresor server -dev` (in-memory, unsealed) whose `api` already carries its root token, {@link DEV_ROOT_TOKEN}. */
  static async startDev(): Promise<TestServer> {
    const server = await TestServer.start({ args: ['-dev', `-dev-root-token-id=${DEV_ROOT_TOKEN}`] });
    server.api.token = DEV_ROOT_TOKEN;
    return server;
  }

  /** Waits until `text` appears in the server's output. */
  async waitFor(text: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (this.exitInfo) throw new Error(`server exited (${JSON.stringify(this.exitInfo)}) before "${text}":\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}":\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Polls `fn` until it returns true. */
  async until(fn: () => Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get exitCode() {
    return this.exitInfo?.code;
  }

  async waitExit(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    if (!this.exitInfo) throw new Error('server did not exit');
    return this.exitInfo;
  }

  /** Graceful stop (SIGTERM). */
  async stop(): Promise<void> {
    if (this.exitInfo) return;
    this.proc.kill('SIGTERM');
    await this.waitExit();
  }

  /** Crash stop. */
  async kill(): Promise<void> {
    if (this.exitInfo) return;
    this.proc.kill('SIGKILL');
    await this.waitExit();
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `./bin/tresor ARGS` against `addr`, optionally feeding stdin. */
export function runCli(args: string[], opts: { addr?: string; token?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    delete env.VAULT_TOKEN;
    delete env.TRESOR_TOKEN;
    if (opts.addr) env.TRESOR_ADDR = opts.addr;
    if (opts.token) env.TRESOR_TOKEN = opts.token;
    env.TRESOR_TOKEN_FILE ??= path.join(os.tmpdir(), `tresor-token-${process.pid}`);
    const child = execFile(TRESOR_BIN, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}
