/**
 * `npm run bench`: every figure beside a ceiling measured in the same run on
 * the same machine. Servers under test and the bare-http ceiling run as child
 * processes; the load generator runs here. Prints a table and writes
 * bench/results.json (full runs only).
 *
 * BENCH_ONLY=unseal,health,transit,auth,hsm,kv,auto-unseal,startup,audit,ui,ha,transit-seal,managed-keys,metrics picks sections;
 * BENCH_DURATION_MS sets each counted window (default 3000).
 */
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { TestServer } from '../test/helpers/server.ts';
import { createSoftHsmToken } from '../test/helpers/softhsm.ts';
import { formatTable, machineInfo, writeResults, type Row, type Section } from './report.ts';
import { benchAudit } from './sections/audit.ts';
import { benchAuth } from './sections/auth.ts';
import { benchAutoUnseal } from './sections/auto-unseal.ts';
import { benchHa } from './sections/ha.ts';
import { benchHealth } from './sections/health.ts';
import { benchHsmSeal } from './sections/hsm-seal.ts';
import { benchKv, mountKvEngines } from './sections/kv.ts';
import { benchManagedKeys } from './sections/managed-keys.ts';
import { benchMetricsScrape } from './sections/metrics.ts';
import { benchShamirUnseal, initShamir, SHARES, THRESHOLD } from './sections/shamir-unseal.ts';
import { autoUnsealStartFigure, benchCliStart, type NodeBaseline } from './sections/startup.ts';
import { benchTransit } from './sections/transit.ts';
import { benchUi } from './sections/ui.ts';
import { benchTransitSeal } from './sections/transit-seal.ts';
import { discard, hsmServerConfig, hsmServerEnv, initHsmServer } from './servers.ts';
import { ProcessProbe } from './process-probe.ts';
import { loadSettings } from './settings.ts';

const SECTION_NAMES = ['unseal', 'health', 'transit', 'auth', 'hsm', 'kv', 'auto-unseal', 'startup', 'audit', 'ui', 'ha', 'transit-seal', 'managed-keys', 'metrics'] as const;
type SectionName = (typeof SECTION_NAMES)[number];
/** The HSM-sealed server's max_parallel; its seal-wrapped writes are compared with raw encrypt at this concurrency. */
const SERVER_MAX_PARALLEL = 4;

