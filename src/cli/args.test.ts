import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flags, parseArgs, UsageError, type FlagSpec } from './args.ts';

const spec: FlagSpec = {
  'key-shares': { kind: 'int', description: 'shares' },
  format: { kind: 'string', description: 'format' },
  f: { kind: 'bool', description: 'force' },
  policy: { kind: 'list', description: 'policies' },
  'pgp-keys': { kind: 'list', commaList: true, description: 'keys' },
  target: { kind: 'string', default: 'barrier', description: 'target' },
};

describe('parseArgs', () => {
  it('accepts -name=value, -name value and --name=value forms', () => {
    const a = parseArgs(['-key-shares=5', '-format', 'json', '--f', 'secret/x'], spec);
    assert.equal(a.flags.get('key-shares'), 5);
    assert.equal(a.flags.get('format'), 'json');
    assert.equal(a.flags.get('f'), true);
    assert.deepEqual(a.positionals, ['secret/x']);
  });

  it('stops at the first positional so later dashes stay arguments', () => {
    const a = parseArgs(['secret/x', '-f', 'k=v'], spec);
    assert.equal(a.flags.has('f'), false);
    assert.deepEqual(a.positionals, ['secret/x', '-f', 'k=v']);
  });

  it('treats a lone "-" as a positional and "--" as the end of flags', () => {
    assert.deepEqual(parseArgs(['-f', '-', 'x'], spec).positionals, ['-', 'x']);
    assert.deepEqual(parseArgs(['--', '-f'], spec).positionals, ['-f']);
  });

  it('does not let a boolean flag swallow the next argument, but accepts -f=false', () => {
    const a = parseArgs(['-f', 'path'], spec);
    assert.equal(a.flags.get('f'), true);
    assert.deepEqual(a.positionals, ['path']);
    assert.equal(parseArgs(['-f=false'], spec).flags.get('f'), false);
  });

  it('collects repeated list flags and splits comma lists', () => {
    const a = parseArgs(['-policy=a', '-policy', 'b,c', '-pgp-keys=k1.asc,k2.asc'], spec);
    assert.deepEqual(a.flags.get('policy'), ['a', 'b,c']);
    assert.deepEqual(a.flags.get('pgp-keys'), ['k1.asc', 'k2.asc']);
  });

  it('reports -h, -help and --help as a help request', () => {
    for (const h of ['-h', '-help', '--help']) assert.equal(parseArgs([h], spec).help, true);
  });

  it('rejects unknown flags, missing values and bad integers without echoing the value', () => {
    assert.throws(() => parseArgs(['-nope=1'], spec), (e: unknown) => e instanceof UsageError && /-nope/.test(e.message));
    assert.throws(() => parseArgs(['-format'], spec), /needs an argument: -format/);
    assert.throws(
      () => parseArgs(['-key-shares=s3cret'], spec),
      (e: unknown) => e instanceof UsageError && !e.message.includes('s3cret'),
    );
    assert.throws(() => parseArgs(['-f=maybe'], spec), /invalid boolean/);
  });
});

describe('Flags', () => {
  it('returns defaults for unset flags and typed values for set ones', () => {
    const parsed = parseArgs(['-key-shares=3'], spec);
    const flags = new Flags(parsed.flags, spec);
    assert.equal(flags.int('key-shares'), 3);
    assert.equal(flags.string('target'), 'barrier');
    assert.equal(flags.string('format'), undefined);
    assert.equal(flags.bool('f'), false);
    assert.deepEqual(flags.list('policy'), []);
    assert.equal(flags.has('target'), false);
  });
});
