import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { closedLoop } from './closed-loop.ts';

describe('closedLoop', () => {
  it('counts only operations that complete inside the window, never more than the workers allow', async () => {
    const result = await closedLoop({ concurrency: 2, warmupMs: 100, durationMs: 300 }, () => sleep(10));
    // Two workers of 10 ms operations: at most 2 × 300/10 = 60 in the window.
    assert.ok(result.ops <= 60, `ops ${result.ops}`);
    assert.ok(result.ops >= 30, `ops ${result.ops}`);
    assert.ok(result.issued > result.ops, 'warm-up operations are issued but not counted');
    assert.equal(result.perSecond, result.ops / 0.3);
    assert.ok(result.p50Ms >= 9, `p50 ${result.p50Ms}`);
  });

  it('keeps exactly `concurrency` operations in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    await closedLoop({ concurrency: 5, warmupMs: 0, durationMs: 100 }, async () => {
      peak = Math.max(peak, ++inFlight);
      await sleep(5);
      inFlight--;
    });
    assert.equal(peak, 5);
  });

  it('counts thrown operations as errors and keeps the first message', async () => {
    const result = await closedLoop({ concurrency: 1, warmupMs: 0, durationMs: 100 }, async (_worker, seq) => {
      await sleep(1);
      if (seq % 2 === 1) throw new Error(`failure ${seq}`);
    });
    assert.ok(result.errors > 0);
    assert.ok(Math.abs(result.errors - result.ops) <= 1, `${result.errors} errors vs ${result.ops} successes`);
    assert.equal(result.firstError, 'failure 1');
  });
});
