import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rfc3339NanoNow } from './wrapping.ts';

describe('wrap creation_time', () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  it('prints nine fraction digits as Go RFC3339Nano does, trailing zeros dropped', () => {
    assert.equal(rfc3339NanoNow(at, 123_456), '2026-01-02T03:04:05.678123456Z');
    assert.equal(rfc3339NanoNow(at, 120_000), '2026-01-02T03:04:05.67812Z');
    assert.equal(rfc3339NanoNow(at, 0), '2026-01-02T03:04:05.678Z');
    assert.equal(rfc3339NanoNow(at, 5), '2026-01-02T03:04:05.678000005Z');
  });
  it('has no fraction on a whole second', () => {
    assert.equal(rfc3339NanoNow(Date.UTC(2026, 0, 2, 3, 4, 5, 0), 0), '2026-01-02T03:04:05Z');
    assert.equal(rfc3339NanoNow(Date.UTC(2026, 0, 2, 3, 4, 5, 0), 1), '2026-01-02T03:04:05.000000001Z');
  });
});
