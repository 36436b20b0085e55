import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ACL, DEFAULT_POLICY_TEXT, ROOT_POLICY, formatPolicy, parsePolicy } from './index.ts';
import { TresorError } from '../errors.ts';
import { comparePriority, compilePattern, isExactPattern, patternMatches } from './pattern.ts';

function acl(...texts: string[]): ACL {
  return new ACL(texts.map((t, i) => parsePolicy(`p${i}`, t)));
}

function rule(pattern: string, ...caps: string[]): string {
  return `path "${pattern}" {\n  capabilities = ${JSON.stringify(caps)}\n}\n`;
}

function policyError(text: string): TresorError {
  try {
    parsePolicy('bad', text);
  } catch (err) {
    assert.ok(err instanceof TresorError, `expected TresorError, got ${err}`);
    return err;
  }
  assert.fail('expected the policy to be rejected');
}

describe('parsePolicy', () => {
  it('reads path rules with capabilities, lower-cases the name and keeps the text', () => {
    const text = `# comment\n${rule('secret/*', 'read', 'list', 'read')}path "/sys/mounts" { capabilities = ["sudo"] }\n`;
    const policy = parsePolicy('Dev', text);
    assert.equal(policy.name, 'dev');
    assert.equal(policy.text, text);
    assert.deepEqual(policy.rules.map((r) => [r.path, r.capabilities, r.line]), [['secret/*', ['read', 'list'], 2], ['sys/mounts', ['sudo'], 5]]);
  });

  it('expands the old policy shorthand', () => {
    const policy = parsePolicy('old', 'path "a" { policy = "read" }\npath "b" { policy = "write" }\npath "c" { policy = "sudo" }\npath "d" { policy = "deny" }');
    assert.deepEqual(policy.rules.map((r) => r.capabilities), [
      ['read', 'list'],
      ['create', 'read', 'update', 'delete', 'list'],
      ['create', 'read', 'update', 'delete', 'list', 'sudo'],
      ['deny'],
    ]);
  });

  it('reads a JSON policy', () => {
    const policy = parsePolicy('j', JSON.stringify({ path: { 'secret/*': { capabilities: ['read'] }, 'sys/health': { capabilities: ['read', 'sudo'] } } }));
    assert.deepEqual(policy.rules.map((r) => [r.path, r.capabilities]), [['secret/*', ['read']], ['sys/health', ['read', 'sudo']]]);
  });

  it('reads parameter constraints and wrapping TTLs', () => {
    const policy = parsePolicy(
      'p',
      'path "x" {\n  capabilities = ["update"]\n  allowed_parameters = { "ttl" = ["1h", 5], "*" = [] }\n  required_parameters = ["ttl"]\n  max_wrapping_ttl = "1h"\n}',
    );
    assert.deepEqual(policy.rules[0].allowedParameters, { ttl: ['1h', 5], '*': [] });
    assert.deepEqual([policy.rules[0].requiredParameters, policy.rules[0].maxWrappingTtl], [['ttl'], 3600]);
  });

  it('rejects an unknown capability with a 400 naming it and its line', () => {
    const err = policyError('path "a" {\n  capabilities = ["read"]\n}\npath "b" {\n  capabilities = ["read",\n    "reed"]\n}');
    assert.equal(err.status, 400);
    assert.equal(err.message, 'failed to parse policy "bad": line 6: unknown capability "reed" (allowed: create, read, update, patch, delete, list, sudo, deny)');
  });

  it('rejects syntax errors, unknown keys, bad shorthand and "+*" with a 400 and a line', () => {
    assert.match(policyError('path "a" {\n  capabilities ["read"]\n}').message, /line 2: expected "=" after key "capabilities"/);
    assert.match(policyError('path "a" {\n  capabilites = ["read"]\n}').message, /line 2: unknown key "capabilites" in path "a"/);
    assert.match(policyError('path "a" { policy = "all" }').message, /invalid policy shorthand "all"/);
    assert.match(policyError('path "a/+*" { capabilities = ["read"] }').message, /invalid use of wildcards/);
    assert.match(policyError('paths "a" {}').message, /unknown key "paths"/);
    assert.match(policyError('path "a" {\n  capabilities = 5\n}').message, /line 2: key "capabilities" must be a list of strings/);
  });

  it('quotes at most 64 characters of a key or label, so a huge document is not handed back in the error', () => {
    // Found by test/bad-input.test.ts: a 1 MiB policy text came back whole in the 400.
    const key = `k${'0123456789'.repeat(100_000)}`;
    assert.equal(policyError(key).message, `failed to parse policy "bad": line 1: expected "=" after key "${key.slice(0, 64)}..."`);
    const label = `a${'0123456789'.repeat(100_000)}`;
    assert.equal(policyError(`path "${label}" {\n  capabilites = ["read"]\n}`).message, `failed to parse policy "bad": line 2: unknown key "capabilites" in path "${label.slice(0, 64)}..."`);
    // A key that itself contains quotes still cannot make the message long.
    assert.ok(policyError(`{"${'a\\"'.repeat(100_000)}": 1}`).message.length < 700);
  });
});

