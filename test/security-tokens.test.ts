/**
 * Adversarial suite for the token store, against a real `tresor server -dev`
 * child process: every way a token might mint a token stronger than itself
 * (root from sudo, policies it lacks, escaping a use limit) and duration
 * fields that used to break the server. Each refusal is checked for Vault's
 * status and `{"errors": [...]}` shape, and that no token was stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer, type ApiResponse } from './helpers/server.ts';

const ROOT_REFUSED = 'root tokens may not be created without parent token being root';
const USE_LIMITED_REFUSED = 'restricted use token cannot generate child tokens';
const NOT_SUBSET = 'child policies must be subset of parent';

describe('token store under attack (-dev server)', () => {
  let server: TestServer;
  let api: Api;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    await writePolicy('sudo-minter', [
      'path "auth/token/create" { capabilities = ["create", "update", "sudo"] }',
      'path "auth/token/create-orphan" { capabilities = ["create", "update", "sudo"] }',
    ].join('\n'));
    await writePolicy('minter', [
      'path "auth/token/create" { capabilities = ["create", "update"] }',
      'path "auth/token/create-orphan" { capabilities = ["create", "update"] }',
    ].join('\n'));
    await writePolicy('other', 'path "secret/data/other/*" { capabilities = ["read"] }');
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  const writePolicy = (name: string, text: string) => api.writePolicy(name, text);

  const createToken = (body: Record<string, unknown>, parent = 'root', path = 'auth/token/create') => api.createToken(body, parent, path);

  /** Every accessor in the store, listed as root. */
  async function accessors(): Promise<string[]> {
    const res = await api.list('auth/token/accessors');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data.keys;
  }

  function assertRefused(res: ApiResponse, status: number, message: string | RegExp, what: string): void {
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
    assert.ok(Array.isArray(res.body?.errors) && res.body.errors.length >= 1, `${what}: Vault's errors shape`);
    if (typeof message === 'string') assert.equal(res.body.errors[0], message, what);
    else assert.match(res.body.errors[0], message, what);
    assert.equal(res.body.auth, undefined, `${what}: no auth block`);
  }

  /**
   * Runs `attempt`, expecting the refusal, and checks the token store is
   * unchanged: no token added, none gone but `spent` (a token whose last use
   * the attempt was, revoked as Vault does).
   */
  async function refusedWithoutTrace(
    attempt: () => Promise<ApiResponse>, status: number, message: string | RegExp, what: string, spent?: string,
  ) {
    const before = await accessors();
    assertRefused(await attempt(), status, message, what);
    assert.deepEqual(await accessors(), before.filter((a) => a !== spent), `${what}: no token was stored`);
  }

  const lookupSelf = (token: string) => api.get('auth/token/lookup-self', token);

  describe('root tokens only from root tokens', () => {
    it('a token with sudo on auth/token/create cannot mint a root token, however "root" is spelled', async () => {
      const sudo = await createToken({ policies: ['sudo-minter'] });
      const attempts: Array<[string, Record<string, unknown>]> = [
        ['policies ["root"]', { policies: ['root'] }],
        ['policies ["Root"]', { policies: ['Root'] }],
        ['policies [" root "]', { policies: [' root '] }],
        ['policies ["ROOT", "default"]', { policies: ['ROOT', 'default'] }],
        ['comma string "default, root"', { policies: 'default, root' }],
        ['root with no_default_policy', { policies: ['root'], no_default_policy: true }],
        ['root with no_parent', { policies: ['root'], no_parent: true }],
        ['root with a chosen id', { policies: ['root'], id: 'chosen-root-id' }],
        ['root with ttl', { policies: ['root'], ttl: '1h' }],
      ];
      for (const path of ['auth/token/create', 'auth/token/create-orphan']) {
        for (const [what, body] of attempts) {
          await refusedWithoutTrace(() => api.post(path, body, sudo.client_token), 400, ROOT_REFUSED, `${path} ${what}`);
        }
      }
      // The chosen id never became a token.
      assert.equal((await lookupSelf('chosen-root-id')).status, 403);
      // Sudo still lifts the subset rule for ordinary policies, as in Vault.
      const wider = await createToken({ policies: ['other'] }, sudo.client_token);
      assert.deepEqual(wider.policies, ['default', 'other']);
    });

    it('a child of the sudo token, inheriting its policies, is no root token either', async () => {
      const sudo = await createToken({ policies: ['sudo-minter'] });
      const child = await createToken({}, sudo.client_token);
      assert.deepEqual(child.policies, ['default', 'sudo-minter']);
      await refusedWithoutTrace(() => api.post('auth/token/create', { policies: ['root'] }, child.client_token), 400, ROOT_REFUSED, 'grandchild');
    });

    it('a root parent still mints root tokens', async () => {
      const child = await createToken({ policies: ['root'], ttl: '1h' });
      assert.deepEqual(child.policies, ['root']);
      assert.equal((await api.list('auth/token/accessors', child.client_token)).status, 200);
    });
  });

  describe('no policies beyond the parent\'s', () => {
    it('without sudo, "root" in any spelling is refused as not a subset', async () => {
      const plain = await createToken({ policies: ['minter'] });
      for (const policies of [['root'], ['Root'], [' root'], 'root,minter']) {
        await refusedWithoutTrace(() => api.post('auth/token/create', { policies }, plain.client_token), 400, NOT_SUBSET, `policies ${JSON.stringify(policies)}`);
      }
      await refusedWithoutTrace(() => api.post('auth/token/create', { policies: ['Other'] }, plain.client_token), 400, NOT_SUBSET, 'Other');
      await refusedWithoutTrace(() => api.post('auth/token/create', { id: 'my-id' }, plain.client_token), 400,
        'root or sudo privileges required to specify token id', 'id');
    });

    it('a parent without the default policy cannot hand "default" to a child, by request or by inheritance', async () => {
      const bare = await createToken({ policies: ['minter'], no_default_policy: true });
      assert.deepEqual(bare.policies, ['minter']);
      await refusedWithoutTrace(() => api.post('auth/token/create', { policies: ['default'] }, bare.client_token), 400, NOT_SUBSET, 'explicit default');
      await refusedWithoutTrace(() => api.post('auth/token/create', { policies: ['minter', 'Default'] }, bare.client_token), 400, NOT_SUBSET, 'explicit Default');
      const inherited = await createToken({}, bare.client_token);
      assert.deepEqual(inherited.policies, ['minter']);
      const explicit = await createToken({ policies: ['minter'] }, bare.client_token);
      assert.deepEqual(explicit.policies, ['minter']);
      const orphan = await createToken({ policies: ['minter'] }, bare.client_token, 'auth/token/create-orphan');
      assert.deepEqual(orphan.policies, ['minter']);
      // Lookup agrees with the auth block: default really is absent.
      assert.deepEqual((await api.post('auth/token/lookup', { token: inherited.client_token })).body.data.policies, ['minter']);
    });

    it('a parent with default still passes it on', async () => {
      const parent = await createToken({ policies: ['minter'] });
      assert.deepEqual((await createToken({ policies: ['minter'] }, parent.client_token)).policies, ['default', 'minter']);
      assert.deepEqual((await createToken({}, parent.client_token)).policies, ['default', 'minter']);
      assert.deepEqual((await createToken({ policies: ['minter'], no_default_policy: true }, parent.client_token)).policies, ['minter']);
    });
  });

  describe('use-limited tokens cannot create tokens', () => {
    for (const path of ['auth/token/create', 'auth/token/create-orphan']) {
      it(`num_uses=1 on ${path}: refused, and no unlimited token appears`, async () => {
        const limited = await createToken({ policies: ['minter'], num_uses: 1 });
        await refusedWithoutTrace(() => api.post(path, { policies: ['minter'] }, limited.client_token), 400, USE_LIMITED_REFUSED, path, limited.accessor);
        // That was its one use.
        assert.equal((await lookupSelf(limited.client_token)).status, 403);
      });

      it(`num_uses=3 on ${path}, with and without explicit policies: refused`, async () => {
        const limited = await createToken({ policies: ['minter'], num_uses: 3 });
        await refusedWithoutTrace(() => api.post(path, {}, limited.client_token), 400, USE_LIMITED_REFUSED, `${path} inherit`);
        await refusedWithoutTrace(() => api.post(path, { policies: ['minter'], num_uses: 0 }, limited.client_token), 400, USE_LIMITED_REFUSED, `${path} num_uses 0`);
      });
    }

    it('a use-limited root-policy token is refused too', async () => {
      const limitedRoot = await createToken({ policies: ['root'], num_uses: 5 });
      await refusedWithoutTrace(() => api.post('auth/token/create', {}, limitedRoot.client_token), 400, USE_LIMITED_REFUSED, 'root num_uses');
      await refusedWithoutTrace(() => api.post('auth/token/create-orphan', { policies: ['root'] }, limitedRoot.client_token), 400, USE_LIMITED_REFUSED, 'root num_uses orphan');
    });

    it('an unlimited token with sudo can still create use-limited children', async () => {
      const sudo = await createToken({ policies: ['sudo-minter'] });
      const child = await createToken({ policies: ['other'], num_uses: 2 }, sudo.client_token);
      assert.equal(child.num_uses, 2);
    });
  });

  describe('duration fields are bounded', () => {
    const HUGE: Array<[string, unknown]> = [['1e300', 1e300], ['"99999999999999999999"', '99999999999999999999'],
      ['"1000000000h"', '1000000000h'], ['-1', -1], ['"-5s"', '-5s'], ['"9".repeat(400)', '9'.repeat(400)]];

    for (const field of ['period', 'ttl', 'explicit_max_ttl']) {
      it(`create with an absurd ${field} is a 400 naming the field, never a stored token or a 500`, async () => {
        for (const [label, value] of HUGE) {
          const before = await accessors();
          const res = await api.post('auth/token/create', { policies: ['other'], [field]: value });
          assertRefused(res, 400, new RegExp(`^${field}\\b`), `${field}=${label}`);
          assert.ok(!res.body.errors[0].includes('99999'), `${field}=${label}: the value is not echoed`);
          assert.deepEqual(await accessors(), before, `${field}=${label}: no token was stored`);
        }
      });
    }

    it('renew with an absurd increment is a 400 naming increment; the token keeps working', async () => {
      const auth = await createToken({ policies: ['other'], ttl: '1h' });
      for (const [label, value] of HUGE) {
        assertRefused(await api.post('auth/token/renew-self', { increment: value }, auth.client_token), 400, /^increment\b/, `renew-self ${label}`);
        assertRefused(await api.post('auth/token/renew', { token: auth.client_token, increment: value }), 400, /^increment\b/, `renew ${label}`);
        assertRefused(await api.post('auth/token/renew-accessor', { accessor: auth.accessor, increment: value }), 400, /^increment\b/, `renew-accessor ${label}`);
      }
      const self = await lookupSelf(auth.client_token);
      assert.equal(self.status, 200, JSON.stringify(self.body));
      assert.ok(self.body.data.ttl > 3500 && self.body.data.ttl <= 3600);
    });

    it('long but sane durations work, and lookup-self answers 200 with a valid expire_time', async () => {
      const periodic = await createToken({ policies: ['other'], period: '87600h' });
      assert.equal(periodic.lease_duration, 87600 * 3600);
      const lookup = await lookupSelf(periodic.client_token);
      assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
      assert.ok(!Number.isNaN(Date.parse(lookup.body.data.expire_time)));
      const plain = await createToken({ policies: ['other'], ttl: '30m', explicit_max_ttl: '1h' });
      assert.equal(plain.lease_duration, 1800);
      assert.equal((await lookupSelf(plain.client_token)).status, 200);
    });

    it('mount tuning refuses absurd lease TTLs too', async () => {
      const res = await api.post('sys/mounts/secret/tune', { default_lease_ttl: 1e300 });
      assertRefused(res, 400, /^default_lease_ttl\b/, 'tune default_lease_ttl');
      const tuned = await api.get('sys/mounts/secret/tune');
      assert.equal(tuned.status, 200);
      assert.ok(Number.isSafeInteger(tuned.body.data.default_lease_ttl));
    });
  });
});