const settings = loadSettings();
const selected = parseOnly(process.env.BENCH_ONLY);
const wants = (name: SectionName) => selected.has(name);
const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`);
const rows = new Map<SectionName, Row[]>(SECTION_NAMES.map((name) => [name, []]));
const startedAt = new Date();
const loadAtStart = os.loadavg()[0]!;

let nodeBaseline: NodeBaseline | undefined;
if (wants('unseal') || wants('health') || wants('transit') || wants('startup') || wants('auth') || wants('audit') || wants('metrics')) {
  progress('Shamir server: unseal latency, sys/health, transit, logins, tresor status start-up, audit, metrics scrape');
  const server = await TestServer.start();
  try {
    const init = await initShamir(server);
    if (wants('unseal')) rows.get('unseal')!.push(await benchShamirUnseal(server, init, settings.unsealRounds));
    if (wants('health')) rows.get('health')!.push(await benchHealth(server, settings.http));
    if (wants('transit')) rows.get('transit')!.push(...(await benchTransit(server, init.rootToken, settings.http)));
    if (wants('startup')) {
      const startup = await benchCliStart(server, settings.startupRounds);
      rows.get('startup')!.push(startup.figure, startup.againstOneRequest);
      nodeBaseline = startup.baseline;
    }
    if (wants('auth')) rows.get('auth')!.push(...(await benchAuth(server, init.rootToken, settings.http)));
    // Last on this server: it leaves no audit device behind, but its mounts stay.
    if (wants('audit')) rows.get('audit')!.push(...(await benchAudit(server, init.rootToken, settings.http)));
    if (wants('metrics')) rows.get('metrics')!.push(...(await benchMetricsScrape(server, init.rootToken, settings.http)));
  } finally {
    await discard(server);
  }
}

let rawEncryptAtServerParallelism: number | undefined;
if (wants('hsm') || wants('kv')) {
  progress('Pkcs11Seal in-process vs raw pkcs11js');
  const hsm = await benchHsmSeal(settings.hsmWindow);
  if (wants('hsm')) rows.get('hsm')!.push(...hsm.figures);
  rawEncryptAtServerParallelism = hsm.rawEncryptPerSecond.get(SERVER_MAX_PARALLEL);
}

if (wants('kv') || wants('auto-unseal') || wants('startup')) {
  progress('HSM-sealed server: KV v2 plain and seal-wrapped, auto-unseal');
  const token = createSoftHsmToken({ label: 'bench-server' });
  const probe = new ProcessProbe();
  const server = await TestServer.start({ config: hsmServerConfig(token, SERVER_MAX_PARALLEL), env: { ...hsmServerEnv(token), ...probe.env() } });
  probe.attach(server.proc.pid);
  try {
    const rootToken = await initHsmServer(server, SHARES, THRESHOLD);
    if (wants('kv')) {
      await mountKvEngines(server);
      const ceiling = { label: `raw HSM encrypt, ${SERVER_MAX_PARALLEL} sessions`, value: rawEncryptAtServerParallelism!, unit: 'ops/s' as const };
      rows.get('kv')!.push(...(await benchKv(server, rootToken, settings.http, ceiling, probe)));
    }
    await server.stop();
    if (wants('auto-unseal') || wants('startup')) {
      const figures = await benchAutoUnseal(server, token, settings.autoUnsealRounds);
      if (wants('auto-unseal')) rows.get('auto-unseal')!.push(...figures);
      if (wants('startup')) rows.get('startup')!.push(autoUnsealStartFigure(figures.find((f) => f.id === 'unseal.auto.process')!, nodeBaseline!));
    }
  } finally {
    await discard(server);
    token.cleanup();
  }
}

if (wants('ui')) {
  progress('-dev server (ui = true): the web UI\'s files');
  const server = await TestServer.startDev();
  try {
    rows.get('ui')!.push(...(await benchUi(server, settings.http)));
  } finally {
    await discard(server);
  }
}
if (wants('ha')) {
  progress('HA on etcd: KV on etcd beside file storage and raw etcd3; takeover after kill -9');
  rows.get('ha')!.push(...(await benchHa(settings.http, Number(process.env.BENCH_HA_ROUNDS ?? 5))));
}
if (wants('transit-seal')) {
  progress('transit-sealed server vs pkcs11-sealed server: seal-wrapped KV writes');
  rows.get('transit-seal')!.push(...(await benchTransitSeal(settings.http, SERVER_MAX_PARALLEL)));
}
if (wants('managed-keys')) {
  progress('Managed keys: transit encrypt with a key in the token vs raw pkcs11js');
  rows.get('managed-keys')!.push(...(await benchManagedKeys(settings.http)));
}

const titles: Record<SectionName, string> = {
  unseal: '1. Unseal latency (Shamir)',
  'auto-unseal': '1. Unseal latency (HSM auto-unseal)',
  health: '2. GET /v1/sys/health',
  hsm: '3. HSM wrap/unwrap through the seal layer',
  kv: `4. KV v2 on file storage (SQLite, synchronous=FULL), HSM seal with max_parallel ${SERVER_MAX_PARALLEL}`,
  transit: '5. Transit encrypt and sign',
  auth: '6. Logins and token creation (file storage, Shamir seal; each stores a token)',
  startup: '7. Start-up of the compiled JavaScript (bin/tresor runs dist/)',
  audit: '8. Audit: KV v2 write and transit encrypt with one file audit device (file storage, Shamir seal)',
  ui: '9. Web UI files (GET /ui/ and its script, -dev server)',
  ha: '10. HA on etcd (one local etcd, three nodes, HSM seal, lock_timeout 2s)',
  'transit-seal': '11. Seal-wrapped KV v2 writes through the transit seal (peer: a -dev server on this machine)',
  'managed-keys': '12. Transit with a managed key (AES-GCM in a SoftHSM2 token)',
  metrics: '13. Cost of GET /v1/sys/metrics under load (file storage, Shamir seal)',
};
const order: SectionName[] = ['unseal', 'auto-unseal', 'health', 'hsm', 'kv', 'transit', 'auth', 'startup', 'audit', 'ui', 'ha', 'transit-seal', 'managed-keys', 'metrics'];
const sections: Section[] = order.filter(wants).map((name) => ({ title: titles[name], rows: rows.get(name)! }));

const elapsedS = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0);
const loadAverage = { start: loadAtStart, end: os.loadavg()[0]! };
process.stdout.write(
  `\n${formatTable(sections)}\n\nRatio: Tresor as a fraction of its ceiling (rates: Tresor/ceiling; latencies: ceiling/Tresor).\n` +
    `Took ${elapsedS} s; 1-minute load average ${loadAverage.start.toFixed(2)} at start, ${loadAverage.end.toFixed(2)} at end on ${os.availableParallelism()} CPUs.\n`,
);
if (selected.size === SECTION_NAMES.length) {
  const file = fileURLToPath(new URL('./results.json', import.meta.url));
  writeResults(file, { date: startedAt.toISOString(), machine: machineInfo(), settings: { ...settings, serverMaxParallel: SERVER_MAX_PARALLEL }, loadAverage, sections });
  process.stdout.write(`Wrote ${file}\n`);
}

function parseOnly(value: string | undefined): Set<SectionName> {
  if (!value) return new Set(SECTION_NAMES);
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(SECTION_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown section(s) ${unknown.join(', ')}; use ${SECTION_NAMES.join(', ')}`);
  return new Set(names as SectionName[]);
}