describe('ACL matching', () => {
  it('prefers an exact rule over any glob', () => {
    const a = acl(rule('secret/*', 'read'), rule('secret/foo', 'update'));
    assert.deepEqual(a.capabilities('secret/foo'), ['update']);
    assert.deepEqual(a.capabilities('secret/bar'), ['read']);
    assert.equal(a.allowed('secret/foo', 'read').allowed, false);
  });

  it('picks the longest glob prefix', () => {
    const a = acl(rule('secret/*', 'read'), rule('secret/team/*', 'list'), rule('*', 'update'));
    assert.deepEqual(a.capabilities('secret/team/x'), ['list']);
    assert.deepEqual(a.capabilities('secret/other'), ['read']);
    assert.deepEqual(a.capabilities('kv/x'), ['update']);
  });

  it('treats a trailing * as a plain string prefix: secret/foo* covers secret/foobar', () => {
    const a = acl(rule('secret/foo*', 'read'));
    assert.deepEqual(a.capabilities('secret/foobar'), ['read']);
    assert.deepEqual(a.capabilities('secret/foo/bar'), ['read']);
    assert.deepEqual(a.capabilities('secret/fo'), ['deny']);
  });

  it('distinguishes secret/ from secret', () => {
    const a = acl(rule('secret/', 'list'));
    assert.deepEqual(a.capabilities('secret/'), ['list']);
    assert.deepEqual(a.capabilities('secret'), ['deny']);
    assert.deepEqual(a.capabilities('secret/x'), ['deny']);
    const b = acl(rule('secret', 'list'));
    assert.equal(b.allowed('secret/', 'list').allowed, true, 'a list of secret/ is governed by the exact rule on secret');
    assert.equal(b.allowed('secret/', 'read').allowed, false);
  });

  it('matches + against exactly one segment', () => {
    const a = acl(rule('secret/+/config', 'read'));
    assert.deepEqual(a.capabilities('secret/app/config'), ['read']);
    assert.deepEqual(a.capabilities('secret/app/x/config'), ['deny']);
    assert.deepEqual(a.capabilities('secret//config'), ['read'], 'an empty segment is still one segment');
    assert.deepEqual(a.capabilities('secret/app/config/more'), ['deny']);
    const b = acl(rule('+/data/*', 'read'));
    assert.deepEqual(b.capabilities('kv/data/a/b'), ['read']);
    assert.deepEqual(b.capabilities('kv/metadata/a'), ['deny']);
  });

  it('lets a + pattern ending in * prefix-match its last segment', () => {
    const a = acl(rule('secret/+/app*', 'read'));
    assert.deepEqual(a.capabilities('secret/team/apple'), ['read']);
    assert.deepEqual(a.capabilities('secret/team/app/more'), ['read']);
    assert.deepEqual(a.capabilities('secret/team/ap'), ['deny']);
  });

  it('follows Vault priority: later first wildcard, then no trailing *, then fewer +, then longer', () => {
    // secret/a/+ has its first wildcard later than secret/+/b, so it wins.
    assert.deepEqual(acl(rule('secret/+/b', 'read'), rule('secret/a/+', 'update')).capabilities('secret/a/b'), ['update']);
    // Same first-wildcard offset: the pattern without a trailing * wins.
    assert.deepEqual(acl(rule('secret/+/b', 'read'), rule('secret/+/b*', 'update')).capabilities('secret/x/b'), ['read']);
    // Same offset, neither globbed: fewer + segments win.
    assert.deepEqual(acl(rule('secret/+/+', 'read'), rule('secret/+/b', 'update')).capabilities('secret/x/b'), ['update']);
    // secret/* and secret/+/b both have their wildcard at offset 7; no trailing * wins.
    assert.deepEqual(acl(rule('secret/*', 'read'), rule('secret/+/b', 'update')).capabilities('secret/x/b'), ['update']);
    // A longer literal prefix before the glob beats an earlier +.
    assert.deepEqual(acl(rule('+/x/y', 'read'), rule('kv/x*', 'update')).capabilities('kv/x/y'), ['update']);
  });

  it('lets deny in the deciding rule override every other capability', () => {
    const a = acl(rule('secret/*', 'read', 'list'), rule('secret/*', 'deny'));
    assert.deepEqual(a.capabilities('secret/x'), ['deny']);
    assert.deepEqual(a.allowed('secret/x', 'read'), { allowed: false, sudo: false });
    const exactDeny = acl(rule('secret/*', 'read'), rule('secret/private', 'deny'));
    assert.deepEqual(exactDeny.capabilities('secret/private'), ['deny']);
    assert.deepEqual(exactDeny.capabilities('secret/public'), ['read']);
  });

  it('merges capabilities of the same pattern across policies', () => {
    const a = acl(rule('secret/*', 'read'), rule('secret/*', 'create', 'update'), rule('sys/*', 'sudo'));
    assert.deepEqual(a.capabilities('secret/x'), ['create', 'read', 'update']);
    assert.deepEqual(a.allowed('secret/x', 'update'), { allowed: true, sudo: false });
    assert.deepEqual(a.allowed('sys/x', 'read'), { allowed: false, sudo: true });
  });

  it('does not let a lower-priority rule add capabilities to the deciding one', () => {
    const a = acl(rule('secret/*', 'read'), rule('secret/team/*', 'list'));
    assert.equal(a.allowed('secret/team/x', 'read').allowed, false);
  });

  it('compares paths exactly: case-sensitive and without resolving ..', () => {
    const a = acl(rule('secret/public/*', 'read'));
    assert.deepEqual(a.capabilities('Secret/public/x'), ['deny']);
    assert.deepEqual(a.capabilities('secret/public/../private'), ['read'], 'normalisation is the http layer job');
    assert.deepEqual(acl(rule('secret/x', 'read')).capabilities('secret/x/'), ['deny']);
  });

  it('answers deny when nothing matches, and for an empty rule', () => {
    assert.deepEqual(acl().capabilities('anything'), ['deny']);
    assert.deepEqual(acl('path "a" {}').capabilities('a'), ['deny']);
    assert.deepEqual(acl().allowed('anything', 'read'), { allowed: false, sudo: false });
  });

  it('grants everything with sudo to the root policy', () => {
    const a = new ACL([ROOT_POLICY, parsePolicy('x', rule('*', 'deny'))]);
    assert.deepEqual(a.capabilities('sys/seal'), ['root']);
    assert.deepEqual(a.allowed('sys/seal', 'update'), { allowed: true, sudo: true });
  });

  it('lets the default policy look up its own token but not read secrets', () => {
    const a = new ACL([parsePolicy('default', DEFAULT_POLICY_TEXT)]);
    assert.equal(a.allowed('auth/token/lookup-self', 'read').allowed, true);
    assert.equal(a.allowed('auth/token/renew-self', 'update').allowed, true);
    assert.equal(a.allowed('sys/capabilities-self', 'update').allowed, true);
    assert.equal(a.allowed('cubbyhole/mine', 'create').allowed, true);
    assert.equal(a.allowed('sys/wrapping/unwrap', 'update').allowed, true);
    assert.equal(a.allowed('secret/data/foo', 'read').allowed, false);
    assert.equal(a.allowed('auth/token/create', 'update').allowed, false);
    assert.deepEqual(a.capabilities('secret/foo'), ['deny']);
    assert.deepEqual(a.capabilities('sys/seal'), ['deny']);
  });

  it('returns the same answers on repeated (cached) checks', () => {
    const a = acl(rule('secret/*', 'read'));
    for (let i = 0; i < 3; i++) assert.deepEqual(a.capabilities('secret/x'), ['read']);
    assert.deepEqual(a.capabilities('other'), ['deny']);
    assert.deepEqual(a.capabilities('other'), ['deny']);
  });
});

