import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kvApiPath, kvMountFromPreflight, kvUserPath } from './kv-paths.ts';

describe('kvApiPath', () => {
  it('inserts the API prefix right after the mount', () => {
    assert.equal(kvApiPath('secret/', 'secret/app/db', 'data'), 'secret/data/app/db');
    assert.equal(kvApiPath('secret/', '/secret/app/', 'metadata'), 'secret/metadata/app');
    assert.equal(kvApiPath('team/kv/', 'team/kv/x', 'destroy'), 'team/kv/destroy/x');
  });

  it('gives mount/prefix for the mount itself (used by kv list at the top)', () => {
    assert.equal(kvApiPath('secret/', 'secret', 'metadata'), 'secret/metadata');
    assert.equal(kvApiPath('secret/', 'secret/', 'metadata'), 'secret/metadata');
  });

  it('does not confuse a mount with a longer sibling name', () => {
    assert.equal(kvApiPath('sec/', 'sec/secret', 'data'), 'sec/data/secret');
  });
});

describe('kvUserPath', () => {
  it('joins the -mount flag in front of the path', () => {
    assert.equal(kvUserPath('app/db', 'secret'), 'secret/app/db');
    assert.equal(kvUserPath('/app/', '/secret/'), 'secret/app');
    assert.equal(kvUserPath('secret/app', undefined), 'secret/app');
  });
});

describe('kvMountFromPreflight', () => {
  it('reads the mount path and version 2 from the preflight answer', () => {
    const m = kvMountFromPreflight('secret/app', { data: { path: 'secret/', type: 'kv', options: { version: '2' } } });
    assert.deepEqual(m, { mountPath: 'secret/', version: 2 });
  });

  it('treats a kv mount without version 2 as version 1', () => {
    assert.equal(kvMountFromPreflight('kv/a', { data: { path: 'kv/', type: 'kv', options: null } }).version, 1);
  });

  it('assumes version 1 at the first segment when the endpoint is missing', () => {
    assert.deepEqual(kvMountFromPreflight('old/app/x', null), { mountPath: 'old/', version: 1 });
  });
});
