import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { EtcdBackend } from '../../storage/etcd.ts';
import { rangeEnd } from '../../storage/etcd.ts';
import type { Logger } from '../../logger.ts';

/**
 * Leader election on etcd. An unsealed node campaigns: it grants a lease
 * (TTL = the storage's lock_timeout) and creates the leader key under it
 * in a Txn that succeeds only if the key does not exist. The winner fences
 * every storage write with the key's create revision (EtcdBackend's write
 * guard) and keeps the lease alive; it steps down by itself as soon as it
 * cannot confirm a renewal within the TTL (measured from when the renewal
 * was sent, a lower bound of the lease's expiry at etcd), so it stops
 * writing before etcd could hand the key to another node. Standbys watch
 * the key (and poll it, in case the watch is down) and campaign when it is
 * deleted or expires.
 *
 * Every node also keeps a presence entry (`nodes/<id>`) on a lease of its
 * own, refreshed every second, which sys/ha-status lists.
 */

export interface HaNodeInfo {
  node_id: string;
  hostname: string;
  api_address: string;
  cluster_address: string;
  version: string;
  /** ISO time the node became active (leader key only). */
  active_time?: string;
  /** ISO time of the presence entry's last refresh. */
  last_echo?: string;
}

/** What the coordinator drives in the core. */
export interface HaCore {
  /** Loads keyring, seal config, mounts, policies and tokens from storage and starts serving. */
  becomeActive(): Promise<void>;
  /** Stops serving (drops every cached state); the barrier stays unsealed. */
  becomeStandby(): Promise<void>;
}

export type HaRole = 'off' | 'standby' | 'active';

export interface HaOptions {
  backend: EtcdBackend;
  apiAddr: string;
  clusterAddr: string;
  version: string;
  logger: Logger;
  /** How long a node that stepped down waits before campaigning again; default 10 s. */
  stepDownWaitMs?: number;
}

export class HaCoordinator {
  readonly nodeId = randomUUID();
  readonly backend: EtcdBackend;
  readonly info: HaNodeInfo;
  readonly ttlSeconds: number;
  private readonly logger: Logger;
  private readonly leaderKey: Buffer;
  private readonly nodesPrefix: Buffer;
  private readonly stepDownWaitMs: number;
  private core: HaCore | undefined;
  private campaigning = false;
  /** Bumped by every start(): a loop from before a seal/unseal cycle ends instead of running twice. */
  private generation = 0;
  private roleNow: HaRole = 'off';
  private activeSince: Date | undefined;
  private leaderCache: { info: HaNodeInfo; createRevision: string } | undefined;
  private wake: (() => void) | undefined;
  private notBefore = 0;
  private lostActive: (() => void) | undefined;
  private presenceTimer: NodeJS.Timeout | undefined;
  private presenceLease: string | undefined;
  private watcher: { cancel(): Promise<void> } | undefined;
  /** Last error talking to etcd, for status reports; cleared on success. */
  lastError: string | undefined;

  constructor(opts: HaOptions) {
    this.backend = opts.backend;
    this.logger = opts.logger;
    this.ttlSeconds = opts.backend.options.lockTtlSeconds;
    this.stepDownWaitMs = opts.stepDownWaitMs ?? 10_000;
    const base = opts.backend.options.path.replace(/\/+$/, '');
    this.leaderKey = Buffer.from(`${base}.ha/leader`);
    this.nodesPrefix = Buffer.from(`${base}.ha/nodes/`);
    this.info = {
      node_id: this.nodeId,
      hostname: os.hostname(),
      api_address: opts.apiAddr,
      cluster_address: opts.clusterAddr,
      version: opts.version,
    };
    // Until the node is unsealed and campaigning, nothing guards writes (init, unseal).
    this.backend.setWriteGuard({ mode: 'open' });
  }

  /** The addresses other nodes and clients are sent to (known once the listener is up). */
  setAddresses(apiAddr: string, clusterAddr: string): void {
    this.info.api_address = apiAddr;
    this.info.cluster_address = clusterAddr;
  }

  attach(core: HaCore): void {
    this.core = core;
  }

  get role(): HaRole {
    return this.roleNow;
  }

  get activeTime(): Date | undefined {
    return this.activeSince;
  }

  /** The active node as last seen (this node when active). */
  leader(): HaNodeInfo | undefined {
    if (this.roleNow === 'active') return { ...this.info, active_time: this.activeSince?.toISOString() };
    return this.leaderCache?.info;
  }

