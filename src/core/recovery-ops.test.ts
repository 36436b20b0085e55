import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TresorError } from './errors.ts';
import { requireNonce, sourceKey, StartLimiter } from './recovery-ops.ts';

describe('sourceKey', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    assert.equal(sourceKey('127.0.0.2'), '127.0.0.2');
    assert.equal(sourceKey('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(sourceKey('2001:0db8:0000:0000:ffff:1:2:3'), '2001:db8:0:0::/64');
    assert.equal(sourceKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(sourceKey('::1'), '0:0:0:0::/64');
    assert.equal(sourceKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.equal(sourceKey(undefined), 'unknown');
    assert.equal(sourceKey(''), 'unknown');
  });
});

describe('StartLimiter', () => {
  it('counts each source in its own sliding window', () => {
    let now = 0;
    const limiter = new StartLimiter('test', 2, 1000, () => now);
    limiter.take('10.0.0.1');
    limiter.take('10.0.0.1');
    assert.throws(() => limiter.take('10.0.0.1'), (e: unknown) => e instanceof TresorError && e.status === 429);
    limiter.take('10.0.0.2');
    now = 1001;
    limiter.take('10.0.0.1');
  });

  it('tracks at most maxSources addresses, forgetting expired ones first, then the least recently seen', () => {
    let now = 0;
    const limiter = new StartLimiter('test', 1, 1000, () => now, 2);
    limiter.take('a');
    now = 500;
    limiter.take('b');
    now = 1200; // a's window is over, b's is not
    limiter.take('c');
    assert.throws(() => limiter.take('b'), /too many/, 'b is still remembered');
    limiter.take('d'); // over the cap: c and b are in their windows, so the least recently seen (b) goes
    limiter.take('b');
    assert.throws(() => limiter.take('d'), /too many/);
  });
});

describe('requireNonce', () => {
  it('is a 400 naming the field for a missing nonce and for a wrong one of any length', () => {
    assert.throws(() => requireNonce('abc', undefined, 'op'), /'nonce' must be specified for this op operation/);
    assert.throws(() => requireNonce('abc', 'abd', 'op'), /incorrect nonce supplied for this op operation/);
    assert.throws(() => requireNonce('abc', 'abcd', 'op'), /incorrect nonce/);
    requireNonce('abc', 'abc', 'op');
  });
});