describe('ACL parameter constraints (Vault AllowOperation)', () => {
  const put = (a: ACL, data: Record<string, unknown>, path = 'secret/data/cfg', op: 'update' | 'create' | 'patch' | 'read' | 'list' | 'delete' = 'update') =>
    a.allowed(path, op, { data }).allowed;
  const constrained = (body: string, path = 'secret/data/cfg') =>
    acl(`path "${path}" {\n  capabilities = ["create", "read", "update", "patch", "delete", "list"]\n${body}\n}\n`);

  it('parses parameter names lower-cased and refuses max_wrapping_ttl below min_wrapping_ttl', () => {
    const policy = parsePolicy('p', 'path "x" {\n  capabilities = ["update"]\n  denied_parameters = { "Data" = [] }\n}');
    assert.deepEqual(policy.rules[0].deniedParameters, { data: [] });
    const err = policyError('path "x" {\n  capabilities = ["update"]\n  min_wrapping_ttl = "10m"\n  max_wrapping_ttl = "5m"\n}');
    assert.equal(err.message, 'failed to parse policy "bad": line 4: max_wrapping_ttl cannot be less than min_wrapping_ttl');
  });

  it('denied_parameters with an empty list refuses the parameter with any value; other parameters pass', () => {
    const a = constrained('  denied_parameters = { "data" = [] }');
    assert.equal(put(a, { data: { password: 'x' } }), false);
    assert.equal(put(a, { data: null }), false);
    assert.equal(put(a, { DATA: {} }), false, 'names compare case-insensitively');
    assert.equal(put(a, { options: { cas: 0 } }), true);
    assert.equal(put(a, {}), true, 'a request without parameters passes');
    assert.equal(a.allowed('secret/data/cfg', 'update').allowed, true, 'without a request only capabilities count');
  });

  it('denied_parameters values: globs, any item of a list or comma string, "*" refuses every parameter', () => {
    const a = constrained('  denied_parameters = { "policies" = ["root", "admin-*"] }');
    assert.equal(put(a, { policies: ['dev', 'root'] }), false);
    assert.equal(put(a, { policies: 'dev, admin-ops' }), false);
    assert.equal(put(a, { policies: ['dev'] }), true);
    assert.equal(put(a, { policies: [] }), true);
    const all = constrained('  denied_parameters = { "*" = [] }');
    assert.equal(put(all, { anything: 1 }), false);
    assert.equal(put(all, {}), true);
  });

  it('allowed_parameters admits only the listed names, with listed values; lists need every item admitted', () => {
    const a = constrained('  allowed_parameters = { "policies" = ["p1", "team-*"] }', 'auth/token/create');
    const create = (data: Record<string, unknown>) => put(a, data, 'auth/token/create');
    assert.equal(create({ policies: ['p1'] }), true);
    assert.equal(create({ policies: ['p1', 'team-a'] }), true);
    assert.equal(create({ policies: 'p1,team-b' }), true, 'a comma-separated string is a list');
    assert.equal(create({ policies: ['p1', 'p2'] }), false);
    assert.equal(create({ policies: 'root' }), false);
    assert.equal(create({ policies: ['p1'], ttl: '1h' }), false, 'a parameter not listed is refused');
    assert.equal(create({ Policies: ['p1'] }), true);
    assert.equal(create({ policies: { p1: true } }), false, 'an object never matches a value list');
    assert.equal(create({}), true);
  });

  it('allowed_parameters "*" admits unlisted names, while listed names keep their values', () => {
    const a = constrained('  allowed_parameters = { "*" = [], "policies" = ["p1"] }');
    assert.equal(put(a, { ttl: '1h', policies: ['p1'] }), true);
    assert.equal(put(a, { ttl: '1h', policies: ['p2'] }), false);
    assert.equal(put(constrained('  allowed_parameters = { "*" = [] }'), { x: 1 }), true);
  });

  it('compares values as Vault does: strings with * prefix/suffix globs, numbers and booleans by value and type', () => {
    const a = constrained('  allowed_parameters = { "name" = ["*-prod", "app-*", "*mid*", "*"], "n" = [5], "flag" = [true] }');
    for (const ok of ['web-prod', 'app-1', 'xmidx', '*']) assert.equal(put(a, { name: ok }), true, ok);
    for (const bad of ['web-dev', 'x', 'prod']) assert.equal(put(a, { name: bad }), false, bad);
    assert.equal(put(a, { n: 5 }), true);
    assert.equal(put(a, { n: 6 }), false);
    assert.equal(put(a, { n: '5' }), false, 'a string never equals a number');
    assert.equal(put(a, { flag: true }), true);
    assert.equal(put(a, { flag: false }), false);
  });

  it('lets denied_parameters win over allowed_parameters', () => {
    const a = constrained('  allowed_parameters = { "policies" = [] }\n  denied_parameters = { "policies" = ["root"] }');
    assert.equal(put(a, { policies: ['dev'] }), true);
    assert.equal(put(a, { policies: ['root'] }), false);
  });

  it('requires required_parameters (present even when null), case-insensitively', () => {
    const a = constrained('  required_parameters = ["Name"]');
    assert.equal(put(a, {}), false);
    assert.equal(put(a, { other: 1 }), false);
    assert.equal(put(a, { name: null }), true);
  });

  it('checks parameters on read, create, update and patch, not on list or delete', () => {
    const a = constrained('  required_parameters = ["version"]\n  denied_parameters = { "x" = [] }');
    for (const op of ['read', 'create', 'update', 'patch'] as const) assert.equal(put(a, { x: 1, version: 1 }, 'secret/data/cfg', op), false, op);
    for (const op of ['list', 'delete'] as const) assert.equal(put(a, { x: 1 }, 'secret/data/cfg', op), true, op);
  });

  it('merges the constraints of one pattern across policies: values unioned, an empty list absorbs, required unioned', () => {
    const cap = 'capabilities = ["update"]';
    const a = acl(
      `path "p" {\n  ${cap}\n  allowed_parameters = { "a" = ["1"], "b" = ["x"] }\n  required_parameters = ["a"]\n}`,
      `path "p" {\n  ${cap}\n  allowed_parameters = { "a" = ["2"], "b" = [] }\n  denied_parameters = { "c" = [] }\n  required_parameters = ["b"]\n}`,
    );
    assert.equal(put(a, { a: '2', b: 'anything' }, 'p'), true);
    assert.equal(put(a, { a: '1', b: 'y' }, 'p'), true);
    assert.equal(put(a, { a: '3', b: 'x' }, 'p'), false);
    assert.equal(put(a, { a: '1' }, 'p'), false, 'b is required by the second policy');
    // As in Vault, a rule without allowed_parameters does not lift another policy's list for the same pattern.
    const b = acl(`path "p" {\n  ${cap}\n}`, `path "p" {\n  ${cap}\n  allowed_parameters = { "a" = [] }\n}`);
    assert.equal(put(b, { z: 1 }, 'p'), false);
  });

  it('lets a deny rule for the same pattern in another policy override every constraint', () => {
    const a = acl('path "p" {\n  capabilities = ["update"]\n  allowed_parameters = { "*" = [] }\n}', rule('p', 'deny'));
    assert.equal(put(a, {}, 'p'), false);
  });

  it('applies the constraints of the deciding rule only', () => {
    const a = acl('path "secret/*" {\n  capabilities = ["update"]\n  denied_parameters = { "data" = [] }\n}', rule('secret/open', 'update'));
    assert.equal(put(a, { data: 1 }, 'secret/open'), true);
    assert.equal(put(a, { data: 1 }, 'secret/closed'), false);
  });
});

