import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { readStoredToken, storeToken, tokenFilePath } from './token-helper.ts';

describe('token helper file', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-token-'));
    env = { TRESOR_TOKEN_FILE: path.join(dir, 'token') };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores the token with mode 0600 and reads it back', () => {
    storeToken(env, 'hvs.example');
    assert.equal(fs.statSync(env.TRESOR_TOKEN_FILE!).mode & 0o777, 0o600);
    assert.equal(readStoredToken(env), 'hvs.example');
  });

  it('tightens a token file that existed with looser permissions', () => {
    fs.writeFileSync(env.TRESOR_TOKEN_FILE!, 'old', { mode: 0o644 });
    storeToken(env, 'hvs.new');
    assert.equal(fs.statSync(env.TRESOR_TOKEN_FILE!).mode & 0o777, 0o600);
    assert.equal(readStoredToken(env), 'hvs.new');
  });

  it('returns undefined when there is no token file', () => {
    assert.equal(readStoredToken(env), undefined);
  });

  it('defaults to ~/.tresor-token', () => {
    assert.equal(tokenFilePath({ HOME: '/home/alice' }), '/home/alice/.tresor-token');
  });
});
