import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as openpgp from 'openpgp';
import { UsageError } from '../args.ts';
import { numberedKeys, readPgpKeyFile } from './keys.ts';

describe('readPgpKeyFile', () => {
  let dir: string;
  let armored: string;
  let binaryBase64: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-pgp-'));
    const { publicKey } = await openpgp.generateKey({ userIDs: [{ name: 'Share Holder' }], format: 'armored' });
    armored = publicKey;
    const key = await openpgp.readKey({ armoredKey: armored });
    binaryBase64 = Buffer.from(key.write()).toString('base64');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('turns an ASCII-armored public key into base64 of the binary key', () => {
    const file = path.join(dir, 'armored.asc');
    fs.writeFileSync(file, armored);
    assert.equal(readPgpKeyFile(file), binaryBase64);
  });

  it('base64-encodes a binary key file', () => {
    const file = path.join(dir, 'binary.gpg');
    fs.writeFileSync(file, Buffer.from(binaryBase64, 'base64'));
    assert.equal(readPgpKeyFile(file), binaryBase64);
  });

  it('passes through a file that already holds base64', () => {
    const file = path.join(dir, 'key.b64');
    fs.writeFileSync(file, `${binaryBase64}\n`);
    assert.equal(readPgpKeyFile(file), binaryBase64);
  });

  it('refuses keybase: names because it makes no network lookups', () => {
    assert.throws(() => readPgpKeyFile('keybase:alice'), (e: unknown) => e instanceof UsageError && /keybase/.test(e.message));
  });

  it('reports an unreadable file as a usage error', () => {
    assert.throws(() => readPgpKeyFile(path.join(dir, 'absent.asc')), (e: unknown) => e instanceof UsageError && /ENOENT/.test(e.message));
  });
});

describe('numberedKeys', () => {
  it('numbers key lines from 1', () => {
    assert.equal(numberedKeys('Unseal Key', ['a', 'b']), 'Unseal Key 1: a\nUnseal Key 2: b');
  });
});