describe('ACL wrapping TTL bounds', () => {
  const wrapped = (a: ACL, wrapTtlSeconds: number | undefined) => a.allowed('p', 'update', { data: {}, wrapTtlSeconds }).allowed;

  it('min_wrapping_ttl refuses an unwrapped request and a shorter wrap', () => {
    const a = acl('path "p" {\n  capabilities = ["update"]\n  min_wrapping_ttl = "1m"\n}');
    assert.equal(wrapped(a, undefined), false);
    assert.equal(wrapped(a, 0), false, 'a wrap TTL of 0 asks for no wrapping');
    assert.equal(wrapped(a, 59), false);
    assert.equal(wrapped(a, 60), true);
    assert.equal(wrapped(a, 86400), true);
  });

  it('max_wrapping_ttl refuses an unwrapped request and a longer wrap', () => {
    const a = acl('path "p" {\n  capabilities = ["update"]\n  max_wrapping_ttl = 300\n}');
    assert.equal(wrapped(a, undefined), false);
    assert.equal(wrapped(a, 0), false);
    assert.equal(wrapped(a, 301), false);
    assert.equal(wrapped(a, 300), true);
    assert.equal(wrapped(a, 1), true);
  });

  it('merges bounds by taking the smaller; crossed bounds refuse everything', () => {
    const a = acl('path "p" {\n  capabilities = ["update"]\n  max_wrapping_ttl = "10m"\n}', 'path "p" {\n  capabilities = ["update"]\n  max_wrapping_ttl = "5m"\n}');
    assert.equal(wrapped(a, 400), false);
    assert.equal(wrapped(a, 300), true);
    const crossed = acl('path "p" {\n  capabilities = ["update"]\n  max_wrapping_ttl = "5m"\n}', 'path "p" {\n  capabilities = ["update"]\n  min_wrapping_ttl = "10m"\n}');
    for (const ttl of [undefined, 300, 600, 900]) assert.equal(wrapped(crossed, ttl), false, String(ttl));
  });
});

