import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { onReload, onShutdown, runReloadHooks, runShutdownHooks } from './lifecycle-hooks.ts';

describe('lifecycle hooks', () => {
  it('runs shutdown hooks in order, awaits them, logs a failing one and still runs the rest; unregister works', async () => {
    const ran: string[] = [];
    const warnings: string[] = [];
    const offA = onShutdown(async () => {
      await new Promise((r) => setTimeout(r, 10));
      ran.push('a');
    });
    const offB = onShutdown(() => {
      throw new Error('disk full');
    });
    const offC = onShutdown(() => {
      ran.push('c');
    });
    await runShutdownHooks((m) => warnings.push(m));
    assert.deepEqual(ran, ['a', 'c']);
    assert.deepEqual(warnings, ['server: a shutdown hook failed: disk full']);
    offA();
    offB();
    offC();
    await runShutdownHooks((m) => warnings.push(m));
    assert.deepEqual(ran, ['a', 'c']);
  });

  it('keeps reload hooks apart from shutdown hooks', async () => {
    let reloads = 0;
    const off = onReload(() => {
      reloads++;
    });
    await runShutdownHooks(() => {});
    assert.equal(reloads, 0);
    await runReloadHooks(() => {});
    assert.equal(reloads, 1);
    off();
  });
});
