/**
 * scripts/quickstart.sh as a child process (its own process group, so the
 * server it starts goes with it), with TRESOR_HOME in a temp dir and
 * TRESOR_LISTEN on a free port; TRESOR_SKIP_INSTALL=1 because the tests run
 * with everything installed. It creates its own SoftHSM2 token under
 * TRESOR_HOME. Checked: the first run initialises and writes init.json, a
 * second run auto-unseals and leaves it alone, a second quick start while
 * one runs is refused, an address held by another listener is refused before
 * anything is written or sent, and a server that cannot start never leaves
 * an init.json behind.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Api, freePort, ROOT } from './helpers/server.ts';

const SCRIPT = path.join(ROOT, 'scripts', 'quickstart.sh');
const READY = '==> export TRESOR_ADDR=';

class QuickStart {
  output = '';
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;

  constructor(readonly proc: ChildProcess) {
    proc.stdout!.on('data', (d) => (this.output += d));
    proc.stderr!.on('data', (d) => (this.output += d));
    this.exited = once(proc, 'exit').then(([code]) => (this.exitCode = code as number | null));
  }

  static run(home: string, listen: string, env: NodeJS.ProcessEnv = {}): QuickStart {
    const base = { ...process.env };
    for (const name of Object.keys(base)) if (/^(VAULT_|TRESOR_|SOFTHSM2_CONF$)/.test(name)) delete base[name];
    const proc = spawn(SCRIPT, [], {
      env: { ...base, TRESOR_SKIP_INSTALL: '1', TRESOR_HOME: home, TRESOR_LISTEN: listen, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new QuickStart(proc);
  }

  /** Resolves once the script printed its last line (the server is up and initialised), or throws if it exits. */
  async ready(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(READY)) {
      if (this.exitCode !== undefined) throw new Error(`quickstart exited with ${this.exitCode}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`quickstart not ready after ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves with the exit code of a run expected to end by itself. */
  async finished(timeoutMs = 90_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`quickstart still running:\n${this.output}`)), timeoutMs)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM to the script's process group (the script and its server), then waits for the script. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    try {
      process.kill(-this.proc.pid!, 'SIGTERM');
    } catch {
      // Already gone.
    }
    await this.exited;
  }
}

async function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('scripts/quickstart.sh', () => {
  const dirs: string[] = [];
  const runs: QuickStart[] = [];
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-quickstart-'));
    dirs.push(dir);
    return dir;
  };
  const start = (home: string, listen: string, env?: NodeJS.ProcessEnv) => {
    const run = QuickStart.run(home, listen, env);
    runs.push(run);
    return run;
  };
  after(async () => {
    for (const run of runs) await run.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('initialises on the first run, auto-unseals on the second, and never rewrites init.json', async () => {
    const home = path.join(tempDir(), 'home');
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    const api = new Api(`http://${listen}`);

    const first = start(home, listen);
    await first.ready();
    assert.match(first.output, /==> initialising with 1 recovery key/);
    const initFile = path.join(home, 'init.json');
    assert.equal(fs.statSync(initFile).mode & 0o777, 0o600);
    const initText = fs.readFileSync(initFile, 'utf8');
    const init = JSON.parse(initText);
    assert.match(init.root_token, /^hvs\./);
    assert.equal(init.recovery_keys_b64.length, 1);
    assert.equal((await api.get('sys/seal-status')).body.sealed, false);
    assert.equal((await api.get('auth/token/lookup-self', init.root_token)).status, 200);
    // The web UI is on (ui = true) and its address is printed.
    assert.ok(first.output.includes(`==> web UI: http://${listen}/ui/`));
    const ui = await fetch(`http://${listen}/ui/`);
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-security-policy') ?? '', /default-src 'none'/);

    // While it runs, another quick start on the same state directory (or the same address) is refused.
    const again = start(home, listen);
    assert.equal(await again.finished(), 1);
    assert.match(again.output, /still running on/);
    const otherHome = path.join(tempDir(), 'home');
    const samePort = start(otherHome, listen);
    assert.equal(await samePort.finished(), 1);
    assert.match(samePort.output, new RegExp(`${listen} is already in use`));
    assert.equal(fs.existsSync(otherHome), false);

    await first.stop();
    assert.equal(await portAnswers(port), false, 'the server stopped with the script');
    const mtime = fs.statSync(initFile).mtimeMs;

    const second = start(home, listen);
    await second.ready();
    assert.match(second.output, /==> already initialised; auto-unsealing through the HSM/);
    assert.doesNotMatch(second.output, /initialising with/);
    const deadline = Date.now() + 15_000;
    while ((await api.get('sys/seal-status')).body.sealed !== false) {
      assert.ok(Date.now() < deadline, `not auto-unsealed:\n${second.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(fs.readFileSync(initFile, 'utf8'), initText);
    assert.equal(fs.statSync(initFile).mtimeMs, mtime);
    assert.equal((await api.get('auth/token/lookup-self', init.root_token)).status, 200);
    assert.deepEqual(
      fs.readdirSync(home).filter((f) => f.startsWith('init.json')),
      ['init.json'],
    );
    await second.stop();
  });

  it('refuses an address another listener holds: a clear message, nothing written, nothing sent to it', async () => {
    let connections = 0;
    const other = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as net.AddressInfo;
    try {
      const home = path.join(tempDir(), 'home');
      const run = start(home, `127.0.0.1:${port}`);
      assert.equal(await run.finished(), 1, run.output);
      assert.match(run.output, new RegExp(`127\\.0\\.0\\.1:${port} is already in use by another process`));
      assert.match(run.output, /nothing was written/);
      assert.match(run.output, /TRESOR_LISTEN=\S+ TRESOR_HOME=\S+ \.\/scripts\/quickstart\.sh/);
      assert.equal(fs.existsSync(home), false, 'TRESOR_HOME was not created');
      assert.equal(connections, 0, 'the other listener was never contacted');
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('writes no init.json when its server cannot start', async () => {
    const home = path.join(tempDir(), 'home');
    const port = await freePort();
    // The seal cannot open a token of that label: the server stops after binding.
    const run = start(home, `127.0.0.1:${port}`, { VAULT_HSM_TOKEN_LABEL: 'no-such-token' });
    assert.equal(await run.finished(), 1, run.output);
    assert.match(run.output, /init\.json was not written/);
    assert.deepEqual(
      fs.readdirSync(home).filter((f) => f.startsWith('init.json')),
      [],
    );
  });
});