describe('ACL list paths', () => {
  it('lets a deny on dir/* govern a list of dir/ over a grant on the parent (OpenBao GHSA-xp3c-3jw3-4vcr)', () => {
    const a = acl(rule('foo/metadata/*', 'list'), rule('foo/metadata/private/*', 'deny'), rule('foo/metadata/private/granted/*', 'list'));
    const cases: [string, boolean][] = [
      ['foo/', false],
      ['foo/metadata/', true],
      ['foo/metadata/test/', true],
      ['foo/metadata/private/', false],
      ['foo/metadata/private/internal/', false],
      ['foo/metadata/private/granted/', true],
      ['foo/metadata/private/granted/test/', true],
    ];
    for (const [path, allowed] of cases) assert.equal(a.allowed(path, 'list', {}).allowed, allowed, path);
  });

  it('falls back to the wildcard rules on the path without its slash only when nothing matches it', () => {
    const a = acl(rule('kv/+/dir', 'list'));
    assert.equal(a.allowed('kv/x/dir/', 'list').allowed, true);
    assert.equal(a.allowed('kv/x/dir/', 'read').allowed, false, 'only a list drops the slash');
  });
});

describe('formatPolicy', () => {
  it('formats HCL canonically, keeping comments, and is idempotent', () => {
    const messy = '# team policy\npath "secret/*" {capabilities=["read","list"]}\n\n\npath "sys/health"{\ncapabilities = ["read", "sudo"] // monitoring\n}';
    const formatted = formatPolicy(messy);
    assert.equal(
      formatted,
      '# team policy\npath "secret/*" {\n  capabilities = ["read", "list"]\n}\n\npath "sys/health" {\n  capabilities = ["read", "sudo"] // monitoring\n}\n',
    );
    assert.equal(formatPolicy(formatted), formatted);
  });

  it('pretty-prints JSON policies and rejects invalid policies', () => {
    assert.equal(formatPolicy('{"path":{"a":{"capabilities":["read"]}}}'), '{\n  "path": {\n    "a": {\n      "capabilities": [\n        "read"\n      ]\n    }\n  }\n}\n');
    assert.throws(() => formatPolicy('path "a" { capabilities = ["nope"] }'), (e: unknown) => e instanceof TresorError && e.status === 400);
  });
});

