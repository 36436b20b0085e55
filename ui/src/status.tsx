// Status: seal, health, barrier key, HA role and the HSM panel with a live chart from sys/metrics.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, missing } from './api.ts';
import { ErrorBox, KV, Section } from './ui.tsx';
import type { SealStatus } from './main.tsx';
import { hsmFigures, parseProm, type PromSample } from './metrics.ts';

interface Sample {
  at: number;
  latencyMs: number | undefined;
  errors: number;
}

function Chart({ samples }: { samples: Sample[] }) {
  const w = 300;
  const h = 80;
  const maxLat = Math.max(1, ...samples.map((s) => s.latencyMs ?? 0));
  const maxErr = Math.max(1, ...samples.map((s) => s.errors));
  const x = (i: number) => (samples.length <= 1 ? 0 : (i / (samples.length - 1)) * w);
  const line = samples.map((s, i) => `${x(i).toFixed(1)},${(h - ((s.latencyMs ?? 0) / maxLat) * (h - 4)).toFixed(1)}`).join(' ');
  const last = samples[samples.length - 1];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`HSM call latency over the last ${samples.length} samples`} preserveAspectRatio="none">
        {samples.map((s, i) =>
          s.errors > 0 ? <rect key={i} class="err-bar" x={x(i) - 2} width="4" y={h - (s.errors / maxErr) * (h - 4)} height={(s.errors / maxErr) * (h - 4)} /> : null,
        )}
        <polyline class="lat-line" points={line} fill="none" />
      </svg>
      <figcaption>
        Line: mean HSM call latency ({last?.latencyMs !== undefined ? `${last.latencyMs.toFixed(2)} ms now` : 'no calls in the last interval'}, peak{' '}
        {maxLat.toFixed(2)} ms). Bars: HSM errors per interval ({samples.reduce((a, s) => a + s.errors, 0)} in view).
      </figcaption>
    </figure>
  );
}

function useMetrics(): { samples: Sample[]; available: boolean | undefined; error?: unknown } {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [available, setAvailable] = useState<boolean | undefined>();
  const [error, setError] = useState<unknown>();
  const prev = useRef<PromSample[] | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const res = await fetch('/v1/sys/metrics?format=prometheus', { headers: tokenHeader(), cache: 'no-store' });
        if (res.status === 404 || res.status === 405 || res.status === 501) {
          setAvailable(false);
          return;
        }
        if (!res.ok) {
          const body = await res.json().catch(() => ({}));
          throw new ApiError(res.status, body.errors ?? [`HTTP ${res.status}`], 'GET', 'sys/metrics');
        }
        const cur = parseProm(await res.text());
        const f = hsmFigures(prev.current, cur);
        const first = !prev.current;
        prev.current = cur;
        setAvailable(f.found);
        setError(undefined);
        if (!first && !stopped) setSamples((s) => [...s.slice(-59), { at: Date.now(), latencyMs: f.latencyMs, errors: f.errors }]);
      } catch (e) {
        setError(e);
      }
    };
    void tick();
    const t = setInterval(tick, 3000);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, []);
  return { samples, available, error };
}

function tokenHeader(): Record<string, string> {
  const t = sessionStorage.getItem('tresor.token');
  return t ? { 'X-Vault-Token': t } : {};
}

