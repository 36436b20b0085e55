import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Flags, parseKeyValueList, UsageError } from './args.ts';
import { makeContext } from './command.ts';
import type { CliIO } from './io.ts';
import { parseDataArgs, parseStdinObject, secretRows } from './secret.ts';

/** An in-memory terminal: stdin is a fixed string, output is collected. */
function memoryIO(stdin = ''): CliIO & { out: string[] } {
  const out: string[] = [];
  return {
    env: {},
    out,
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
    readStdin: async () => stdin,
    promptSecret: async () => stdin.split('\n')[0]!,
  };
}

describe('secretRows', () => {
  it('shows a lease-less TTL as refresh_interval, then data keys sorted', () => {
    const rows = secretRows({ lease_duration: 2764800, data: { b: 2, a: 1 } });
    assert.deepEqual(rows, [
      ['refresh_interval', '768h'],
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('shows lease id, duration and renewability for a leased secret', () => {
    const rows = secretRows({ lease_id: 'db/creds/x/abc', lease_duration: 3600, renewable: true, data: {} });
    assert.deepEqual(rows, [
      ['lease_id', 'db/creds/x/abc'],
      ['lease_duration', '1h'],
      ['lease_renewable', true],
    ]);
  });

  it('shows auth rows with an infinite duration for a non-expiring token', () => {
    const rows = new Map(secretRows({ auth: { client_token: 't', accessor: 'a', lease_duration: 0, policies: ['root'], metadata: { team: 'x' } } }));
    assert.equal(rows.get('token_duration'), '∞');
    assert.deepEqual(rows.get('policies'), ['root']);
    assert.equal(rows.get('token_meta_team'), 'x');
  });
});

describe('parseDataArgs', () => {
  const ctxWith = (stdin = '') => makeContext(memoryIO(stdin), new Flags(new Map(), {}), []);

  it('parses k=v, reads k=@file and collects repeated keys into a list', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-data-'));
    try {
      const file = path.join(dir, 'cert.pem');
      fs.writeFileSync(file, 'PEM DATA\n');
      const data = await parseDataArgs(ctxWith(), ['a=1', 'cert=@' + file, 'p=x', 'p=y', 'eq=a=b']);
      assert.deepEqual(data, { a: '1', cert: 'PEM DATA\n', p: ['x', 'y'], eq: 'a=b' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads k=- from stdin and a lone - as a JSON object', async () => {
    assert.deepEqual(await parseDataArgs(ctxWith('top secret\n'), ['value=-']), { value: 'top secret' });
    assert.deepEqual(await parseDataArgs(ctxWith('{"n": 1, "s": "x"}'), ['-']), { n: 1, s: 'x' });
  });

  it('rejects arguments without a key, without echoing them', async () => {
    await assert.rejects(parseDataArgs(ctxWith(), ['s3cret']), (e: unknown) => e instanceof UsageError && !e.message.includes('s3cret'));
    await assert.rejects(parseDataArgs(ctxWith(), ['=v']), UsageError);
  });
});

describe('parseStdinObject', () => {
  it('accepts key=value lines when stdin is not JSON', () => {
    assert.deepEqual(parseStdinObject('a=1\nb=two\n'), { a: '1', b: 'two' });
  });

  it('rejects broken JSON', () => {
    assert.throws(() => parseStdinObject('{"a":'), /not hold a valid JSON object/);
  });
});

describe('parseKeyValueList', () => {
  it('splits at the first = and names the flag when malformed', () => {
    assert.deepEqual(parseKeyValueList(['version=2', 'x=a=b'], 'options'), { version: '2', x: 'a=b' });
    assert.throws(() => parseKeyValueList(['oops'], 'options'), /-options values must look like key=value/);
  });
});