describe('ACL: the literal-prefix index decides as a scan of every rule would', () => {
  // A seeded generator, so a failure names a corpus that can be replayed.
  function generator(seed: number) {
    let x = seed;
    return (n: number) => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
  }
  const SEGMENTS = ['a', 'ab', 'b', 'kv', 'data', 'x', ''];
  const CAPS = ['read', 'list', 'update', 'create', 'delete', 'deny', 'sudo'];

  for (const seed of [1, 7, 42, 1234, 99991]) {
    it(`agrees with the linear reference on a generated corpus (seed ${seed})`, () => {
      const rnd = generator(seed);
      const segment = () => SEGMENTS[rnd(SEGMENTS.length)];
      const patterns = new Map<string, string[]>();
      for (let i = 0; i < 300; i++) {
        const parts = Array.from({ length: 1 + rnd(4) }, () => (rnd(5) === 0 ? '+' : segment() || 'a'));
        let pattern = parts.join('/');
        if (rnd(2) === 0) pattern += rnd(2) === 0 ? '*' : `/${segment()}*`;
        if (/\+\*|\+[^/]|[^/]\+/.test(pattern)) continue; // "+" must be a whole segment and cannot glob
        if (!patterns.has(pattern)) patterns.set(pattern, [CAPS[rnd(CAPS.length)], CAPS[rnd(CAPS.length)]]);
      }
      const subject = new ACL([parsePolicy('corpus', [...patterns].map(([p, caps]) => rule(p, ...caps)).join(''))]);

      // The reference: exact rule first, else every wildcard rule in Vault's priority order, first match wins.
      const wildcards = [...patterns.keys()].filter((p) => !isExactPattern(p)).map(compilePattern).sort((a, b) => comparePriority(b, a));
      const reference = (path: string): string[] => {
        const exact = isExactPattern(path) ? patterns.get(path) : undefined;
        const decided = exact ?? (() => {
          const parts = path.split('/');
          const w = wildcards.find((c) => patternMatches(c, path, () => parts));
          return w ? patterns.get(w.pattern) : undefined;
        })();
        if (!decided || decided.includes('deny')) return ['deny'];
        return [...new Set(decided)].sort();
      };
      for (let i = 0; i < 2000; i++) {
        const path = Array.from({ length: 1 + rnd(5) }, () => segment() + (rnd(4) === 0 ? segment() : '')).join('/');
        assert.deepEqual(subject.capabilities(path), reference(path), `path "${path}"`);
      }
    });
  }
});
