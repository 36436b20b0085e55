import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePortPair } from './ports.ts';

export const ETCD_BIN = process.env.TRESOR_TEST_ETCD ?? '/usr/bin/etcd';

/**
 * A real etcd (Debian's /usr/bin/etcd) on free loopback ports with its own
 * temporary data directory. `stop()` kills it and keeps the data (so
 * `start()` again is a restart); `destroy()` also removes the directory.
 * Tuned heartbeat/election so leases as short as 1 s are granted as asked.
 */
export class TestEtcd {
  readonly dataDir: string;
  clientPort = 0;
  peerPort = 0;
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  static async start(): Promise<TestEtcd> {
    const etcd = new TestEtcd(fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-etcd-')));
    [etcd.clientPort, etcd.peerPort] = await freePortPair();
    await etcd.start();
    return etcd;
  }

  get address(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts (or restarts) the process and waits until it answers /health. */
  async start(): Promise<void> {
    if (this.child) return;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.log = '';
    const child = spawn(
      ETCD_BIN,
      [
        '--name', 'tresor-test',
        '--data-dir', this.dataDir,
        '--listen-client-urls', this.address,
        '--advertise-client-urls', this.address,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `tresor-test=${peer}`,
        '--heartbeat-interval', '50',
        '--election-timeout', '500',
        '--log-level', 'error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env.ETCD_UNSUPPORTED_ARCH ?? '' } },
    );
    this.child = child;
    child.stdout!.on('data', (d) => (this.log += d));
    child.stderr!.on('data', (d) => (this.log += d));
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`etcd exited at start-up:\n${this.log.slice(-2000)}`);
      try {
        const res = await fetch(`${this.address}/health`);
        const body = (await res.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd did not become healthy within 20 s:\n${this.log.slice(-2000)}`);
  }

  /** Kills etcd (SIGKILL) and waits for it to exit; the data directory stays. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
