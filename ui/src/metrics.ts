// HSM figures from sys/metrics?format=prometheus: pure functions (no DOM), tested in test/ui-metrics.test.ts.
// The metric names are not fixed by Vault, so the panel looks for families that name the HSM (pkcs11/hsm):
// a histogram or summary (_sum/_count) gives the mean call latency over an interval, and error counters
// (a name with error/fail, or a sample labelled with an error outcome or a CKR_ code) give errors per interval.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseProm(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    out.push({ name: m[1], labels, value });
  }
  return out;
}

const HSM = /pkcs11|hsm/i;
const ERROR_NAME = /error|fail/i;
const ERROR_LABEL = /^(error|errors|failed|failure|fail)$|^CKR_/i;

function key(s: PromSample): string {
  return `${s.name}{${Object.keys(s.labels).sort().map((k) => `${k}=${s.labels[k]}`).join(',')}}`;
}

export interface HsmFigures {
  /** Whether the scrape has any HSM family at all. */
  found: boolean;
  /** Mean latency of the HSM calls made between the two scrapes, ms; undefined when none were made. */
  latencyMs?: number;
  /** HSM errors between the two scrapes. */
  errors: number;
  calls: number;
}

/** What happened between scrape `prev` and scrape `cur` (both from parseProm). */
export function hsmFigures(prev: PromSample[] | undefined, cur: PromSample[]): HsmFigures {
  const hsm = cur.filter((s) => HSM.test(s.name));
  const before = new Map((prev ?? []).map((s) => [key(s), s.value]));
  const delta = (s: PromSample) => (prev ? Math.max(0, s.value - (before.get(key(s)) ?? 0)) : 0);
  const names = new Set(hsm.map((s) => s.name));
  // The latency family: a histogram/summary whose _sum and _count both exist, preferring one that names time.
  const bases = [...names].filter((n) => n.endsWith('_sum') && names.has(`${n.slice(0, -4)}_count`)).map((n) => n.slice(0, -4));
  const base = bases.find((b) => /seconds|duration|latency|_ms$/.test(b)) ?? bases[0];
  let sum = 0;
  let calls = 0;
  if (base) {
    for (const s of hsm) {
      if (s.name === `${base}_sum`) sum += delta(s);
      if (s.name === `${base}_count`) calls += delta(s);
    }
  }
  const unit = base && /_ms$|milliseconds/.test(base) ? 1 : 1000;
  // Errors: counters named for errors; else samples of a counted family labelled with an error outcome.
  const named = hsm.filter((s) => ERROR_NAME.test(s.name) && !/_bucket$|_sum$/.test(s.name));
  const labelled = hsm.filter((s) => /_count$|_total$/.test(s.name) && Object.values(s.labels).some((v) => ERROR_LABEL.test(v)));
  const errors = (named.length ? named : labelled).reduce((a, s) => a + delta(s), 0);
  return { found: hsm.length > 0, latencyMs: calls > 0 ? (sum / calls) * unit : undefined, errors, calls };
}
