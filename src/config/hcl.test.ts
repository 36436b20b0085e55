import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BodyReader,
  HclSyntaxError,
  HclDecodeError,
  collectBlocks,
  parseDocument,
  parseHcl,
  parseJsonToHcl,
  printHcl,
  type HclAttribute,
  type HclBlock,
  type HclValue,
} from './hcl.ts';

function attr(source: string, key = 'v'): HclValue {
  const item = parseHcl(source).items.find((i): i is HclAttribute => i.kind === 'attribute' && i.key === key);
  assert.ok(item, `attribute ${key} present`);
  return item.value;
}

function syntaxError(source: string): HclSyntaxError {
  try {
    parseHcl(source);
  } catch (err) {
    assert.ok(err instanceof HclSyntaxError, `expected HclSyntaxError, got ${err}`);
    return err;
  }
  assert.fail('expected a syntax error');
}

describe('HCL values', () => {
  it('decodes strings with every supported escape', () => {
    const v = attr('v = "q\\" b\\\\ n\\n t\\t u\\u00e9 U\\U0001F600"');
    assert.deepEqual(v.kind === 'string' && v.value, 'q" b\\ n\n t\t u\u00e9 U\u{1F600}');
  });

  it('reads integers, floats, negatives, exponents and 0x hex', () => {
    const body = parseHcl('a = 42\nb = 1.5\nc = -7\nd = 0x1F\ne = -0x10\nf = 2e3');
    const values = body.items.map((i) => (i as HclAttribute).value);
    assert.deepEqual(values.map((v) => v.kind === 'number' && v.value), [42, 1.5, -7, 31, -16, 2000]);
    assert.deepEqual(values.map((v) => v.kind === 'number' && v.raw), ['42', '1.5', '-7', '0x1F', '-0x10', '2e3']);
  });

  it('reads booleans', () => {
    assert.deepEqual(attr('v = true'), { kind: 'bool', value: true, line: 1, column: 5 });
    assert.equal((attr('v = false') as { value: boolean }).value, false);
  });

  it('reads lists with a trailing comma, nested lists and objects', () => {
    const v = attr('v = [\n  "a",\n  ["b"],\n  { k = 1 },\n]');
    assert.equal(v.kind, 'list');
    if (v.kind !== 'list') return;
    assert.deepEqual(v.items.map((i) => i.kind), ['string', 'list', 'object']);
    assert.deepEqual([v.items[1].line, v.items[1].column], [3, 3]);
  });

  it('reads an object value with comma-separated entries', () => {
    const v = attr('v = { a = 1, b = "x" }');
    assert.equal(v.kind, 'object');
    if (v.kind !== 'object') return;
    assert.deepEqual(v.body.items.map((i) => (i as HclAttribute).key), ['a', 'b']);
  });

  it('keeps the final newline of a heredoc', () => {
    const v = attr('v = <<EOF\nline one\n  line two\nEOF\nafter = 1');
    assert.deepEqual(v.kind === 'string' && v.value, 'line one\n  line two\n');
    assert.deepEqual(v.kind === 'string' && v.heredoc, { marker: 'EOF', indented: false });
  });

  it('strips the closing marker indentation from an indented heredoc', () => {
    const v = attr('v = <<-EOT\n    path "a" {}\n      nested\n    EOT\n');
    assert.deepEqual(v.kind === 'string' && v.value, 'path "a" {}\n  nested\n');
  });

  it('leaves an indented heredoc alone when a line is less indented than the marker', () => {
    const v = attr('v = <<-EOT\n    a\n  b\n    EOT\n');
    assert.deepEqual(v.kind === 'string' && v.value, '    a\n  b\n');
  });

  it('accepts quoted keys', () => {
    assert.equal((parseHcl('"my key" = 1').items[0] as HclAttribute).key, 'my key');
  });
});

describe('HCL structure and positions', () => {
  const source = [
    '# leading comment',
    'storage "file" {',
    '  path = "/data" // trailing',
    '}',
    '/* block',
    '   comment */',
    'listener "tcp" {}',
    'ui = true',
  ].join('\n');

  it('parses blocks with labels and records 1-based line and column on every node', () => {
    const body = parseHcl(source);
    const storage = body.items[0] as HclBlock;
    assert.equal(storage.kind, 'block');
    assert.equal(storage.type, 'storage');
    assert.deepEqual(storage.labels.map((l) => [l.value, l.line, l.column]), [['file', 2, 9]]);
    assert.deepEqual([storage.line, storage.column], [2, 1]);
    const path = storage.body.items[0] as HclAttribute;
    assert.deepEqual([path.key, path.line, path.column, path.value.line, path.value.column], ['path', 3, 3, 3, 10]);
    const listener = body.items[1] as HclBlock;
    assert.deepEqual([listener.type, listener.line, listener.body.items.length], ['listener', 7, 0]);
    assert.deepEqual([(body.items[2] as HclAttribute).key, body.items[2].line], ['ui', 8]);
  });

  it('attaches leading and trailing comments to the items they belong to', () => {
    const body = parseHcl(source);
    assert.deepEqual(body.items[0].leadingComments.map((c) => c.text), ['# leading comment']);
    const path = (body.items[0] as HclBlock).body.items[0];
    assert.equal(path.trailingComment?.text, '// trailing');
    assert.deepEqual(body.items[1].leadingComments.map((c) => c.text), ['/* block\n   comment */']);
  });

  it('parses blocks with zero and several labels, quoted or bare', () => {
    const body = parseHcl('a {}\nb "x" y "z" { k = 1 }');
    assert.deepEqual(body.items.map((i) => (i as HclBlock).labels.map((l) => l.value)), [[], ['x', 'y', 'z']]);
  });
});

