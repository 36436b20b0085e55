import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACL } from './acl.ts';
import { parsePolicy } from './policy.ts';
import { PolicyStore } from './store.ts';
import { resolveTemplate, templateProblem, type TemplateIdentity } from './templating.ts';
import { MemoryLogicalStorage } from '../../engines/testing-storage.ts';
import { TresorError } from '../errors.ts';

function identity(over: Partial<TemplateIdentity['entity']> = {}, groups: TemplateIdentity['groups'] = []): TemplateIdentity {
  return {
    key: `k-${Math.random()}`,
    entity: { id: 'e-1', name: 'alice', metadata: { team: 'ops' }, aliases: [{ id: 'a-1', name: 'alice@corp', mount_accessor: 'auth_userpass_1', metadata: { dept: 'x' }, custom_metadata: { c: 'y' } }], ...over },
    groups,
  };
}

describe('identity templates', () => {
  it('resolves the entity, its metadata, aliases and groups', () => {
    const who = identity({}, [{ id: 'g-1', name: 'devs', metadata: { env: 'prod' } }]);
    const cases: Array<[string, string]> = [
      ['secret/{{identity.entity.id}}/*', 'secret/e-1/*'],
      ['secret/{{ identity.entity.name }}', 'secret/alice'],
      ['secret/{{identity.entity.metadata.team}}', 'secret/ops'],
      ['x/{{identity.entity.aliases.auth_userpass_1.name}}', 'x/alice@corp'],
      ['x/{{identity.entity.aliases.auth_userpass_1.id}}', 'x/a-1'],
      ['x/{{identity.entity.aliases.auth_userpass_1.metadata.dept}}', 'x/x'],
      ['x/{{identity.entity.aliases.auth_userpass_1.custom_metadata.c}}', 'x/y'],
      ['x/{{identity.groups.ids.g-1.name}}', 'x/devs'],
      ['x/{{identity.groups.names.devs.id}}', 'x/g-1'],
      ['x/{{identity.groups.names.devs.metadata.env}}/{{identity.entity.id}}', 'x/prod/e-1'],
    ];
    for (const [text, want] of cases) assert.equal(resolveTemplate(text, who), want, text);
  });

  it('cannot resolve without an entity, a group, an alias or a key (the path is dropped)', () => {
    const who = identity();
    for (const text of [
      'secret/{{identity.entity.metadata.missing}}', 'secret/{{identity.entity.metadata.constructor}}', 'secret/{{identity.entity.metadata.__proto__}}',
      'x/{{identity.entity.aliases.auth_other.name}}', 'x/{{identity.groups.ids.g-1.name}}', 'x/{{identity.entity.groups.names}}',
      'x/{{identity.entity.metadata}}', 'x/{{time.now}}', 'x/{{nonsense}}', 'x/{{identity.entity.bogus}}',
    ]) {
      assert.equal(resolveTemplate(text, who), undefined, text);
    }
    assert.equal(resolveTemplate('secret/{{identity.entity.id}}', undefined), undefined);
  });

  it('refuses values that would add a segment or a glob, or climb', () => {
    for (const name of ['../admin', 'a/b', '*', 'a*', '+', 'a+b', '..', '.', '', '{{identity.entity.id}}', 'a\nb']) {
      assert.equal(resolveTemplate('secret/data/{{identity.entity.name}}/*', identity({ name })), undefined, JSON.stringify(name));
      assert.equal(resolveTemplate('secret/data/{{identity.entity.metadata.team}}', identity({ metadata: { team: name } })), undefined, JSON.stringify(name));
    }
  });

  it('checks balance the way Vault does', () => {
    assert.equal(templateProblem('a/{{identity.entity.id}}/b'), undefined);
    for (const bad of ['a/{{identity.entity.id', 'a/}}x', 'a/{{x}}}}', 'a/{{x{{y}}']) assert.equal(templateProblem(bad), 'unbalanced templating characters', bad);
    assert.throws(() => parsePolicy('t', 'path "secret/{{identity.entity.id" { capabilities = ["read"] }'), (e: unknown) => {
      assert.ok(e instanceof TresorError);
      assert.equal(e.message, 'failed to parse policy "t": line 1: failed to validate policy templating: unbalanced templating characters');
      return true;
    });
  });
});

describe('templated ACLs', () => {
  const POLICY = `
path "secret/data/{{identity.entity.name}}/*" { capabilities = ["read"] }
path "secret/data/shared" { capabilities = ["read"] }
`;
  it('resolve per caller, drop unresolvable paths and never treat a literal template as a path', async () => {
    const store = new PolicyStore(new MemoryLogicalStorage());
    await store.put('own', POLICY);
    const alice = await store.acl(['own'], identity());
    assert.equal(alice.allowed('secret/data/alice/x', 'read').allowed, true);
    assert.equal(alice.allowed('secret/data/bob/x', 'read').allowed, false);
    const bob = await store.acl(['own'], identity({ name: 'bob' }));
    assert.equal(bob.allowed('secret/data/bob/x', 'read').allowed, true);
    assert.equal(bob.allowed('secret/data/alice/x', 'read').allowed, false, 'the ACL is not shared between identities');
    const nobody = await store.acl(['own']);
    assert.equal(nobody.allowed('secret/data/shared', 'read').allowed, true, 'untemplated paths stay');
    assert.equal(nobody.allowed('secret/data/{{identity.entity.name}}/x', 'read').allowed, false, 'the literal template text matches nothing');
    const hostile = await store.acl(['own'], identity({ name: '*' }));
    assert.equal(hostile.allowed('secret/data/alice/x', 'read').allowed, false);
    assert.equal(hostile.allowed('secret/data/*/x', 'read').allowed, false);
    // Untemplated ACLs are as before.
    assert.ok((await store.acl(['default'])) instanceof ACL);
  });
});
