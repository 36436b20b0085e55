/**
 * Telemetry: one prom-client Registry for the process, served by
 * GET /v1/sys/metrics (core/sys/metrics.ts). Lives beside logger.ts, below
 * every layer, so the HTTP layer, the barrier and the PKCS#11 seal can each
 * record at their seam with one observe() per operation. Gauges that reflect
 * state (sealed, HSM health, pool use) are read when scraped, through probes
 * the owners register, so they cost nothing between scrapes.
 *
 * Names follow Vault's (vault.core.handle_request -> vault_core_handle_request);
 * what Vault has no metric for is named tresor_*. Latencies are in
 * milliseconds, as Vault reports them.
 */
import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

export const registry = new Registry();

const MS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Vault's dotted name for the JSON format, keyed by the Prometheus name. */
const JSON_NAMES = new Map<string, string>();
function named<T>(prom: string, vault: string, make: (name: string) => T): T {
  JSON_NAMES.set(prom, vault);
  return make(prom);
}

export const requestLatency = named('vault_core_handle_request', 'vault.core.handle_request', (name) =>
  new Histogram({ name, help: 'API request latency in milliseconds, by method, path class and status class', labelNames: ['method', 'path', 'status'], buckets: MS_BUCKETS, registers: [registry] }),
);
export const requestCount = named('tresor_core_requests_total', 'tresor.core.requests', (name) =>
  new Counter({ name, help: 'API requests answered, by method, path class and status code', labelNames: ['method', 'path', 'code'], registers: [registry] }),
);

function barrierHistogram(op: string): Histogram {
  return named(`vault_barrier_${op}`, `vault.barrier.${op}`, (name) =>
    new Histogram({ name, help: `Barrier ${op} latency in milliseconds`, buckets: MS_BUCKETS, registers: [registry] }),
  );
}
export const barrierLatency = { get: barrierHistogram('get'), put: barrierHistogram('put'), delete: barrierHistogram('delete'), list: barrierHistogram('list') };

export const hsmCalls = named('tresor_hsm_calls_total', 'tresor.hsm.calls', (name) =>
  new Counter({ name, help: 'PKCS#11 calls made, by function (failed ones included)', labelNames: ['function'], registers: [registry] }),
);
export const hsmLatency = named('tresor_hsm_call_duration', 'tresor.hsm.call_duration', (name) =>
  new Histogram({ name, help: 'PKCS#11 call latency in milliseconds, by function', labelNames: ['function'], buckets: MS_BUCKETS, registers: [registry] }),
);
export const hsmErrors = named('tresor_hsm_errors_total', 'tresor.hsm.errors', (name) =>
  new Counter({ name, help: 'Failed PKCS#11 calls, by function and CKR code', labelNames: ['function', 'ckr'], registers: [registry] }),
);

// ---- state read at scrape time -------------------------------------------------------------

export interface CoreProbe {
  sealed: boolean;
  /** This node serves requests (Tresor has no HA standby yet: active whenever unsealed). */
  active: boolean;
}
export interface HsmProbe {
  healthy: boolean;
  recovering: boolean;
  sessionsInUse: number;
  sessionsIdle: number;
  maxParallel: number;
}

let coreProbe: (() => CoreProbe) | undefined;
let hsmProbe: (() => HsmProbe) | undefined;
/** Date.now() of the last PKCS#11 call that returned without error; 0 = none yet. */
let hsmLastSuccess = 0;

export function setCoreProbe(probe: (() => CoreProbe) | undefined): void {
  coreProbe = probe;
}
export function setHsmProbe(probe: (() => HsmProbe) | undefined): void {
  hsmProbe = probe;
}
/** Removes `probe` if it is still the registered one (a closed seal stops reporting). */
export function clearHsmProbe(probe: () => HsmProbe): void {
  if (hsmProbe === probe) hsmProbe = undefined;
}

function stateGauge(prom: string, vault: string, help: string, read: () => number | undefined): void {
  named(prom, vault, (name) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read();
        if (value === undefined) this.reset();
        else this.set(value);
      },
    }),
  );
}

stateGauge('vault_core_unsealed', 'vault.core.unsealed', '1 when the server is unsealed', () => (coreProbe ? (coreProbe().sealed ? 0 : 1) : undefined));
stateGauge('vault_core_active', 'vault.core.active', '1 when this node is the active one', () => (coreProbe ? (coreProbe().active ? 1 : 0) : undefined));
stateGauge('tresor_hsm_healthy', 'tresor.hsm.healthy', '1 while the HSM heartbeat and calls succeed', () => (hsmProbe ? (hsmProbe().healthy ? 1 : 0) : undefined));
stateGauge('tresor_hsm_recovering', 'tresor.hsm.recovering', '1 while the PKCS#11 library is being re-initialised', () => (hsmProbe ? (hsmProbe().recovering ? 1 : 0) : undefined));
stateGauge('tresor_hsm_sessions_in_use', 'tresor.hsm.sessions_in_use', 'PKCS#11 sessions lent to a call now (= calls in flight)', () => hsmProbe?.().sessionsInUse);
stateGauge('tresor_hsm_sessions_idle', 'tresor.hsm.sessions_idle', 'Open PKCS#11 sessions waiting in the pool', () => hsmProbe?.().sessionsIdle);
stateGauge('tresor_hsm_max_parallel', 'tresor.hsm.max_parallel', 'The seal\'s max_parallel: most PKCS#11 calls in flight at once', () => hsmProbe?.().maxParallel);
stateGauge('tresor_hsm_seconds_since_last_success', 'tresor.hsm.seconds_since_last_success', 'Seconds since the last PKCS#11 call that succeeded', () =>
  hsmProbe && hsmLastSuccess ? (Date.now() - hsmLastSuccess) / 1000 : undefined,
);