describe('HCL syntax errors', () => {
  it('reports a missing "=" after a key with its position', () => {
    const err = syntaxError('listener "tcp" {\n  address "127.0.0.1:8200"\n}');
    assert.equal(err.message, 'expected "=" after key "address"');
    assert.deepEqual([err.line, err.column], [2, 11]);
  });

  it('reports a key with nothing after it', () => {
    const err = syntaxError('a = 1\nlonely\n');
    assert.equal(err.message, 'expected "=" after key "lonely"');
    assert.equal(err.line, 3);
  });

  it('rejects an unterminated string at its opening quote', () => {
    const err = syntaxError('a = 1\nb = "open\n');
    assert.deepEqual([err.message, err.line, err.column], ['unterminated string', 2, 5]);
  });

  it('rejects an unterminated block', () => {
    assert.match(syntaxError('a {\n b = 1\n').message, /expected "}" before end of file/);
  });

  it('rejects an unterminated heredoc', () => {
    const err = syntaxError('v = <<EOF\nnever closed\n');
    assert.deepEqual([err.message, err.line], ['unterminated heredoc "EOF"', 1]);
  });

  it('rejects unknown escapes and bare words without echoing the value', () => {
    assert.match(syntaxError('v = "a\\qb"').message, /invalid escape "\\q"/);
    const bare = syntaxError('pin = hunter2');
    assert.equal(bare.message, 'invalid value for key "pin": strings must be quoted');
    const digits = syntaxError('pin = 1234abcd');
    assert.doesNotMatch(digits.message, /1234/);
  });

  it('rejects a list without separators', () => {
    assert.match(syntaxError('v = ["a" "b"]').message, /expected "," or "]" in the list for key "v"/);
  });

  it('rejects an unterminated block comment', () => {
    assert.match(syntaxError('a = 1 /* oops').message, /unterminated comment/);
  });
});

describe('JSON documents', () => {
  it('produces the same attribute tree with exact positions', () => {
    const body = parseJsonToHcl('{\n  "ui": true,\n  "storage": {"file": {"path": "/x"}}\n}');
    assert.deepEqual(body.items.map((i) => [(i as HclAttribute).key, i.line, i.column]), [['ui', 2, 3], ['storage', 3, 3]]);
  });

  it('lets collectBlocks read JSON object and list shapes like HCL blocks', () => {
    const json = parseDocument('{"listener": [{"tcp": {"address": "a"}}, {"tcp": {"address": "b"}}], "storage": {"file": {"path": "/x"}}}');
    const hcl = parseDocument('listener "tcp" { address = "a" }\nlistener tcp { address = "b" }\nstorage "file" { path = "/x" }');
    for (const body of [json, hcl]) {
      const listeners = collectBlocks(body, 'listener', 1);
      assert.deepEqual(listeners.map((b) => [b.labels, new BodyReader(b.body, 'x').string('address')]), [[['tcp'], 'a'], [['tcp'], 'b']]);
      assert.deepEqual(collectBlocks(body, 'storage', 1).map((b) => b.labels), [['file']]);
    }
  });

  it('rejects malformed JSON with a position', () => {
    assert.throws(() => parseJsonToHcl('{\n  "a": 1\n  "b": 2\n}'), (err: unknown) => err instanceof HclSyntaxError && err.line === 3);
    assert.throws(() => parseJsonToHcl('{"a": null}'), /null is not allowed for "a"/);
  });
});

describe('BodyReader', () => {
  it('reads typed values and reports wrong types by key and line', () => {
    const body = parseHcl('s = "x"\nn = 5\nb = "true"\nl = ["a"]\nbad = [1]');
    const r = new BodyReader(body, 'thing');
    assert.deepEqual([r.string('s'), r.integer('n'), r.bool('b'), r.stringList('l')], ['x', 5, true, ['a']]);
    assert.throws(() => r.stringList('bad'), (e: unknown) => e instanceof HclDecodeError && e.line === 5 && /"bad" must be a list of strings/.test(e.message));
    assert.throws(() => r.bool('s'), /key "s" must be a boolean/);
  });

  it('rejects duplicate keys and unknown keys', () => {
    assert.throws(() => new BodyReader(parseHcl('a = 1\na = 2'), 'blk'), /duplicate key "a" in blk/);
    assert.throws(() => new BodyReader(parseHcl('a = 1\nzz = 2'), 'blk').allowOnly(['a']), /unknown key "zz" in blk/);
  });
});

describe('printHcl', () => {
  it('formats canonically and is stable when run twice', () => {
    const messy = '# top\npath   "secret/*"{capabilities=["read","list",] # why\n  policy="read"}\nname="x"\n';
    const once = printHcl(parseHcl(messy));
    assert.equal(
      once,
      '# top\npath "secret/*" {\n  capabilities = ["read", "list"] # why\n  policy       = "read"\n}\n\nname = "x"\n',
    );
    assert.equal(printHcl(parseHcl(once)), once);
  });

  it('round-trips heredocs and escapes', () => {
    const text = 'v = <<EOF\nraw "text"\nEOF\nw = "a\\"b\\n"\n';
    const printed = printHcl(parseHcl(text));
    assert.equal(printed, text);
  });
});
