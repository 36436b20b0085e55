/**
 * GET /v1/sys/metrics against real `tresor server` processes: the ACL
 * (read on sys/metrics), the listener's unauthenticated_metrics_access, the
 * Prometheus text and Vault's JSON shapes, and the HSM metrics of a
 * SoftHSM-sealed server moving with real PKCS#11 calls and with the token
 * taken away and given back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Api, SHAMIR_FILE_CONFIG, TestServer } from './helpers/server.ts';
import { createSoftHsmToken, hsmServerConfig, type SoftHsmToken } from './helpers/softhsm.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format strictly: any line that is not a comment or a valid sample fails. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
      let consumed = 0;
      for (let l = re.exec(m[2]); l; l = re.exec(m[2])) {
        labels[l[1]] = l[2];
        consumed = re.lastIndex;
      }
      assert.equal(consumed, m[2].length, `bad label set in ${JSON.stringify(line)}`);
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

function find(samples: Sample[], name: string): Sample | undefined {
  return samples.find((s) => s.name === name);
}

async function scrape(api: Api, token?: string, query = '?format=prometheus'): Promise<{ status: number; type: string | null; text: string }> {
  const headers: Record<string, string> = token ? { 'X-Vault-Token': token } : {};
  const res = await fetch(`${api.addr}/v1/sys/metrics${query}`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('sys/metrics on a dev server', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.startDev();
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('is refused without a token and with a token lacking read on sys/metrics, with Vault\'s 403', async () => {
    const none = await server.api.get('sys/metrics', '');
    assert.equal(none.status, 403);
    assert.deepEqual(none.body, { errors: ['permission denied'] });
    await server.api.writePolicy('kv-only', 'path "secret/*" { capabilities = ["read"] }');
    const kvOnly = await server.api.createToken({ policies: ['kv-only'] });
    const refused = await server.api.get('sys/metrics', kvOnly.client_token);
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body, { errors: ['permission denied'] });

    await server.api.writePolicy('metrics', 'path "sys/metrics" { capabilities = ["read"] }');
    const reader = await server.api.createToken({ policies: ['metrics'] });
    assert.equal((await server.api.get('sys/metrics', reader.client_token)).status, 200);
  });

  it('gives Vault\'s JSON shape by default: Timestamp, Gauges, Counters, Samples with Name and Labels', async () => {
    assert.equal((await server.api.put('secret/data/m', { data: { a: 'b' } })).status, 200);
    const res = await server.api.get('sys/metrics');
    assert.equal(res.status, 200);
    const body = res.body;
    assert.ok(!Number.isNaN(Date.parse(body.Timestamp)));
    for (const key of ['Gauges', 'Counters', 'Samples', 'Points']) assert.ok(Array.isArray(body[key]), key);
    const unsealed = body.Gauges.find((g: any) => g.Name === 'vault.core.unsealed');
    assert.deepEqual(unsealed, { Name: 'vault.core.unsealed', Value: 1, Labels: {} });
    assert.equal(body.Gauges.find((g: any) => g.Name === 'vault.core.active')?.Value, 1);
    const kvPut = body.Samples.find((s: any) => s.Name === 'vault.core.handle_request' && s.Labels.path === 'secret' && s.Labels.method === 'PUT');
    assert.ok(kvPut, JSON.stringify(body.Samples));
    assert.equal(kvPut.Labels.status, '2xx');
    assert.ok(kvPut.Count >= 1 && kvPut.Sum > 0);
    const put = body.Samples.find((s: any) => s.Name === 'vault.barrier.put');
    assert.ok(put && put.Count >= 1);
    const counter = body.Counters.find((c: any) => c.Name === 'tresor.core.requests' && c.Labels.path === 'secret');
    assert.ok(counter && counter.Count >= 1, JSON.stringify(body.Counters));
  });

  it('gives Prometheus text with ?format=prometheus that parses, with request, seal and barrier metrics', async () => {
    const before = parsePrometheus((await scrape(server.api, 'root')).text);
    for (let i = 0; i < 3; i++) assert.equal((await server.api.get('secret/data/m')).status, 200);
    const res = await scrape(server.api, 'root');
    assert.equal(res.status, 200);
    assert.match(res.type ?? '', /^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(res.text);
    assert.equal(find(samples, 'vault_core_unsealed')?.value, 1);
    const reads = (s: Sample[]) => sum(s, 'tresor_core_requests_total', { method: 'GET', path: 'secret', code: '200' });
    assert.equal(reads(samples) - reads(before), 3);
    assert.ok(sum(samples, 'vault_core_handle_request_count', { method: 'GET', path: 'secret', status: '2xx' }) >= 3);
    assert.ok(samples.some((s) => s.name === 'vault_core_handle_request_bucket' && s.labels.le === '+Inf'));
    assert.ok(sum(samples, 'vault_barrier_get_count') > sum(before, 'vault_barrier_get_count'));
    // A made-up path is counted as "unknown", never under its own name.
    await server.api.get('no-such-mount-xyz/abc');
    const after = parsePrometheus((await scrape(server.api, 'root')).text);
    assert.ok(!after.some((s) => Object.values(s.labels).some((v) => v.includes('no-such-mount-xyz'))));
    assert.ok(sum(after, 'tresor_core_requests_total', { path: 'unknown', code: '404' }) >= 1);
  });

  it('refuses an unknown format with a 400 naming the field', async () => {
    const res = await server.api.get('sys/metrics?format=xml');
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { errors: ['format must be "prometheus" or "json"'] });
  });
});

describe('sys/metrics with telemetry configured', () => {
  let server: TestServer;
  before(async () => {
    const config = `storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
  telemetry {
    unauthenticated_metrics_access = true
  }
}
telemetry {
  prometheus_retention_time = "30s"
  disable_hostname          = true
}
`;
    server = await TestServer.start({ config });
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('answers without a token, even uninitialised and sealed, in Prometheus text by default', async () => {
    const res = await scrape(server.api, undefined, '');
    assert.equal(res.status, 200);
    assert.match(res.type ?? '', /^text\/plain/);
    const samples = parsePrometheus(res.text);
    assert.equal(find(samples, 'vault_core_unsealed')?.value, 0);
    const json = await server.api.get('sys/metrics?format=json', '');
    assert.equal(json.status, 200);
    assert.equal(json.body.Gauges.find((g: any) => g.Name === 'vault.core.unsealed')?.Value, 0);
  });

  it('refuses an unknown telemetry key in the config, naming it', async () => {
    const bad = await TestServer.start({ config: `${SHAMIR_FILE_CONFIG}telemetry {\n  statsd_address = "127.0.0.1:8125"\n}\n`, readyText: 'statsd_address' }).catch((err: Error) => err);
    const text = bad instanceof Error ? bad.message : bad.output;
    assert.match(text, /unknown key "statsd_address" in telemetry/);
    if (!(bad instanceof Error)) {
      await bad.kill();
      bad.cleanup();
    }
  });
});

describe('sys/metrics: HSM metrics of a SoftHSM-sealed server', () => {
  let token: SoftHsmToken;
  let server: TestServer;
  let api: Api;

  before(async () => {
    token = createSoftHsmToken();
    server = await TestServer.start({ config: hsmServerConfig(token), env: { ...token.env, VAULT_HSM_PIN: token.pin, TRESOR_HSM_HEARTBEAT_MS: '300' } });
    await server.waitFor('pkcs11 seal opened', 15_000);
    const init = await server.api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    api = new Api(server.api.addr, init.body.root_token);
    assert.equal((await api.post('sys/mounts/wrapped', { type: 'kv', seal_wrap: true })).status, 204);
    assert.equal((await api.post('sys/mounts/transit', { type: 'transit', seal_wrap: true })).status, 204);
    assert.ok([200, 204].includes((await api.post('transit/keys/k', {})).status));
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    if (token && fs.existsSync(token.tokenDir + '.away')) fs.renameSync(token.tokenDir + '.away', token.tokenDir);
    token?.cleanup();
  });

  const metrics = async () => {
    const res = await scrape(api, api.token);
    assert.equal(res.status, 200, res.text);
    return parsePrometheus(res.text);
  };

  it('counts and times PKCS#11 calls per function as seal-wrapped writes and transit ops run', async () => {
    const before = await metrics();
    assert.equal(find(before, 'tresor_hsm_healthy')?.value, 1);
    assert.equal(find(before, 'tresor_hsm_recovering')?.value, 0);
    assert.ok((find(before, 'tresor_hsm_max_parallel')?.value ?? 0) >= 1);
    assert.ok(find(before, 'tresor_hsm_sessions_in_use') !== undefined);
    assert.ok(find(before, 'tresor_hsm_sessions_idle') !== undefined);
    for (let i = 0; i < 5; i++) {
      assert.equal((await api.put(`wrapped/s${i}`, { v: String(i) })).status, 204);
      assert.equal((await api.post('transit/encrypt/k', { plaintext: Buffer.from(`p${i}`).toString('base64') })).status, 200);
    }
    assert.equal((await api.put('sys/rotate', {})).status, 204);
    const after = await metrics();
    const encrypts = (s: Sample[]) => sum(s, 'tresor_hsm_calls_total', { function: 'C_Encrypt' });
    assert.ok(encrypts(after) - encrypts(before) >= 5, `C_Encrypt ${encrypts(before)} -> ${encrypts(after)}`);
    const timed = (s: Sample[]) => sum(s, 'tresor_hsm_call_duration_count', { function: 'C_Encrypt' });
    assert.ok(timed(after) - timed(before) >= 5);
    assert.ok(sum(after, 'tresor_hsm_call_duration_sum', { function: 'C_Encrypt' }) > 0);
    const since = find(after, 'tresor_hsm_seconds_since_last_success')?.value;
    assert.ok(since !== undefined && since >= 0 && since < 30, String(since));
  });

  it('shows errors per function and CKR code and an unhealthy HSM while the token is away, then recovery', async () => {
    const errorsBefore = sum(await metrics(), 'tresor_hsm_errors_total');
    fs.renameSync(token.tokenDir, token.tokenDir + '.away');
    let during: Sample[] = [];
    await server.until(
      async () => {
        during = await metrics();
        return find(during, 'tresor_hsm_healthy')?.value === 0;
      },
      20_000,
      'tresor_hsm_healthy 0',
    );
    await server.until(async () => sum((during = await metrics()), 'tresor_hsm_errors_total') > errorsBefore, 20_000, 'an HSM error counted');
    const failed = during.filter((s) => s.name === 'tresor_hsm_errors_total' && s.value > 0);
    for (const s of failed) {
      assert.match(s.labels.function, /^C_[A-Za-z]+$/);
      assert.match(s.labels.ckr, /^CKR_[A-Z0-9_x]+$/);
    }

    fs.renameSync(token.tokenDir + '.away', token.tokenDir);
    let recovered: Sample[] = [];
    await server.until(
      async () => {
        recovered = await metrics();
        return find(recovered, 'tresor_hsm_healthy')?.value === 1 && find(recovered, 'tresor_hsm_recovering')?.value === 0;
      },
      30_000,
      'tresor_hsm_healthy 1',
    );
    const calls = sum(recovered, 'tresor_hsm_calls_total', { function: 'C_Encrypt' });
    assert.equal((await api.put('wrapped/after', { v: 'x' })).status, 204);
    assert.ok(sum(await metrics(), 'tresor_hsm_calls_total', { function: 'C_Encrypt' }) > calls);
    const since = find(await metrics(), 'tresor_hsm_seconds_since_last_success')?.value;
    assert.ok(since !== undefined && since < 10, String(since));
  });
});
