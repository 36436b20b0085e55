import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from './config.ts';

const STORAGE = 'storage "file" {\n  path = "/var/lib/tresor"\n}\n';
const hsm = (name: string, priority?: number, label = name) =>
  `seal "pkcs11" {\n  name = "${name}"\n${priority === undefined ? '' : `  priority = ${priority}\n`}  lib = "/l.so"\n  token_label = "${label}"\n  pin = "p1n-secret"\n  key_label = "k"\n}\n`;

function refused(text: string): string {
  try {
    parseConfig(`${STORAGE}${text}`, 'server.hcl', {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.doesNotMatch(err.message, /p1n-secret/);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('enable_multiseal', () => {
  it('accepts several named seals with distinct priorities', () => {
    const config = parseConfig(`enable_multiseal = true\n${STORAGE}${hsm('a', 1)}${hsm('b', 2)}`, 'server.hcl', {});
    assert.equal(config.enableMultiseal, true);
    assert.deepEqual(config.seals.map((s) => (s.type === 'pkcs11' ? [s.name, s.priority] : [])), [['a', 1], ['b', 2]]);
  });

  it('refuses duplicate names, duplicate or missing priorities, two stanzas without enable_multiseal, naming the stanza and line', () => {
    assert.match(refused(`enable_multiseal = true\n${hsm('a', 1)}${hsm('a', 2, 'x')}`), /^server\.hcl:\d+: seal "pkcs11" \(name "a"\): another seal stanza already has the name "a"/);
    assert.match(refused(`enable_multiseal = true\n${hsm('a', 1)}${hsm('b', 1)}`), /seal "pkcs11" \(name "b"\): priority 1 is also the priority of seal "a"/);
    assert.match(refused(`enable_multiseal = true\n${hsm('a', 1)}${hsm('b')}`), /seal "pkcs11" \(name "b"\): missing required key "priority"/);
    assert.match(refused(`${hsm('a', 1)}${hsm('b', 2)}`), /seal "pkcs11" \(name "b"\): with two seal stanzas exactly one must have disabled = "true" \(seal migration\), or set enable_multiseal = true/);
    assert.match(refused(`enable_multiseal = true\n${hsm('a', 1)}seal "shamir" {}\n`), /seal "shamir": enable_multiseal takes only auto-unseal seals/);
    assert.match(refused(hsm('a', 0)), /key "priority" must be at least 1/);
  });
});
