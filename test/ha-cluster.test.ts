import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestEtcd } from './helpers/etcd.ts';
import { createSoftHsmToken, type SoftHsmToken } from './helpers/softhsm.ts';
import { startHaNode, waitForActive } from './helpers/ha.ts';
import { runCli, type TestServer } from './helpers/server.ts';

/**
 * Three real Tresor nodes on one real etcd, sharing one SoftHSM2 token:
 * election, standby answers, forwarding, redirect, step-down, kill -9
 * under a write load, SIGSTOP past the lease, etcd down and back.
 */
let etcd: TestEtcd;
let token: SoftHsmToken;
const nodes: TestServer[] = [];
let rootToken = '';

before(async () => {
  etcd = await TestEtcd.start();
  token = createSoftHsmToken();
});
after(async () => {
  for (const n of nodes) await n.kill().catch(() => {});
  for (const n of nodes) n.cleanup();
  await etcd?.destroy();
  token?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const addr = (n: TestServer) => `http://127.0.0.1:${n.port}`;
const alive = () => nodes.filter((n) => n.exitCode === undefined);

describe('HA on etcd with three nodes', () => {
  it('the first node initialises and becomes active; two more join as standbys', async () => {
    const a = await startHaNode(etcd, token);
    nodes.push(a);
    const init = await a.api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    rootToken = init.body.root_token;
    assert.equal(await waitForActive([a]), a);
    a.api.token = rootToken;
    const mount = await a.api.post('sys/mounts/secret', { type: 'kv', options: { version: '2' } });
    assert.equal(mount.status, 204, JSON.stringify(mount.body));

    nodes.push(await startHaNode(etcd, token), await startHaNode(etcd, token, { extra: 'disable_forwarding = true' }));
    for (const n of nodes) n.api.token = rootToken;
    const [, b, c] = nodes;
    for (const standby of [b, c]) {
      await standby.until(async () => (await standby.api.get('sys/seal-status')).body?.sealed === false, 20_000, 'auto-unseal');
      const leader = await standby.api.get('sys/leader');
      assert.equal(leader.status, 200);
      assert.equal(leader.body.ha_enabled, true);
      assert.equal(leader.body.is_self, false);
      assert.equal(leader.body.leader_address, addr(a));
      assert.equal(leader.body.leader_cluster_address, addr(a));
      assert.equal(leader.body.performance_standby, false);
      const health = await standby.api.get('sys/health');
      assert.equal(health.status, 429);
      assert.equal(health.body.standby, true);
      assert.equal(health.body.sealed, false);
      assert.equal((await standby.api.get('sys/health?standbyok=true')).status, 200);
      assert.equal((await standby.api.get('sys/health?standbycode=299')).status, 299);
      assert.equal((await standby.api.get('sys/seal-status')).body.initialized, true);
    }
    assert.equal(await waitForActive(nodes), a);
    const self = await a.api.get('sys/leader');
    assert.equal(self.body.is_self, true);
    assert.ok(Date.parse(self.body.active_time) > Date.parse('2020-01-01'));
  });

  it('a standby forwards requests to the active node with the client token; with disable_forwarding it answers 307', async () => {
    const [a, b, c] = nodes;
    const write = await b.api.put('secret/data/fwd', { data: { v: 'through-b' } });
    assert.equal(write.status, 200, JSON.stringify(write.body));
    const read = await a.api.get('secret/data/fwd');
    assert.equal(read.body.data.data.v, 'through-b');
    const readB = await b.api.get('secret/data/fwd');
    assert.equal(readB.body.data.data.v, 'through-b');
    // The standby adds no authority: no token, or a bad one, is refused as by the active node.
    const denied = await b.api.get('secret/data/fwd', 'not-a-token');
    assert.equal(denied.status, 403);
    assert.ok(Array.isArray(denied.body.errors));
    const anon = await b.api.call('GET', 'secret/data/fwd', undefined, '');
    assert.equal(anon.status, 403);

    // A value over etcd's request limit: Vault's error shape with 413, through the standby too, and nothing changed.
    const huge = 'x'.repeat(1600 * 1024);
    for (const via of [a, b]) {
      const big = await via.api.put('secret/data/fwd', { data: { v: huge } });
      assert.equal(big.status, 413, JSON.stringify(big.body).slice(0, 200));
      assert.match(big.body.errors[0], /too large/);
      assert.doesNotMatch(JSON.stringify(big.body), /xxxx/);
    }
    const unchanged = await a.api.get('secret/data/fwd');
    assert.equal(unchanged.body.data.data.v, 'through-b');
    assert.equal(unchanged.body.data.metadata.version, 1);

    const res = await fetch(`${addr(c)}/v1/secret/data/fwd?x=1`, { headers: { 'X-Vault-Token': rootToken }, redirect: 'manual' });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get('location'), `${addr(a)}/v1/secret/data/fwd?x=1`);

    const ha = await b.api.get('sys/ha-status');
    assert.equal(ha.status, 200, JSON.stringify(ha.body));
    assert.equal(ha.body.data.nodes.length, 3);
    const active = ha.body.data.nodes.filter((n: { active_node: boolean }) => n.active_node);
    assert.equal(active.length, 1);
    assert.equal(active[0].api_address, addr(a));
    for (const n of ha.body.data.nodes) {
      assert.ok(n.hostname);
      assert.ok(n.api_address.startsWith('http://127.0.0.1:'));
    }
    assert.equal((await a.api.get('sys/ha-status', 'not-a-token')).status, 403);
    const members = await runCli(['operator', 'members'], { addr: addr(b), token: rootToken });
    assert.equal(members.code, 0, members.stderr);
    const lines = members.stdout.trim().split('\n');
    assert.match(lines[0], /^Host Name\s+API Address\s+Cluster Address\s+Active Node\s+Version/);
    assert.equal(lines.length, 5);
    assert.match(lines[2], new RegExp(`${addr(a)}\\s+${addr(a)}\\s+true`));
  });

  it('step-down (sudo) hands leadership to another node, repeatedly, across the three nodes', async () => {
    let active = await waitForActive(nodes);
    const denied = await active.api.put('sys/step-down', {}, 'not-a-token');
    assert.equal(denied.status, 403);
    assert.equal(await waitForActive(nodes), active);
    const seen = new Set<TestServer>([active]);
    for (let round = 0; round < 4; round++) {
      if (round === 0) {
        // The CLI, sent to the active node.
        const cli = await runCli(['operator', 'step-down'], { addr: addr(active), token: rootToken });
        assert.equal(cli.code, 0, cli.stderr);
        assert.equal(cli.stdout.trim(), `Success! Stepped down: ${addr(active)}`);
      } else {
        const res = await active.api.put('sys/step-down', {});
        assert.equal(res.status, 204, JSON.stringify(res.body));
      }
      const next = await waitForActive(nodes, 15_000, active);
      assert.notEqual(next, active);
      // Data written by every previous active node is there.
      const w = await next.api.put(`secret/data/round-${round}`, { data: { round } });
      assert.equal(w.status, 200, JSON.stringify(w.body));
      for (let r = 0; r <= round; r++) assert.equal((await next.api.get(`secret/data/round-${r}`)).body.data.data.round, r);
      seen.add(next);
      active = next;
      await sleep(300);
    }
    assert.equal(seen.size, 3, 'every node was active at some point');
  });

  it('kill -9 of the active node under a write load: takeover in under 3 s, no acknowledged write lost', async () => {
    const active = await waitForActive(nodes);
    const others = alive().filter((n) => n !== active);
    const target = others.find((n) => !n.output.includes('disable_forwarding')) ?? others[0];
    const acked: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const key = `load/k${i}`;
        const via = i % 2 === 0 ? active : nodes[1];
        const res = await via.api.put(`secret/data/${key}`, { data: { i } }).catch(() => undefined);
        if (res?.status === 200) acked.push(key);
        else await sleep(20);
      }
    })();
    await sleep(1500);
    const killedAt = Date.now();
    await active.kill();
    const next = await waitForActive(alive(), 15_000);
    const takeoverMs = Date.now() - killedAt;
    await sleep(500);
    stop = true;
    await writer;
    assert.ok(takeoverMs < 3000, `takeover took ${takeoverMs} ms`);
    assert.ok(acked.length > 10, `only ${acked.length} writes acknowledged`);
    for (const key of acked) {
      const res = await next.api.get(`secret/data/${key}`);
      assert.equal(res.status, 200, `acknowledged write ${key} lost`);
    }
    void target;
    console.log(`# takeover after kill -9: ${takeoverMs} ms; ${acked.length} acknowledged writes all present`);
  });

  it('a node paused past its lease (SIGSTOP) stops being active and never writes as active after SIGCONT', async () => {
    // Replace the killed node so three run again.
    nodes.push(await startHaNode(etcd, token));
    nodes[nodes.length - 1].api.token = rootToken;
    const old = await waitForActive(alive());
    await old.until(async () => true);
    old.proc.kill('SIGSTOP');
    const next = await waitForActive(alive(), 15_000, old);
    const w = await next.api.put('secret/data/after-pause', { data: { by: 'new' } });
    assert.equal(w.status, 200);
    // A write sent to the paused node: the kernel queues it; the node reads it only after SIGCONT.
    const pending = old.api.put('secret/data/after-pause', { data: { by: 'old' } });
    await sleep(200);
    old.proc.kill('SIGCONT');
    const attempt = await pending;
    const now = await next.api.get('secret/data/after-pause');
    if (attempt.status === 200) {
      // Accepted only by forwarding to the new active node: it is version 2 there.
      assert.equal(now.body.data.data.by, 'old');
      assert.equal(now.body.data.metadata.version, 2);
    } else {
      assert.ok([500, 503].includes(attempt.status), JSON.stringify(attempt));
      assert.ok(Array.isArray(attempt.body.errors));
      assert.equal(now.body.data.data.by, 'new');
      assert.equal(now.body.data.metadata.version, 1);
    }
    console.log(`# write sent to the paused node answered ${attempt.status}`);
    await old.until(async () => (await old.api.get('sys/leader')).body?.is_self === false, 10_000, 'old node standby');
    assert.equal(await waitForActive(alive()), next);
    assert.match(old.output, /no longer the active node: the lease could not be renewed in time/);
  });

  it('etcd stopped and restarted: nodes keep running, report it, and elect a leader again by themselves', async () => {
    const before = await waitForActive(alive());
    await etcd.stop();
    await sleep(3500);
    for (const n of alive()) {
      assert.equal(n.exitCode, undefined);
      const leader = await n.api.get('sys/leader');
      assert.equal(leader.body.is_self, false, 'no node may stay active without etcd');
      const kv = await n.api.get('secret/data/after-pause');
      assert.ok(kv.status >= 500, `got ${kv.status}`);
      assert.ok(Array.isArray(kv.body.errors));
    }
    await etcd.start();
    const after = await waitForActive(alive(), 30_000);
    const res = await after.api.get('secret/data/after-pause');
    assert.equal(res.status, 200);
    void before;
  });

  it('a node with the wrong seal key stays sealed and never takes part', async () => {
    // Another HSM token: its key cannot unwrap the cluster's root key.
    const otherToken = createSoftHsmToken({ label: 'other' });
    const wrong = await startHaNode(etcd, otherToken);
    nodes.push(wrong);
    after(() => otherToken.cleanup());
    await sleep(3000);
    const status = await wrong.api.get('sys/seal-status');
    assert.equal(status.body.sealed, true, JSON.stringify(status.body) + wrong.output);
    assert.equal(status.body.initialized, true, JSON.stringify(status.body) + wrong.output);
    assert.equal((await wrong.api.get('sys/leader')).body.is_self, false);
    assert.equal((await wrong.api.get('sys/health')).status, 503);
    assert.match(wrong.output, /auto-unseal failed/);
    await wrong.kill();
  });
});