  /** Reads the leader key now (for sys/leader on a standby that just started). */
  async refreshLeader(): Promise<HaNodeInfo | undefined> {
    try {
      const res = await this.backend.client.kv.range({ key: this.leaderKey }, this.backend.callOptions());
      const kv = res.kvs[0];
      this.leaderCache = kv ? { info: JSON.parse(kv.value.toString('utf8')), createRevision: String(kv.create_revision) } : undefined;
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as Error).message.split('\n')[0];
    }
    return this.leader();
  }

  /** Every node with a live presence entry. */
  async nodes(): Promise<HaNodeInfo[]> {
    const res = await this.backend.client.kv.range(
      { key: this.nodesPrefix, range_end: rangeEnd(this.nodesPrefix) },
      this.backend.callOptions(),
    );
    return res.kvs.map((kv) => JSON.parse(kv.value.toString('utf8')) as HaNodeInfo);
  }

  /** Called once the barrier is unsealed: join the election. */
  start(): void {
    if (this.campaigning) return;
    this.campaigning = true;
    this.roleNow = 'standby';
    this.backend.setWriteGuard({ mode: 'closed', reason: 'this node is a standby; writes go to the active node' });
    this.startPresence();
    this.startWatch();
    void this.campaignLoop(++this.generation);
  }

  /** Called on seal/shutdown: leave the election and give up the lock if held. */
  async stop(): Promise<void> {
    this.campaigning = false;
    this.wake?.();
    this.lostActive?.();
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    this.presenceTimer = undefined;
    await this.watcher?.cancel().catch(() => {});
    this.watcher = undefined;
    if (this.presenceLease) {
      await this.backend.client.leaseClient.leaseRevoke({ ID: this.presenceLease }, this.backend.callOptions(1000)).catch(() => {});
      this.presenceLease = undefined;
    }
    this.roleNow = 'off';
    this.backend.setWriteGuard({ mode: 'open' });
  }

  /** sys/step-down: give up the lock, then wait before campaigning again. */
  async stepDown(): Promise<void> {
    if (this.roleNow !== 'active') return;
    this.notBefore = Date.now() + this.stepDownWaitMs;
    this.logger.info('ha: stepping down as requested');
    this.lostActive?.();
  }

  private async campaignLoop(generation: number): Promise<void> {
    const current = () => this.campaigning && generation === this.generation;
    while (current()) {
      try {
        const wait = this.notBefore - Date.now();
        if (wait > 0) await this.sleep(wait);
        if (!current()) break;
        const won = await this.tryAcquire();
        this.lastError = undefined;
        if (!won) {
          await this.sleep(500);
          continue;
        }
        await this.serveAsActive(won);
      } catch (err) {
        this.lastError = (err as Error).message.split('\n')[0];
        this.logger.warn(`ha: election attempt failed: ${this.lastError}`);
        await this.sleep(500);
      }
    }
  }

  /** One attempt: a lease plus a Txn that creates the leader key only if it is absent. */
  private async tryAcquire(): Promise<{ lease: string; createRevision: string; confirmedAt: number } | undefined> {
    const current = await this.backend.client.kv.range({ key: this.leaderKey }, this.backend.callOptions());
    if (current.kvs.length > 0) {
      const kv = current.kvs[0];
      this.leaderCache = { info: JSON.parse(kv.value.toString('utf8')), createRevision: String(kv.create_revision) };
      return undefined;
    }
    const sentAt = Date.now();
    const grant = await this.backend.client.leaseClient.leaseGrant({ TTL: this.ttlSeconds }, this.backend.callOptions());
    const lease = grant.ID;
    const activeTime = new Date();
    const value = Buffer.from(JSON.stringify({ ...this.info, active_time: activeTime.toISOString() }));
    const res = await this.backend.client.kv.txn(
      {
        compare: [{ key: this.leaderKey, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: this.leaderKey, value, lease } }],
        failure: [{ request_range: { key: this.leaderKey } }],
      },
      this.backend.callOptions(),
    );
    if (!res.succeeded) {
      await this.backend.client.leaseClient.leaseRevoke({ ID: lease }, this.backend.callOptions()).catch(() => {});
      const kv = res.responses[0]?.response_range?.kvs?.[0];
      if (kv) this.leaderCache = { info: JSON.parse(kv.value.toString('utf8')), createRevision: String(kv.create_revision) };
      return undefined;
    }
    this.activeSince = activeTime;
    return { lease, createRevision: String(res.header.revision), confirmedAt: sentAt };
  }

  /** Runs as the active node until the lease cannot be confirmed, a fenced write fails, or step-down/seal. */
  private async serveAsActive(won: { lease: string; createRevision: string; confirmedAt: number }): Promise<void> {
    const ttlMs = this.ttlSeconds * 1000;
    // Stop before the lease could expire at etcd: renewals are counted from when they were sent.
    const margin = Math.min(500, ttlMs / 4);
    let confirmedAt = won.confirmedAt;
    let lost = false;
    let reason = '';
    let release!: () => void;
    const ended = new Promise<void>((r) => (release = r));
    const lose = (why: string) => {
      if (lost) return;
      lost = true;
      reason = why;
      // At once: no write may pass from here on.
      this.backend.setWriteGuard({ mode: 'closed', reason: 'this node is no longer the active node; writes go to the active node' });
      release();
    };
    this.lostActive = () => lose('stepped down');
    // Sealed (or shut down) while the key was being won: give it straight back.
    if (!this.campaigning) lose('sealed');
    const valid = () => !lost && Date.now() < confirmedAt + ttlMs - margin;
    this.backend.setWriteGuard({
      mode: 'fenced',
      leaderKey: this.leaderKey,
      createRevision: won.createRevision,
      onLost: () => lose('a fenced write found another leader key'),
      isValid: valid,
    });

    const checker = setInterval(() => {
      if (!valid()) lose('the lease could not be renewed in time');
    }, 50);
    let keepaliveBusy = false;
    const keepalive = setInterval(() => {
      if (keepaliveBusy || lost) return;
      keepaliveBusy = true;
      const sentAt = Date.now();
      void this.keepaliveOnce(won.lease, ttlMs)
        .then((ttl) => {
          if (ttl > 0) confirmedAt = Math.max(confirmedAt, sentAt);
          else lose('etcd says the lease expired');
        })
        .catch((err) => {
          this.lastError = (err as Error).message.split('\n')[0];
        })
        .finally(() => (keepaliveBusy = false));
    }, Math.max(100, ttlMs / 4));

    this.roleNow = 'active';
    this.logger.info(`ha: this node is now the active node (lease TTL ${this.ttlSeconds}s)`);
    try {
      await this.core!.becomeActive();
    } catch (err) {
      this.logger.error(`ha: could not take over as the active node: ${(err as Error).message}`);
      lose('take-over failed');
    }
    await ended;
    clearInterval(checker);
    clearInterval(keepalive);
    this.lostActive = undefined;
    this.roleNow = 'standby';
    this.activeSince = undefined;
    this.leaderCache = undefined;
    this.logger.warn(`ha: this node is no longer the active node: ${reason}`);
    await this.core!.becomeStandby().catch((err) => this.logger.error(`ha: standby transition failed: ${(err as Error).message}`));
    // Give the key away: delete it only if it is still ours, and drop the lease.
    await this.backend.client.kv
      .txn(
        {
          compare: [{ key: this.leaderKey, target: 'Create', result: 'Equal', create_revision: won.createRevision }],
          success: [{ request_delete_range: { key: this.leaderKey } }],
          failure: [],
        },
        this.backend.callOptions(1000),
      )
      .catch(() => {});
    await this.backend.client.leaseClient.leaseRevoke({ ID: won.lease }, this.backend.callOptions(1000)).catch(() => {});
    if (reason !== 'stepped down') this.notBefore = Math.max(this.notBefore, Date.now() + 500);
  }

  /** One lease renewal on a short-lived stream; resolves with the TTL etcd granted (0: expired). */
  private async keepaliveOnce(lease: string, timeoutMs: number): Promise<number> {
    const stream = await this.backend.client.leaseClient.leaseKeepAlive({ deadline: Date.now() + timeoutMs });
    try {
      return await new Promise<number>((resolve, reject) => {
        stream.on('data', (res: { TTL: string }) => resolve(Number(res.TTL)));
        stream.on('error', reject);
        stream.write({ ID: lease });
      });
    } finally {
      stream.end();
    }
  }

  private startPresence(): void {
    const echo = async () => {
      try {
        if (!this.presenceLease) {
          const grant = await this.backend.client.leaseClient.leaseGrant({ TTL: Math.max(5, this.ttlSeconds * 3) }, this.backend.callOptions());
          this.presenceLease = grant.ID;
        } else {
          await this.keepaliveOnce(this.presenceLease, 2000).then((ttl) => {
            if (ttl <= 0) this.presenceLease = undefined;
          });
        }
        if (!this.presenceLease) return;
        const value = Buffer.from(JSON.stringify({ ...this.info, last_echo: new Date().toISOString() }));
        await this.backend.client.kv.put({ key: Buffer.concat([this.nodesPrefix, Buffer.from(this.nodeId)]), value, lease: this.presenceLease }, this.backend.callOptions());
      } catch {
        this.presenceLease = undefined;
      }
    };
    void echo();
    this.presenceTimer = setInterval(() => void echo(), 1000);
    this.presenceTimer.unref();
  }

  private startWatch(): void {
    void this.backend.client
      .watch()
      .key(this.leaderKey)
      .create()
      .then((w) => {
        if (!this.campaigning) {
          void w.cancel();
          return;
        }
        this.watcher = w;
        w.on('delete', () => {
          this.leaderCache = undefined;
          this.wake?.();
        });
        w.on('put', (kv) => {
          this.leaderCache = { info: JSON.parse(kv.value.toString('utf8')), createRevision: String(kv.create_revision) };
        });
        w.on('error', () => {});
      })
      .catch(() => {
        // The poll in the campaign loop covers for a missing watch.
      });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        if (Date.now() >= this.notBefore) done();
      };
    });
  }
}
