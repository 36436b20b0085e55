/**
 * Tokens and ACL policies against a real `tresor server -dev` child process:
 * the auth/token/ API (create, lookup, renew, revoke and their variants,
 * expiry, use limits, revocation trees) and sys/policies with the access
 * decisions they produce (deny, `+`, create vs update, sudo).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer } from './helpers/server.ts';

describe('tokens and ACL policies over HTTP (-dev server)', () => {
  let server: TestServer;
  let api: Api;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    await writePolicy('app-read', 'path "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}\n');
    await writePolicy('minter', 'path "auth/token/create" {\n  capabilities = ["update"]\n}\n');
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  const writePolicy = (name: string, text: string) => api.writePolicy(name, text);

  const createToken = (body: Record<string, unknown>, parent = 'root', path = 'auth/token/create') => api.createToken(body, parent, path);

  const lookupSelf = (token: string) => api.get('auth/token/lookup-self', token);

  describe('tokens', () => {
    it('create honours policies, ttl, num_uses, renewable, display_name and meta; lookup-self shows them', async () => {
      const auth = await createToken({
        policies: ['app-read'], ttl: '1h', num_uses: 7, renewable: false, display_name: 'my app', meta: { team: 'blue' },
      });
      assert.match(auth.client_token, /^hvs\./);
      assert.deepEqual(auth.policies, ['app-read', 'default']);
      assert.equal(auth.lease_duration, 3600);
      assert.equal(auth.renewable, false);
      assert.deepEqual(auth.metadata, { team: 'blue' });
      const res = await lookupSelf(auth.client_token);
      assert.equal(res.status, 200);
      const data = res.body.data;
      assert.equal(data.id, auth.client_token);
      assert.equal(data.accessor, auth.accessor);
      assert.equal(data.display_name, 'token-my-app');
      assert.deepEqual(data.meta, { team: 'blue' });
      assert.equal(data.num_uses, 6, 'the lookup itself used one of the 7 uses');
      assert.equal(data.renewable, false);
      assert.equal(data.orphan, false);
      assert.equal(data.creation_ttl, 3600);
      assert.ok(data.ttl > 3500 && data.ttl <= 3600);
      assert.equal(data.type, 'service');
      assert.equal(data.path, 'auth/token/create');
    });

    it('orphan tokens come from no_parent (root) and create-orphan; period makes a periodic token', async () => {
      const noParent = await createToken({ policies: ['app-read'], no_parent: true });
      assert.equal(noParent.orphan, true);
      const orphan = await createToken({ policies: ['app-read'] }, 'root', 'auth/token/create-orphan');
      assert.equal(orphan.orphan, true);
      const periodic = await createToken({ policies: ['app-read'], period: '30m' });
      assert.equal(periodic.lease_duration, 1800);
      assert.equal((await lookupSelf(periodic.client_token)).body.data.period, 1800);
    });

    it('a non-root token cannot widen its policies, create orphans or periodic tokens (400)', async () => {
      const minter = await createToken({ policies: ['minter'] });
      const wider = await api.post('auth/token/create', { policies: ['app-read'] }, minter.client_token);
      assert.equal(wider.status, 400);
      assert.equal((await api.post('auth/token/create', { no_parent: true }, minter.client_token)).status, 400);
      assert.equal((await api.post('auth/token/create', { period: '1h' }, minter.client_token)).status, 400);
      const child = await createToken({}, minter.client_token);
      assert.deepEqual(child.policies, ['default', 'minter']);
    });

    it('lookup (by token) and lookup-accessor find the token; lookup-accessor hides the token id', async () => {
      const auth = await createToken({ policies: ['app-read'] });
      const byToken = await api.post('auth/token/lookup', { token: auth.client_token });
      assert.equal(byToken.status, 200);
      assert.equal(byToken.body.data.accessor, auth.accessor);
      const byAccessor = await api.post('auth/token/lookup-accessor', { accessor: auth.accessor });
      assert.equal(byAccessor.status, 200);
      assert.equal(byAccessor.body.data.id, '');
      assert.deepEqual(byAccessor.body.data.policies, ['app-read', 'default']);
      assert.equal((await api.post('auth/token/lookup', { token: 'hvs.not-a-real-token' })).status, 403);
      assert.equal((await api.post('auth/token/lookup-accessor', { accessor: 'nope' })).status, 400);
    });

    it('renew extends the TTL but never past explicit_max_ttl, with a warning', async () => {
      const auth = await createToken({ policies: ['app-read'], ttl: '10m', explicit_max_ttl: '1h' });
      const small = await api.post('auth/token/renew', { token: auth.client_token, increment: '20m' });
      assert.equal(small.status, 200);
      assert.equal(small.body.auth.lease_duration, 1200);
      const capped = await api.post('auth/token/renew-self', { increment: '10h' }, auth.client_token);
      assert.equal(capped.status, 200);
      assert.ok(capped.body.auth.lease_duration <= 3600 && capped.body.auth.lease_duration > 3500);
      assert.match(capped.body.warnings.join(' '), /explicit max TTL/);
      const notRenewable = await createToken({ policies: ['app-read'], renewable: false });
      assert.equal((await api.post('auth/token/renew', { token: notRenewable.client_token })).status, 400);
    });

    it('revoke, revoke-self and revoke-accessor end the token; revoking a parent ends its children', async () => {
      const victim = await createToken({ policies: ['app-read'] });
      assert.equal((await api.post('auth/token/revoke', { token: victim.client_token })).status, 204);
      assert.equal((await lookupSelf(victim.client_token)).status, 403);

      const self = await createToken({ policies: ['app-read'] });
      assert.equal((await api.post('auth/token/revoke-self', {}, self.client_token)).status, 204);
      assert.equal((await lookupSelf(self.client_token)).status, 403);

      const byAccessor = await createToken({ policies: ['app-read'] });
      assert.equal((await api.post('auth/token/revoke-accessor', { accessor: byAccessor.accessor })).status, 204);
      assert.equal((await lookupSelf(byAccessor.client_token)).status, 403);

      const parent = await createToken({ policies: ['minter'] });
      const child = await createToken({}, parent.client_token);
      const grandchild = await createToken({}, child.client_token);
      const orphanOfParent = await createToken({ policies: ['minter'] }, 'root', 'auth/token/create-orphan');
      assert.equal((await api.post('auth/token/revoke', { token: parent.client_token })).status, 204);
      assert.equal((await lookupSelf(child.client_token)).status, 403);
      assert.equal((await lookupSelf(grandchild.client_token)).status, 403);
      assert.equal((await lookupSelf(orphanOfParent.client_token)).status, 200);
    });

    it('revoke-orphan ends only the parent: its children live on as orphans; it needs root', async () => {
      const parent = await createToken({ policies: ['minter'] });
      const child = await createToken({}, parent.client_token);
      assert.equal((await api.post('auth/token/revoke-orphan', { token: parent.client_token }, parent.client_token)).status, 403);
      assert.equal((await api.post('auth/token/revoke-orphan', { token: parent.client_token })).status, 204);
      assert.equal((await lookupSelf(parent.client_token)).status, 403);
      const childLookup = await lookupSelf(child.client_token);
      assert.equal(childLookup.status, 200);
      assert.equal(childLookup.body.data.orphan, true);
    });

    it('revoke-orphan and accessors need root or sudo: a policy granting sudo there is enough', async () => {
      await api.put('sys/policies/acl/orphan-admin', {
        policy: 'path "auth/token/revoke-orphan" { capabilities = ["update", "sudo"] }\npath "auth/token/accessors" { capabilities = ["list", "sudo"] }\npath "auth/token/accessors/" { capabilities = ["list", "sudo"] }\n',
      });
      await api.put('sys/policies/acl/orphan-nosudo', { policy: 'path "auth/token/revoke-orphan" { capabilities = ["update"] }\n' });
      const admin = await createToken({ policies: ['orphan-admin'] });
      const plain = await createToken({ policies: ['orphan-nosudo'] });
      const victim = await createToken({ policies: ['minter'] });
      assert.equal((await api.post('auth/token/revoke-orphan', { token: victim.client_token }, plain.client_token)).status, 403);
      assert.equal((await api.post('auth/token/revoke-orphan', { token: victim.client_token }, admin.client_token)).status, 204);
      assert.equal((await lookupSelf(victim.client_token)).status, 403);
      const listed = await api.list('auth/token/accessors', admin.client_token);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.ok(listed.body.data.keys.includes(admin.accessor));
    });

    it('a token with ttl=2s stops working once it expires', async () => {
      const auth = await createToken({ policies: ['app-read'], ttl: '2s' });
      assert.equal((await lookupSelf(auth.client_token)).status, 200);
      await server.until(async () => (await lookupSelf(auth.client_token)).status === 403, 8_000, 'the 2s token to expire');
      assert.equal((await api.get('secret/data/app/x', auth.client_token)).status, 403);
    });

    it('a token with num_uses=2 works twice, then gets 403', async () => {
      await api.put('secret/data/app/counted', { data: { v: '1' } });
      const auth = await createToken({ policies: ['app-read'], num_uses: 2 });
      assert.equal((await api.get('secret/data/app/counted', auth.client_token)).status, 200);
      assert.equal((await api.get('secret/data/app/counted', auth.client_token)).status, 200);
      assert.equal((await api.get('secret/data/app/counted', auth.client_token)).status, 403);
      assert.equal((await api.post('auth/token/lookup', { token: auth.client_token })).status, 403);
    });

    it('the last use is served like any other (lookup-self answers), then the token is revoked with its cubbyhole', async () => {
      const auth = await createToken({ policies: ['default'], num_uses: 2 });
      assert.equal((await api.put('cubbyhole/note', { v: 'x' }, auth.client_token)).status, 204);
      const last = await lookupSelf(auth.client_token);
      assert.equal(last.status, 200, JSON.stringify(last.body));
      assert.equal((await lookupSelf(auth.client_token)).status, 403);
      assert.equal((await api.post('auth/token/lookup-accessor', { accessor: auth.accessor })).status, 400);
    });

    it('requests without a token or with an unknown one get 403', async () => {
      assert.equal((await api.call('GET', 'auth/token/lookup-self', undefined, '')).status, 403);
      assert.equal((await lookupSelf('hvs.unknown')).status, 403);
    });
  });

  describe('policies', () => {
    it('sys/policies/acl: write, read (text as written), list, delete', async () => {
      const text = 'path "kv-pol/*" {\n  capabilities = ["read"]\n}\n';
      await writePolicy('Reader-1', text);
      const read = await api.get('sys/policies/acl/reader-1');
      assert.equal(read.status, 200);
      assert.equal(read.body.data.name, 'reader-1');
      assert.equal(read.body.data.policy, text);
      const list = await api.list('sys/policies/acl');
      assert.ok(list.body.data.keys.includes('reader-1'));
      assert.ok(list.body.data.keys.includes('default'));
      assert.ok(list.body.data.keys.includes('root'));
      assert.equal((await api.delete('sys/policies/acl/reader-1')).status, 204);
      assert.equal((await api.get('sys/policies/acl/reader-1')).status, 404);
      assert.ok(!(await api.list('sys/policies/acl')).body.data.keys.includes('reader-1'));
    });

    it('sys/policy (older API): write with rules, read rules, list policies, delete', async () => {
      const rules = 'path "old-api/*" { policy = "read" }';
      assert.equal((await api.put('sys/policy/old-style', { rules })).status, 204);
      const read = await api.get('sys/policy/old-style');
      assert.equal(read.status, 200);
      assert.equal(read.body.data.rules, rules);
      assert.ok((await api.get('sys/policy')).body.data.policies.includes('old-style'));
      assert.equal((await api.delete('sys/policy/old-style')).status, 204);
      assert.equal((await api.get('sys/policy/old-style')).status, 404);
    });

    it('bad HCL and unknown capabilities are 400s naming the line', async () => {
      const broken = await api.put('sys/policies/acl/broken', { policy: 'path "a" {\n  capabilities = ["read"]\n}\npath "b" {\n  capabilities = ["read"\n}\n' });
      assert.equal(broken.status, 400);
      assert.match(broken.body.errors[0], /line \d+/);
      const unknown = await api.put('sys/policies/acl/broken', { policy: 'path "a" {\n  capabilities = ["read"]\n}\npath "b" {\n  capabilities = ["fly"]\n}\n' });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.errors[0], /line 5/);
      assert.match(unknown.body.errors[0], /fly/);
      assert.equal((await api.put('sys/policies/acl/broken', { policy: '' })).status, 400);
      assert.equal((await api.get('sys/policies/acl/broken')).status, 404);
    });

    it('root cannot be written or deleted; default can be read but not deleted', async () => {
      assert.equal((await api.put('sys/policies/acl/root', { policy: 'path "x" { capabilities = ["read"] }' })).status, 400);
      assert.equal((await api.delete('sys/policies/acl/root')).status, 400);
      assert.equal((await api.delete('sys/policies/acl/default')).status, 400);
      const def = await api.get('sys/policies/acl/default');
      assert.equal(def.status, 200);
      assert.match(def.body.data.policy, /auth\/token\/lookup-self/);
    });

    it('the default policy alone allows lookup-self and the cubbyhole, nothing else', async () => {
      const auth = await createToken({ policies: ['default'] });
      assert.equal((await lookupSelf(auth.client_token)).status, 200);
      assert.equal((await api.put('cubbyhole/note', { n: '1' }, auth.client_token)).status, 204);
      assert.equal((await api.get('secret/data/app/x', auth.client_token)).status, 403);
      assert.equal((await api.get('sys/mounts', auth.client_token)).status, 403);
      assert.equal((await api.get('sys/policies/acl/default', auth.client_token)).status, 403);
    });

    it('sys/capabilities-self reports per path; root gets ["root"]', async () => {
      const auth = await createToken({ policies: ['app-read'] });
      const res = await api.post('sys/capabilities-self', { paths: ['secret/data/app/x', 'secret/data/other'] }, auth.client_token);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data['secret/data/app/x'], ['list', 'read']);
      assert.deepEqual(res.body.data['secret/data/other'], ['deny']);
      const one = await api.post('sys/capabilities-self', { path: 'secret/data/app/y' }, auth.client_token);
      assert.deepEqual(one.body.data.capabilities, ['list', 'read']);
      assert.deepEqual((await api.post('sys/capabilities-self', { paths: ['anything'] })).body.data.anything, ['root']);
    });

    it('read/list policy: can read under secret/data/app/ but not write, nor read elsewhere', async () => {
      await api.put('secret/data/app/db', { data: { password: 'p' } });
      await api.put('secret/data/elsewhere', { data: { password: 'q' } });
      const auth = await createToken({ policies: ['app-read'] });
      const read = await api.get('secret/data/app/db', auth.client_token);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body.data.data, { password: 'p' });
      assert.equal((await api.put('secret/data/app/db', { data: { password: 'changed' } }, auth.client_token)).status, 403);
      assert.equal((await api.put('secret/data/app/new', { data: { x: '1' } }, auth.client_token)).status, 403);
      assert.equal((await api.delete('secret/data/app/db', undefined, auth.client_token)).status, 403);
      assert.equal((await api.get('secret/data/elsewhere', auth.client_token)).status, 403);
      assert.deepEqual((await api.get('secret/data/app/db')).body.data.data, { password: 'p' });
    });

    it('deny on an exact path overrides a wildcard grant, even across policies', async () => {
      await writePolicy('team-read', 'path "secret/data/team/*" {\n  capabilities = ["read"]\n}\npath "secret/data/team/private" {\n  capabilities = ["deny"]\n}\n');
      await writePolicy('private-read', 'path "secret/data/team/priv*" {\n  capabilities = ["read"]\n}\n');
      await api.put('secret/data/team/public', { data: { v: 'pub' } });
      await api.put('secret/data/team/private', { data: { v: 'priv' } });
      const auth = await createToken({ policies: ['team-read', 'private-read'] });
      assert.equal((await api.get('secret/data/team/public', auth.client_token)).status, 200);
      assert.equal((await api.get('secret/data/team/private', auth.client_token)).status, 403);
    });

    it('a "+" segment matches exactly one path segment', async () => {
      await writePolicy('plus', 'path "secret/data/+/config" {\n  capabilities = ["read"]\n}\n');
      await api.put('secret/data/svc1/config', { data: { v: '1' } });
      await api.put('secret/data/svc1/deep/config', { data: { v: '2' } });
      await api.put('secret/data/svc1/other', { data: { v: '3' } });
      const auth = await createToken({ policies: ['plus'] });
      assert.equal((await api.get('secret/data/svc1/config', auth.client_token)).status, 200);
      assert.equal((await api.get('secret/data/svc1/deep/config', auth.client_token)).status, 403);
      assert.equal((await api.get('secret/data/svc1/other', auth.client_token)).status, 403);
    });

    it('a create-only policy can create a new secret but not update an existing one (kv v1 and v2)', async () => {
      await api.post('sys/mounts/drop-v1', { type: 'kv' });
      await writePolicy('create-only', 'path "secret/data/drop/*" {\n  capabilities = ["create"]\n}\npath "drop-v1/*" {\n  capabilities = ["create"]\n}\n');
      const auth = await createToken({ policies: ['create-only'] });
      assert.equal((await api.put('secret/data/drop/new', { data: { v: 'first' } }, auth.client_token)).status, 200);
      assert.equal((await api.put('secret/data/drop/new', { data: { v: 'second' } }, auth.client_token)).status, 403);
      assert.deepEqual((await api.get('secret/data/drop/new')).body.data.data, { v: 'first' });
      assert.equal((await api.put('drop-v1/new', { v: 'first' }, auth.client_token)).status, 204);
      assert.equal((await api.put('drop-v1/new', { v: 'second' }, auth.client_token)).status, 403);
      assert.deepEqual((await api.get('drop-v1/new')).body.data, { v: 'first' });

      await writePolicy('update-only', 'path "drop-v1/*" {\n  capabilities = ["update"]\n}\n');
      const updater = await createToken({ policies: ['update-only'] });
      assert.equal((await api.put('drop-v1/new', { v: 'updated' }, updater.client_token)).status, 204);
      assert.equal((await api.put('drop-v1/fresh', { v: 'x' }, updater.client_token)).status, 403);
      assert.equal((await api.get('drop-v1/fresh')).status, 404);
    });

    it('sudo-protected sys/rotate is refused with update alone and allowed with update+sudo', async () => {
      await writePolicy('rotate-nosudo', 'path "sys/rotate" {\n  capabilities = ["update"]\n}\n');
      await writePolicy('rotate-sudo', 'path "sys/rotate" {\n  capabilities = ["update", "sudo"]\n}\n');
      const plain = await createToken({ policies: ['rotate-nosudo'] });
      const sudo = await createToken({ policies: ['rotate-sudo'] });
      const termBefore = (await api.get('sys/key-status')).body.term;
      assert.equal((await api.post('sys/rotate', {}, plain.client_token)).status, 403);
      assert.equal((await api.get('sys/key-status')).body.term, termBefore);
      assert.equal((await api.post('sys/rotate', {}, sudo.client_token)).status, 204);
      assert.equal((await api.get('sys/key-status')).body.term, termBefore + 1);
    });

    it('policy changes apply to existing tokens at once', async () => {
      await writePolicy('changing', 'path "secret/data/changing" {\n  capabilities = ["read"]\n}\n');
      await api.put('secret/data/changing', { data: { v: '1' } });
      const auth = await createToken({ policies: ['changing'] });
      assert.equal((await api.get('secret/data/changing', auth.client_token)).status, 200);
      await writePolicy('changing', 'path "secret/data/unrelated" {\n  capabilities = ["read"]\n}\n');
      assert.equal((await api.get('secret/data/changing', auth.client_token)).status, 403);
      await api.delete('sys/policies/acl/changing');
      assert.equal((await api.get('secret/data/unrelated', auth.client_token)).status, 403);
    });
  });
});