export function StatusPage({ seal }: { seal: SealStatus }) {
  const [backend, setBackend] = useState<any>();
  const [backendMissing, setBackendMissing] = useState(false);
  const [health, setHealth] = useState<any>();
  const [keyStatus, setKeyStatus] = useState<any>();
  const [leader, setLeader] = useState<any>();
  const [error, setError] = useState<unknown>();
  const metrics = useMetrics();

  useEffect(() => {
    const load = async () => {
      const results = await Promise.allSettled([
        get('sys/seal-backend-status'),
        get('sys/health', { accept: [429, 472, 473, 501, 503] }),
        get('sys/key-status'),
        get('sys/leader'),
      ]);
      const [b, h, k, l] = results;
      if (b.status === 'fulfilled') setBackend(b.value);
      else if (missing(b.reason)) setBackendMissing(true);
      if (h.status === 'fulfilled') setHealth(h.value);
      if (k.status === 'fulfilled') setKeyStatus(k.value?.data ?? k.value);
      if (l.status === 'fulfilled') setLeader(l.value);
      const failed = results.find((r) => r.status === 'rejected' && !missing(r.reason)) as PromiseRejectedResult | undefined;
      setError(failed?.reason);
    };
    void load();
    const t = setInterval(load, 2000);
    return () => clearInterval(t);
  }, []);

  const hsm = seal.type === 'pkcs11' || seal.recovery_seal;
  const healthy = backend ? backend.healthy !== false : undefined;
  const backends: any[] = backend?.backends ?? [];
  return (
    <>
      <h1>Status</h1>
      <ErrorBox error={error} />
      {hsm && (
        <section class={`card hsm ${healthy === false ? 'bad' : healthy ? 'good' : ''}`} aria-labelledby="hsm-h">
          <h2 id="hsm-h">HSM</h2>
          {backendMissing ? (
            <p>This server has no sys/seal-backend-status.</p>
          ) : healthy === undefined ? (
            <p aria-live="polite">Asking the HSM…</p>
          ) : (
            <p class={`state ${healthy ? 'good' : 'bad'}`} role="status" aria-live="assertive" data-testid="hsm-health">
              <span aria-hidden="true">{healthy ? '✓ ' : '✗ '}</span>
              {healthy ? 'HSM healthy' : `HSM UNHEALTHY${backend.unhealthy_since ? ` since ${new Date(backend.unhealthy_since).toLocaleString()}` : ''}`}
            </p>
          )}
          {backends.map((b, i) => (
            <KV
              key={i}
              rows={Object.entries(b)
                .filter(([k]) => k !== 'healthy' && k !== 'unhealthy_since')
                .map(([k, v]) => [k.replace(/_/g, ' '), String(v)] as [string, string])}
            />
          ))}
          <h3>HSM calls</h3>
          {metrics.available === false ? (
            <p>
              <small>Latency and error figures appear here when the server offers HSM metrics at sys/metrics.</small>
            </p>
          ) : metrics.samples.length < 2 ? (
            <p aria-live="polite">
              <small>Collecting samples from sys/metrics…</small>
            </p>
          ) : (
            <Chart samples={metrics.samples} />
          )}
          {metrics.error ? <ErrorBox error={metrics.error} /> : null}
        </section>
      )}
      <Section title="Seal" id="seal">
        <KV
          rows={[
            ['Seal type', seal.type],
            ['Recovery seal', seal.recovery_seal ? 'yes' : 'no'],
            ['Sealed', seal.sealed ? 'yes' : 'no'],
            ['Threshold / shares', `${seal.t} of ${seal.n}`],
            ['Version', seal.version],
            ['Cluster', `${seal.cluster_name ?? ''} ${seal.cluster_id ? `(${seal.cluster_id})` : ''}`],
            ['Storage', seal.storage_type ?? ''],
          ]}
        />
      </Section>
      <Section title="Health" id="health">
        {health ? (
          <KV
            rows={[
              ['Initialised', health.initialized ? 'yes' : 'no'],
              ['Sealed', health.sealed ? 'yes' : 'no'],
              ['Standby', health.standby ? 'yes' : 'no'],
              ['Server time', health.server_time_utc ? new Date(health.server_time_utc * 1000).toISOString() : ''],
            ]}
          />
        ) : (
          <p>…</p>
        )}
      </Section>
      <Section title="Barrier key" id="key">
        {keyStatus ? (
          <KV
            rows={[
              ['Term', String(keyStatus.term)],
              ['Installed', keyStatus.install_time],
              ['Encryptions', String(keyStatus.encryptions ?? '')],
            ]}
          />
        ) : (
          <p>Not visible to this token (sys/key-status).</p>
        )}
      </Section>
      <Section title="High availability" id="ha">
        {leader ? (
          <KV
            rows={[
              ['HA enabled', leader.ha_enabled ? 'yes' : 'no'],
              ['Role', leader.ha_enabled ? (leader.is_self ? 'active' : 'standby') : 'single node (active)'],
              ['Leader address', leader.leader_address || '—'],
            ]}
          />
        ) : (
          <p>No HA information (sys/leader).</p>
        )}
      </Section>
    </>
  );
}