// ---- the PKCS#11 seam ------------------------------------------------------------------------

/**
 * Wraps every C_* function of a loaded pkcs11js object so each call counts,
 * is timed, and a failure counts under its CKR name. `*Async` functions are
 * reported under their plain name (C_EncryptAsync -> C_Encrypt). The wrapper
 * inherits from the module, so everything else behaves as before.
 */
export function instrumentPkcs11<T extends object>(module: T, ckrName: (code: number) => string): T {
  const wrapped = Object.create(module) as Record<string, unknown>;
  const names = new Set<string>();
  for (let proto: object | null = module; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) if (key.startsWith('C_')) names.add(key);
  }
  for (const key of names) {
    const fn = (module as Record<string, unknown>)[key];
    if (typeof fn !== 'function') continue;
    const label = key.endsWith('Async') ? key.slice(0, -5) : key;
    const calls = hsmCalls.labels(label);
    const latency = hsmLatency.labels(label);
    const failed = (err: unknown) => {
      const code = (err as { code?: unknown })?.code;
      hsmErrors.inc({ function: label, ckr: typeof code === 'number' ? ckrName(code) : 'CKR_GENERAL_ERROR' });
    };
    wrapped[key] = (...args: unknown[]) => {
      calls.inc();
      const start = performance.now();
      let result: unknown;
      try {
        result = (fn as (...a: unknown[]) => unknown).apply(module, args);
      } catch (err) {
        latency.observe(performance.now() - start);
        failed(err);
        throw err;
      }
      if (result instanceof Promise) {
        return result.then(
          (value) => {
            latency.observe(performance.now() - start);
            hsmLastSuccess = Date.now();
            return value;
          },
          (err) => {
            latency.observe(performance.now() - start);
            failed(err);
            throw err;
          },
        );
      }
      latency.observe(performance.now() - start);
      hsmLastSuccess = Date.now();
      return result;
    };
  }
  return wrapped as T;
}

// ---- rendering ------------------------------------------------------------------------------

export const PROMETHEUS_CONTENT_TYPE = registry.contentType;

let prometheusByDefault = false;
/** The config's `telemetry { prometheus_retention_time }`: set means Prometheus text without ?format. */
export function setPrometheusDefault(on: boolean): void {
  prometheusByDefault = on;
}
export function prometheusIsDefault(): boolean {
  return prometheusByDefault;
}

export function prometheusText(): Promise<string> {
  return registry.metrics();
}

type Labels = Partial<Record<string, string | number>>;
const jsonName = (name: string) => JSON_NAMES.get(name) ?? name.replace(/_/g, '.');
const stringLabels = (labels: Labels | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(labels ?? {}).map(([k, v]) => [k, String(v)]));

/**
 * Vault's JSON shape (go-metrics' InmemSink display): Gauges with Value,
 * Counters and Samples with Count/Sum/Min/Max/Mean/Stddev/Rate. Histograms
 * become Samples; prom-client keeps no min/max, so those are the mean.
 */
export async function vaultJson(): Promise<Record<string, unknown>> {
  const metrics = (await registry.getMetricsAsJSON()) as MetricObjectWithValues<MetricValue<string>>[];
  const gauges: unknown[] = [];
  const counters: unknown[] = [];
  const samples: unknown[] = [];
  for (const metric of metrics) {
    const Name = jsonName(metric.name);
    const type = metric.type as unknown as string;
    if (type === 'gauge') {
      for (const v of metric.values) gauges.push({ Name, Value: v.value, Labels: stringLabels(v.labels) });
    } else if (type === 'counter') {
      for (const v of metric.values) counters.push({ Name, Count: v.value, Rate: 0, Sum: v.value, Min: 1, Max: 1, Mean: 1, Stddev: 0, Labels: stringLabels(v.labels) });
    } else if (type === 'histogram') {
      // One count and one sum series per label set (the buckets are left out).
      const bySet = new Map<string, { labels: Labels; count: number; sum: number }>();
      for (const v of metric.values as Array<MetricValue<string> & { metricName?: string }>) {
        const { le: _le, ...labels } = (v.labels ?? {}) as Labels;
        const key = JSON.stringify(labels);
        const entry = bySet.get(key) ?? { labels, count: 0, sum: 0 };
        if (v.metricName?.endsWith('_count')) entry.count = v.value;
        else if (v.metricName?.endsWith('_sum')) entry.sum = v.value;
        else continue;
        bySet.set(key, entry);
      }
      for (const { labels, count, sum } of bySet.values()) {
        if (count === 0) continue;
        const mean = sum / count;
        samples.push({ Name, Count: count, Rate: 0, Sum: sum, Min: mean, Max: mean, Mean: mean, Stddev: 0, Labels: stringLabels(labels) });
      }
    }
  }
  return { Timestamp: new Date().toISOString(), Gauges: gauges, Points: [], Counters: counters, Samples: samples };
}

/**
 * The path class of an API path for request metrics: `sys/<first segment>`,
 * `auth/<mount>`, else the first segment (the mount, for single-segment mount
 * paths). Bounded cardinality; never contains a secret's own name.
 */
export function pathClass(path: string): string {
  const first = path.indexOf('/');
  if (first < 0) return path;
  const head = path.slice(0, first);
  if (head !== 'sys' && head !== 'auth') return head;
  const second = path.indexOf('/', first + 1);
  return second < 0 ? path : path.slice(0, second);
}
