/**
 * The HSM panel's reading of sys/metrics (ui/src/metrics.ts), fed with what prom-client itself writes: the mean
 * latency and the errors between two scrapes, and nothing found when no family names the HSM.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { hsmFigures, parseProm } from '../ui/src/metrics.ts';

describe('ui metrics: HSM latency and errors from Prometheus text', () => {
  it('takes the mean latency and the error count between two scrapes of a labelled histogram and an error counter', async () => {
    const registry = new Registry();
    const calls = new Histogram({ name: 'tresor_hsm_call_duration_seconds', help: 'HSM calls', labelNames: ['operation'], registers: [registry] });
    const errors = new Counter({ name: 'tresor_hsm_errors_total', help: 'HSM errors', labelNames: ['code'], registers: [registry] });
    new Counter({ name: 'tresor_http_requests_total', help: 'not the HSM', registers: [registry] }).inc(50);
    calls.observe({ operation: 'encrypt' }, 0.5);
    const first = parseProm(await registry.metrics());
    calls.observe({ operation: 'encrypt' }, 0.002);
    calls.observe({ operation: 'decrypt' }, 0.004);
    errors.inc({ code: 'CKR_DEVICE_REMOVED' }, 3);
    const second = parseProm(await registry.metrics());

    const f = hsmFigures(first, second);
    assert.equal(f.found, true);
    assert.equal(f.calls, 2);
    assert.ok(Math.abs(f.latencyMs! - 3) < 1e-9, String(f.latencyMs));
    assert.equal(f.errors, 3);
    // Nothing happened between a scrape and itself.
    const idle = hsmFigures(second, second);
    assert.equal(idle.latencyMs, undefined);
    assert.equal(idle.errors, 0);
    // The first scrape alone gives no interval.
    assert.equal(hsmFigures(undefined, first).calls, 0);
  });

  it('counts errors from an outcome label when there is no error counter', async () => {
    const registry = new Registry();
    const calls = new Histogram({ name: 'pkcs11_operation_seconds', help: 'calls', labelNames: ['result'], registers: [registry] });
    const first = parseProm(await registry.metrics());
    calls.observe({ result: 'ok' }, 0.001);
    calls.observe({ result: 'error' }, 0.001);
    calls.observe({ result: 'error' }, 0.001);
    const f = hsmFigures(first, parseProm(await registry.metrics()));
    assert.equal(f.calls, 3);
    assert.equal(f.errors, 2);
  });

  it('finds nothing when no family names the HSM, and skips junk lines', () => {
    const text = '# HELP x y\nprocess_cpu_seconds_total 1.5\ngarbage line here\nhttp_requests_total{method="GET"} 7\n';
    const samples = parseProm(text);
    assert.equal(samples.length, 2);
    assert.deepEqual(samples[1].labels, { method: 'GET' });
    assert.equal(hsmFigures(undefined, samples).found, false);
  });
});
