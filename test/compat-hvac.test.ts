/**
 * Vault-client compatibility: Debian's python3-hvac (0.11.2), unmodified and
 * used with its own defaults, against real `tresor server` child processes.
 * The hvac calls live in test/compat/hvac/*.py (run with /usr/bin/python3,
 * where the Debian package installs); each prints what hvac returned and this
 * file asserts what Vault answers. Differences that come from hvac 0.11
 * itself (it predates parts of today's Vault API) are asserted as such and
 * listed in docs/COMPATIBILITY.md.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer } from './helpers/server.ts';
import { createSoftHsmToken, hsmServerConfig, type SoftHsmToken } from './helpers/softhsm.ts';
import { assertNoContent, assertVaultError, ok, runHvac } from './helpers/hvac.ts';

const NONCE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX_SHARE = /^[0-9a-f]{66}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Initialises with the raw API when the hvac init test could not (so one defect does not hide the rest). */
async function ensureInitialised(api: Api, state: { keys?: string[]; rootToken?: string }, body: Record<string, unknown>): Promise<void> {
  if (state.rootToken) return;
  const res = await api.put('sys/init', body);
  assert.equal(res.status, 200, `fallback init: ${JSON.stringify(res.body)}`);
  state.keys = res.body.recovery_keys ?? res.body.keys;
  state.rootToken = res.body.root_token;
}

describe('hvac 0.11 against Tresor', () => {
  describe('sys lifecycle, rekey and generate-root (Shamir seal, file storage)', () => {
    let server: TestServer;
    const state: { keys?: string[]; rootToken?: string; threshold: number } = { threshold: 3 };
    const hvac = (script: string, kase: string, args: Record<string, unknown> = {}) => runHvac(script, kase, { addr: server.api.addr }, args);
    const init = () => ensureInitialised(server.api, state, { secret_shares: 5, secret_threshold: 3 });
    /** Unseals with the raw API (test set-up only). */
    const rawUnseal = async () => {
      for (const key of state.keys!.slice(0, state.threshold)) await server.api.put('sys/unseal', { key });
      assert.equal((await server.api.get('sys/seal-status')).body.sealed, false);
    };

    before(async () => {
      server = await TestServer.start();
    });
    after(async () => {
      await server?.kill();
      server?.cleanup();
    });

    it('read_init_status / is_initialized / health before init', async () => {
      const r = await hvac('sys_lifecycle', 'init_status');
      assert.deepEqual(r.read, { initialized: false });
      assert.equal(r.is_initialized, false);
      assert.equal(r.health.status, 501);
      assert.equal(r.health.body.initialized, false);
      assert.equal(r.health.body.sealed, true);
    });

    it('sys.initialize with hvac defaults (5 shares, threshold 3, root_token_pgp_key sent as null)', async () => {
      const init = ok((await hvac('sys_lifecycle', 'initialize')), 'sys.initialize()');
      assert.equal(init.keys.length, 5);
      assert.equal(init.keys_base64.length, 5);
      for (const k of init.keys) assert.match(k, HEX_SHARE);
      assert.deepEqual(init.keys_base64.map((b: string) => Buffer.from(b, 'base64').toString('hex')), init.keys);
      assert.match(init.root_token, /^hvs\./);
      assert.equal(init.recovery_keys, undefined);
      state.keys = init.keys;
      state.rootToken = init.root_token;
    });

    it('sys.initialize again: 400 Vault is already initialized', async () => {
      await init();
      assertVaultError(await hvac('sys_lifecycle', 'initialize_again'), 400, ['Vault is already initialized']);
    });

    it('read_seal_status / is_sealed while sealed', async () => {
      await init();
      const r = await hvac('sys_lifecycle', 'seal_status');
      const s = r.status;
      assert.equal(r.is_sealed, true);
      assert.equal(s.type, 'shamir');
      assert.equal(s.initialized, true);
      assert.equal(s.sealed, true);
      assert.equal(s.t, 3);
      assert.equal(s.n, 5);
      assert.equal(s.progress, 0);
      assert.equal(s.nonce, '');
      assert.equal(typeof s.version, 'string');
      assert.equal(typeof s.build_date, 'string');
      assert.equal(s.migration, false);
      assert.equal(s.recovery_seal, false);
      assert.equal(s.storage_type, 'file');
      assert.equal(s.cluster_name, undefined, 'no cluster identity while sealed');
      assert.equal(s.cluster_id, undefined);
    });

    it('read_health_status while sealed: HEAD and GET answer 503, sealed_code=200 answers 200', async () => {
      await init();
      const r = await hvac('sys_lifecycle', 'health');
      assert.equal(r.head.status, 503);
      assert.equal(r.get.status, 503);
      assert.equal(r.get.body.initialized, true);
      assert.equal(r.get.body.sealed, true);
      assert.equal(r.get.body.standby, true, 'a sealed Vault reports standby');
      // 200: JSONAdapter hands back the parsed body.
      assert.equal(r.sealed_code.sealed, true);
      assert.equal(typeof r.sealed_code.server_time_utc, 'number');
    });

    it('requests needing the barrier answer 503 Vault is sealed', async () => {
      await init();
      const r = await hvac('sys_lifecycle', 'sealed_requests', { root_token: state.rootToken });
      assertVaultError(r.kv_read, 503, ['Vault is sealed']);
      assertVaultError(r.mounts, 503, ['Vault is sealed']);
    });

    it('submit_unseal_key counts progress under a nonce; reset=True clears it', async () => {
      await init();
      const r = await hvac('sys_lifecycle', 'unseal_progress', { keys: state.keys });
      assert.equal(r.first.sealed, true);
      assert.equal(r.first.progress, 1);
      assert.equal(r.first.t, 3);
      assert.match(r.first.nonce, NONCE);
      assert.equal(r.reset.progress, 0);
      assert.equal(r.reset.nonce, '');
      assert.equal(r.reset.sealed, true);
    });

    it('submit_unseal_keys unseals; seal-status then names the cluster', async () => {
      await init();
      const r = await hvac('sys_lifecycle', 'unseal', { keys: state.keys!.slice(0, 3) });
      assert.equal(r.last.sealed, false);
      assert.equal(r.last.progress, 0);
      assert.equal(r.last.nonce, '');
      assert.equal(typeof r.last.cluster_name, 'string');
      assert.ok(r.last.cluster_name.length > 0);
      assert.match(r.last.cluster_id, NONCE);
      assert.equal(r.is_sealed, false);
    });

    describe('sys/unseal while unsealed', () => {
      let r: any;
      before(async () => {
        await init();
        if ((await server.api.get('sys/seal-status')).body.sealed) await rawUnseal();
        r = await hvac('sys_lifecycle', 'unseal_when_unsealed', { keys: state.keys });
      });

      it("an empty key is 400 ('key' must be specified)", () => {
        assertVaultError(r.empty_key, 400, ["'key' must be specified in request body as JSON, or 'reset' set to true"], "submit_unseal_key(key='')");
      });

      it('reset=True is 400 vault is unsealed', () => {
        assertVaultError(r.reset, 400, ['vault is unsealed'], 'submit_unseal_key(reset=True)');
      });

      it('a key answers the (unsealed) status', () => {
        assert.equal(ok(r.valid_key).sealed, false);
      });
    });

    it('read_leader_status: HA disabled (single node, file storage)', async () => {
      const r = await hvac('sys_lifecycle', 'leader');
      assert.equal(r.ha_enabled, false);
      assert.equal(r.is_self, false, 'Vault reports is_self=false when HA is not enabled');
      assert.equal(r.leader_address, '');
      assert.equal(r.leader_cluster_address, '');
      assert.equal(r.performance_standby, false);
      assert.equal(r.active_time, '0001-01-01T00:00:00Z');
    });

    it('read_health_status while unsealed answers 200 (GET: body; HEAD: empty)', async () => {
      await init();
      if ((await server.api.get('sys/seal-status')).body.sealed) await rawUnseal();
      const r = await hvac('sys_lifecycle', 'health_unsealed');
      assert.equal(r.get.initialized, true);
      assert.equal(r.get.sealed, false);
      assert.equal(r.get.standby, false);
      assert.equal(r.get.performance_standby, false);
      assert.equal(r.get.replication_dr_mode, 'disabled');
      assert.equal(r.get.replication_performance_mode, 'disabled');
      assert.equal(typeof r.get.version, 'string');
      assert.match(r.get.cluster_id, NONCE);
      assert.equal(r.head.status, 200);
      assert.equal(r.head.body, null);
    });

    it('rotate_encryption_key / get_encryption_key_status: the term goes up by one', async () => {
      await init();
      if ((await server.api.get('sys/seal-status')).body.sealed) await rawUnseal();
      const r = await hvac('sys_lifecycle', 'key_status_rotate', { root_token: state.rootToken });
      assert.equal(r.before.data.term, 1);
      assert.match(r.before.data.install_time, ISO_TIME);
      assert.equal(typeof r.before.data.encryptions, 'number');
      assertNoContent(r.rotate, 'rotate_encryption_key()');
      assert.equal(r.after.data.term, 2);
      assert.deepEqual(r.key_status.term, 2, 'client.key_status is the data block');
    });

    describe('rekey', () => {
      before(async () => {
        await init();
        if ((await server.api.get('sys/seal-status')).body.sealed) await rawUnseal();
      });

      it('read_rekey_progress while idle', async () => {
        const r = await hvac('sys_rekey', 'progress_idle');
        assert.equal(r.started, false);
        assert.equal(r.nonce, '');
        assert.equal(r.t, 0);
        assert.equal(r.n, 0);
        assert.equal(r.progress, 0);
        assert.equal(r.required, 3);
        assert.equal(r.verification_required, false);
      });

      it("start_rekey then cancel: hvac's nonce-less cancel_rekey is refused (Vault 1.17.18+/1.20), DELETE with the nonce cancels", async () => {
        const r = await hvac('sys_rekey', 'start_and_cancel');
        assert.equal(r.started.started, true);
        assert.match(r.started.nonce, NONCE);
        assert.equal(r.started.t, 2);
        assert.equal(r.started.n, 3);
        assert.equal(r.started.required, 3);
        assert.equal(r.started.progress, 0);
        assert.equal(r.progress.nonce, r.started.nonce);
        assertVaultError(r.cancel_without_nonce, 400, undefined, 'cancel_rekey() without a nonce');
        assert.equal(r.still.started, true, 'the refused cancel left the rekey running');
        assertNoContent(r.cancel_with_nonce, 'DELETE sys/rekey/init {nonce}');
        assert.equal(r.after.started, false);
      });

      it('start_rekey + rekey / rekey_multi issue new shares; the old ones stop unsealing, the new ones unseal', async () => {
        const oldKeys = state.keys!;
        const r = await hvac('sys_rekey', 'rekey', { keys: oldKeys.slice(0, 3) });
        if (r.done.complete) {
          state.keys = r.done.keys;
          state.threshold = 2;
        }
        // Until the threshold is reached Vault answers with the rekey status (no "complete" field).
        assert.equal(r.first.complete, undefined);
        assert.equal(r.first.started, true);
        assert.equal(r.first.progress, 1);
        assert.equal(r.first.required, 3);
        assert.equal(r.done.complete, true);
        assert.equal(r.done.nonce, r.started.nonce);
        assert.equal(r.done.keys.length, 3);
        assert.equal(r.done.keys_base64.length, 3);
        for (const k of r.done.keys) assert.match(k, HEX_SHARE);
        assert.equal(r.done.backup, false);
        assert.equal(r.done.verification_required, false);
        assert.equal(r.after.started, false);

        const withOld = await hvac('sys_lifecycle', 'seal_then_unseal', { root_token: state.rootToken, keys: oldKeys.slice(0, 3) });
        assert.equal(withOld.sealed, true);
        assertVaultError(withOld.unseal, 400, undefined, 'unsealing with the replaced shares');
        assert.equal(withOld.is_sealed, true);
        const withNew = await hvac('sys_lifecycle', 'unseal', { keys: state.keys!.slice(0, 2) });
        assert.equal(withNew.is_sealed, false);
      });

      it('rekey with require_verification: verify progress, cancel_rekey_verify restarts it, rekey_verify_multi commits', async () => {
        const r = await hvac('sys_rekey', 'rekey_verify', { keys: state.keys!.slice(0, 2) });
        if (r.verified.complete) state.keys = r.done.keys;
        assert.equal(r.started.verification_required, true);
        assert.equal(r.done.complete, true);
        assert.equal(r.done.verification_required, true);
        assert.match(r.done.verification_nonce, NONCE);
        assert.equal(r.done.keys.length, 3);
        assert.equal(r.progress.nonce, r.done.verification_nonce);
        assert.equal(r.progress.started, true);
        assert.equal(r.progress.t, 2);
        assert.equal(r.progress.n, 3);
        assert.equal(r.progress.progress, 0);
        // Vault answers DELETE sys/rekey/verify with the restarted verification's status.
        assert.match(r.restarted.nonce, NONCE);
        assert.notEqual(r.restarted.nonce, r.done.verification_nonce);
        assert.equal(r.verified.complete, true);
        assert.equal(r.verified.nonce, r.restarted.nonce);
        const check = await hvac('sys_lifecycle', 'seal_then_unseal', { root_token: state.rootToken, keys: state.keys!.slice(0, 2) });
        assert.equal(check.is_sealed, false, 'the verified shares unseal');
      });

      it('read_backup_keys with no backup: 400 no backed-up keys found', async () => {
        assertVaultError(await hvac('sys_rekey', 'backup_none', { root_token: state.rootToken }), 400, ['no backed-up keys found']);
      });
    });

    describe('generate-root', () => {
      before(async () => {
        await init();
        if ((await server.api.get('sys/seal-status')).body.sealed) await rawUnseal();
      });

      it('read_root_generation_progress while idle', async () => {
        const r = await hvac('sys_generate_root', 'progress_idle');
        assert.equal(r.started, false);
        assert.equal(r.nonce, '');
        assert.equal(r.progress, 0);
        assert.equal(r.required, state.threshold);
        assert.equal(r.complete, false);
        assert.equal(r.encoded_token, '');
        assert.equal(r.encoded_root_token, '');
        assert.equal(r.pgp_fingerprint, '');
        assert.equal(r.otp_length, 28);
      });

      it('start_root_token_generation (server-made OTP); cancel needs the nonce', async () => {
        const r = await hvac('sys_generate_root', 'start_and_cancel');
        assert.equal(r.started.started, true);
        assert.match(r.started.nonce, NONCE);
        assert.equal(r.started.otp.length, 28);
        assert.equal(r.started.otp_length, 28);
        assert.equal(r.started.required, state.threshold);
        assert.equal(r.progress.nonce, r.started.nonce);
        assert.equal(r.progress.otp, '', 'the OTP is shown once, at start');
        // Deliberate difference: cancel needs the attempt's nonce (Vault takes none here).
        assertVaultError(r.cancel_without_nonce, 400);
        assert.equal(r.still.started, true);
        assertNoContent(r.cancel, 'DELETE sys/generate-root/attempt {nonce}');
        assert.equal(r.after.started, false);
      });

      it('generate_root with the unseal keys; the decoded token is a root token', async () => {
        const r = await hvac('sys_generate_root', 'generate', { keys: state.keys!.slice(0, state.threshold) });
        const last = r.steps.at(-1);
        assert.equal(r.steps.length, state.threshold);
        assert.equal(r.steps[0].complete, false);
        assert.equal(r.steps[0].progress, 1);
        assert.equal(last.complete, true);
        assert.ok(last.encoded_token.length > 0);
        assert.equal(last.encoded_root_token, last.encoded_token);
        assert.equal(r.token_prefix, 'hvs.');
        assert.equal(r.token_length, 28);
        assert.deepEqual(r.lookup_policies, ['root']);
        assert.equal(r.after.started, false);
      });
    });

    it('sys.seal with a root token', async () => {
      await init();
      if ((await server.api.get('sys/seal-status')).body.sealed) await rawUnseal();
      const r = await hvac('sys_lifecycle', 'seal', { root_token: state.rootToken });
      assertNoContent(r.seal, 'sys.seal()');
      assert.equal(r.is_sealed, true);
    });
  });

  describe('mounts, policies, tokens, kv, cubbyhole, transit, wrapping (-dev server)', () => {
    let server: TestServer;
    let api: Api;
    const hvac = (script: string, kase: string, args: Record<string, unknown> = {}, token = 'root') =>
      runHvac(script, kase, { addr: server.api.addr, token }, args);
    const must = async (p: Promise<{ status: number; body: any }>, status = 204) => {
      const res = await p;
      assert.equal(res.status, status, JSON.stringify(res.body));
      return res.body;
    };

    before(async () => {
      server = await TestServer.startDev();
      api = server.api;
      // Set-up through the raw API, so the hvac tests stay independent of each other.
      await must(api.post('sys/mounts/kv1', { type: 'kv', options: { version: '1' } }));
      await must(api.post('sys/mounts/kvcfg', { type: 'kv', options: { version: '2' } }));
      await must(api.post('sys/mounts/hv-tune', { type: 'kv' }));
      await must(api.post('sys/mounts/hv-move-a', { type: 'kv' }));
      await must(api.put('hv-move-a/kept', { value: 'kept' }));
      await must(api.post('sys/mounts/hv-disable', { type: 'kv' }));
      await must(api.put('hv-disable/kept', { value: 'gone with the mount' }));
      await must(api.post('sys/mounts/transit', { type: 'transit' }));
    });
    after(async () => {
      await server?.kill();
      server?.cleanup();
    });

    describe('sys/mounts, sys/remount, sys/auth', () => {
      it('enable_secrets_engine with every optional argument at its default (sent as null)', async () => {
        const r = await hvac('sys_mounts', 'enable_defaults');
        assertNoContent(ok(r.enable, "enable_secrets_engine('kv')"));
        assert.equal(r.entry.type, 'kv');
        assert.equal(r.entry.description, '');
      });

      it('enable_secrets_engine kv with options version 2; retrieve_mount_option reads it back', async () => {
        const r = await hvac('sys_mounts', 'enable_kv2');
        assertNoContent(ok(r.enable));
        assert.equal(r.entry.type, 'kv');
        assert.equal(r.entry.description, 'versioned');
        assert.deepEqual(r.entry.options, { version: '2' });
        assert.equal(r.version, '2');
      });

      it('enable_secrets_engine transit with a config (TTLs as duration strings)', async () => {
        const r = await hvac('sys_mounts', 'enable_with_config');
        assertNoContent(ok(r.enable));
        assert.equal(r.entry.type, 'transit');
        assert.equal(r.entry.description, 'encryption');
        assert.equal(r.entry.config.default_lease_ttl, 3600);
        assert.equal(r.entry.config.max_lease_ttl, 7200);
      });

      it('enable_secrets_engine "generic" (Vault\'s old name for kv) mounts a KV v1 store', async () => {
        const r = await hvac('sys_mounts', 'enable_generic');
        assertNoContent(ok(r.enable, "enable_secrets_engine('generic')"));
        assert.equal(r.entry.type, 'generic');
        assertNoContent(ok(r.write));
        assert.deepEqual(r.read.data, { value: 'v1' });
      });

      it('list_mounted_secrets_engines shows the -dev mounts with their fields', async () => {
        const r = await hvac('sys_mounts', 'list_mounts');
        const data = r.mounts.data;
        assert.equal(data['secret/'].type, 'kv');
        assert.deepEqual(data['secret/'].options, { version: '2' });
        assert.equal(data['cubbyhole/'].type, 'cubbyhole');
        assert.equal(data['sys/'].type, 'system');
        assert.equal(data['identity/'].type, 'identity');
        const kv1 = data['kv1/'];
        assert.match(kv1.accessor, /^kv_[0-9a-f]{8}$/);
        assert.match(kv1.uuid, NONCE);
        assert.equal(kv1.local, false);
        assert.equal(kv1.seal_wrap, false);
        assert.equal(kv1.external_entropy_access, false);
        assert.deepEqual(kv1.config, { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false });
        // Vault also copies the table to the top level of the response.
        assert.equal(r.mounts['secret/'].type, 'kv');
        assert.equal(r.secret_version, '2');
      });

      it('read_mount_configuration / tune_mount_configuration; GET sys/mounts/<path>', async () => {
        const r = await hvac('sys_mounts', 'tune');
        assert.equal(r.before.data.default_lease_ttl, 2764800);
        assert.equal(r.before.data.max_lease_ttl, 2764800);
        assert.equal(r.before.data.force_no_cache, false);
        assertNoContent(r.tune, 'tune_mount_configuration()');
        assert.equal(r.after.data.default_lease_ttl, 3600);
        assert.equal(r.after.data.max_lease_ttl, 7200);
        assert.equal(r.after.data.description, 'tuned by hvac');
        assert.equal(r.listed.description, 'tuned by hvac');
        assert.equal(r.listed.config.default_lease_ttl, 3600);
        assert.equal(r.listed.config.max_lease_ttl, 7200);
        assert.equal(r.single.data.type, 'kv');
        assert.equal(r.single.data.description, 'tuned by hvac');
        assert.equal(r.single.data.config.default_lease_ttl, 3600);
        assert.equal(r.single.data.accessor, r.listed.accessor);
      });

      it('move_backend (sys/remount) moves the data; sys/remount/status reports success with both mount paths', async () => {
        const r = await hvac('sys_mounts', 'move');
        assert.match(r.move.data.migration_id, NONCE);
        assert.equal(r.status.data.migration_id, r.move.data.migration_id);
        const info = r.status.data.migration_info;
        assert.equal(info.status, 'success');
        assert.equal(info.source_mount, 'hv-move-a/');
        assert.equal(info.target_mount, 'hv-move-b/');
        assert.equal(r.has_from, false);
        assert.equal(r.has_to, true);
        assert.deepEqual(r.read.data, { value: 'kept' });
      });

      it('disable_secrets_engine removes the mount and its data', async () => {
        const r = await hvac('sys_mounts', 'disable');
        assertNoContent(r.disable);
        assert.equal(r.still_listed, false);
        assertVaultError(r.read_after, 404);
      });

      it('list_auth_methods shows token/', async () => {
        const r = await hvac('sys_mounts', 'auth_methods');
        const t = r.data['token/'];
        assert.equal(t.type, 'token');
        assert.match(t.accessor, /^auth_token_[0-9a-f]{8}$/);
        assert.equal(t.local, false);
        assert.equal(t.seal_wrap, false);
        assert.equal(typeof t.description, 'string');
        assert.equal(r['token/'].type, 'token', 'also at the top level');
      });
    });

    describe('sys/policies/acl, sys/policy, sys/capabilities[-self]', () => {
      let childToken: string;
      before(async () => {
        await must(api.put('sys/policies/acl/hv-cap', { policy: 'path "secret/data/cap/*" {\n  capabilities = ["read", "list"]\n}\n' }));
        childToken = (await must(api.post('auth/token/create', { policies: ['hv-cap'], ttl: '1h' }), 200)).auth.client_token;
      });

      it('sys/policies/acl write / read / list / delete (generic client methods)', async () => {
        const r = await hvac('sys_policies', 'acl_crud');
        assertNoContent(r.write);
        assert.equal(r.read.data.name, 'hv-acl');
        assert.match(r.read.data.policy, /secret\/data\/hv\/\*/);
        assert.ok(r.list.data.keys.includes('hv-acl'));
        assert.ok(r.list.data.keys.includes('default'));
        assert.ok(r.list.data.keys.includes('root'));
        assert.equal(r.read_after_delete, null, 'client.read answers None for 404');
        assert.ok(!r.list_after_delete.data.keys.includes('hv-acl'));
      });

      it('sys.create_or_update_policy / read_policy / list_policies / get_policy / delete_policy (sys/policy)', async () => {
        const r = await hvac('sys_policies', 'old_policy');
        assertNoContent(r.write);
        assert.equal(r.read.data.name, 'hv-old');
        assert.match(r.read.data.rules, /secret\/data\/hv\/\*/, 'sys/policy answers the text as "rules"');
        assert.ok(r.list.data.policies.includes('hv-old'));
        assert.deepEqual(r.list.data.keys, r.list.data.policies);
        assert.equal(r.get_policy, r.read.data.rules);
        assertNoContent(r.delete);
        assertVaultError(r.read_after_delete, 404);
      });

      it('a policy given as a dict is sent as JSON, which Vault parses like HCL', async () => {
        const r = await hvac('sys_policies', 'json_policy');
        assertNoContent(ok(r.write, 'create_or_update_policy(dict)'));
        assert.deepEqual(ok(r.capabilities).data.capabilities, ['read']);
      });

      it('get_capabilities with token= (sys/capabilities) and without (sys/capabilities-self)', async () => {
        const r = await hvac('sys_policies', 'capabilities', { child_token: childToken });
        assert.deepEqual(r.token.data['secret/data/cap/x'], ['list', 'read']);
        assert.deepEqual(r.token.data['sys/mounts'], ['deny']);
        assert.equal(r.token.data.capabilities, undefined, '"capabilities" only when one path is asked');
        assert.deepEqual(r.token_one.data.capabilities, ['list', 'read']);
        assert.deepEqual(r.self.data.capabilities, ['list', 'read']);
        assert.deepEqual(r.self.data['secret/data/cap/x'], ['list', 'read']);
        assert.deepEqual(r.self_two.data['secret/data/other'], ['deny']);
        assert.deepEqual(r.root_self.data.capabilities, ['root']);
        assert.deepEqual(r.self.capabilities, ['list', 'read'], 'also at the top level');
      });
    });

    describe('auth/token', () => {
      it('auth.token.create', async () => {
        const r = await hvac('tokens', 'create');
        const a = r.auth;
        assert.match(a.client_token, /^hvs\./);
        assert.equal(typeof a.accessor, 'string');
        assert.deepEqual(a.policies, ['default']);
        assert.deepEqual(a.token_policies, ['default']);
        assert.deepEqual(a.metadata, { app: 'hvac' });
        assert.equal(a.lease_duration, 3600);
        assert.equal(a.renewable, true);
        assert.equal(a.orphan, false);
        assert.equal(a.token_type, 'service');
        assert.equal(a.entity_id, '');
        assert.equal(r.data, null);
        assert.equal(r.lease_id, '');
        assert.equal(r.wrap_info, null);
      });

      it('create-orphan (client.create_token(orphan=True), which sends its unset fields as null) and no_parent=True', async () => {
        const r = await hvac('tokens', 'create_orphan');
        const legacy = ok(r.create_orphan, 'create_token(orphan=True)');
        assert.equal(legacy.auth.orphan, true);
        assert.deepEqual(legacy.auth.policies, ['default']);
        assert.equal(legacy.auth.lease_duration, 3600);
        assert.equal(r.no_parent.auth.orphan, true);
      });

      it('lookup / lookup_self / lookup_accessor / lookup_token / list_accessors', async () => {
        const r = await hvac('tokens', 'lookups');
        const token = r.created.client_token;
        const d = r.lookup.data;
        assert.equal(d.id, token);
        assert.equal(d.accessor, r.created.accessor);
        assert.deepEqual(d.policies, ['default']);
        assert.deepEqual(d.meta, { app: 'hvac' });
        assert.equal(d.display_name, 'token-token', 'Vault prefixes the given display_name ("token", hvac\'s default) with "token-"');
        assert.equal(d.num_uses, 0);
        assert.equal(d.orphan, false);
        assert.equal(d.path, 'auth/token/create');
        assert.equal(d.renewable, true);
        assert.equal(d.type, 'service');
        assert.equal(d.creation_ttl, 3600);
        assert.ok(d.ttl > 3500 && d.ttl <= 3600, String(d.ttl));
        assert.equal(d.explicit_max_ttl, 0);
        assert.equal(d.entity_id, '');
        assert.match(d.expire_time, /^\d{4}-\d\d-\d\dT/);
        assert.match(d.issue_time, /^\d{4}-\d\d-\d\dT/);
        assert.equal(typeof d.creation_time, 'number');
        assert.equal(r.lookup_self.data.id, token);
        assert.equal(r.lookup_accessor.data.id, '', 'lookup by accessor hides the token');
        assert.equal(r.lookup_accessor.data.accessor, r.created.accessor);
        assert.equal(r.legacy_lookup_token.data.id, token);
        assert.ok(r.accessors.data.keys.includes(r.created.accessor));
        assertVaultError(r.lookup_bad, 403, ['bad token']);
      });

      it('renew / renew_self with an increment', async () => {
        const r = await hvac('tokens', 'renewals');
        assert.equal(r.renew.auth.lease_duration, 7200);
        assert.equal(r.renew.auth.renewable, true);
        assert.match(r.renew.auth.client_token, /^hvs\./);
        assert.equal(r.renew_self.auth.lease_duration, 1800);
        assert.ok(r.ttl_after > 1700 && r.ttl_after <= 1800, String(r.ttl_after));
      });

      it('revoke / revoke_accessor / revoke_self', async () => {
        const r = await hvac('tokens', 'revocations');
        assertNoContent(r.revoke);
        assertVaultError(r.lookup_revoked, 403, ['bad token']);
        assertNoContent(r.revoke_accessor);
        assertVaultError(r.lookup_accessor_revoked, 403, ['bad token']);
        assertNoContent(r.revoke_self);
        assertVaultError(r.lookup_self_revoked, 403);
      });

      it('revoke_and_orphan_children (revoke-orphan) keeps the children, now orphans; revoke takes the tree', async () => {
        await must(api.put('sys/policies/acl/hv-minter', { policy: 'path "auth/token/create" {\n  capabilities = ["update"]\n}\n' }));
        const r = await hvac('tokens', 'revoke_orphan');
        assertNoContent(r.revoke_orphan);
        assertVaultError(r.parent, 403);
        assert.equal(ok(r.child).data.orphan, true);
        assert.equal(ok(r.sibling).data.orphan, true);
        assertVaultError(r.tree_child, 403, ['bad token']);
      });

      it('token roles: create_or_update_role / read_role / list_roles / delete_role, and create(role_name=...)', async () => {
        await must(api.put('sys/policies/acl/hv-minter', { policy: 'path "auth/token/create" {\n  capabilities = ["update"]\n}\npath "auth/token/create/*" {\n  capabilities = ["update"]\n}\n' }));
        const r = await hvac('tokens', 'roles');
        assertNoContent(r.created);
        const role = r.read.data;
        assert.deepEqual(role.allowed_policies, ['hv-app']);
        assert.equal(role.orphan, true);
        assert.equal(role.renewable, true, "hvac sends renewable=True");
        assert.equal(role.path_suffix, 'rev1');
        assert.equal(role.token_type, 'default-service');
        assert.deepEqual(r.listed.data.keys, ['hv-role']);
        const made = r.made.auth;
        assert.deepEqual(made.policies, ['default', 'hv-app']);
        assert.equal(made.orphan, true, 'the role makes orphans without sudo');
        assert.equal(made.lease_duration, 1800);
        assert.equal(r.lookup.data.path, 'auth/token/create/hv-role/rev1');
        assert.equal(r.lookup.data.role, 'hv-role');
        assertVaultError(r.outside, 400, ['token policies (["default" "hv-other"]) must be subset of the role\'s allowed policies (["default" "hv-app"]) or glob policies ([])']);
        assertVaultError(r.unknown, 400, ['unknown role hv-none']);
        assertNoContent(r.updated);
        assert.deepEqual(r.after_update.data.allowed_policies, ['hv-app', 'hv-other']);
        assert.equal(r.after_update.data.renewable, false);
        assert.equal(r.after_update.data.path_suffix, 'rev1', 'hvac sends path_suffix only when given: kept');
        assert.equal(r.after_update.data.orphan, false, 'hvac always sends orphan (False by default)');
        assertNoContent(r.deleted);
        assertVaultError(r.gone, 404);
      });

      it('batch tokens: create(type="batch") and Vault\'s refusals', async () => {
        await must(api.put('sys/policies/acl/hv-batch', { policy: 'path "auth/token/create" {\n  capabilities = ["update"]\n}\n' }));
        const r = await hvac('tokens', 'batch');
        assert.match(r.made.auth.client_token, /^hvb\./);
        assert.equal(r.made.auth.accessor, '');
        assert.equal(r.made.auth.token_type, 'batch');
        assert.equal(r.made.auth.renewable, false);
        assert.equal(r.lookup_self.data.type, 'batch');
        assertVaultError(r.revoke, 400, ['batch tokens cannot be revoked']);
        assertVaultError(r.renew_self, 400, ['batch tokens cannot be renewed']);
        assertVaultError(r.child, 400, ['batch tokens cannot create more tokens']);
        assertVaultError(r.num_uses, 400, ['batch tokens cannot have "num_uses" set']);
      });
    });

    describe('identity', () => {
      it('entities and aliases through client.secrets.identity', async () => {
        const accessor = (await api.get('sys/auth')).body.data['token/'].accessor;
        const r = await hvac('identity', 'entities', { accessor });
        const id = r.created.data.id;
        assert.equal(r.created.data.name, 'hv-alice');
        assert.deepEqual(r.read.data.policies, ['hv-app']);
        assert.deepEqual(r.read.data.metadata, { team: 'ops' });
        assert.equal(r.by_name.data.id, id);
        assertNoContent(r.updated);
        assert.equal(r.alias.data.canonical_id, id);
        assert.equal(r.read_alias.data.mount_type, 'token');
        assert.equal(r.read_alias.data.name, 'hv-alice');
        assert.equal(r.lookup.data.id, id);
        assert.deepEqual(r.lookup.data.policies, ['hv-app', 'hv-other']);
        assert.ok(r.listed.data.keys.includes(id));
        assert.ok(r.listed_get.data.keys.includes(id));
        assertVaultError(r.bad_alias, 400, ['invalid mount accessor']);
        assertNoContent(r.deleted);
        assertVaultError(r.gone, 404);
      });

      it('groups through client.secrets.identity (hvac sends type "internal" and unset member lists as null)', async () => {
        const r = await hvac('identity', 'groups');
        const devs = r.created.data.id;
        assert.equal(r.created.data.name, 'hv-devs');
        assert.deepEqual(r.read.data.policies, ['hv-app']);
        assert.deepEqual(r.read.data.parent_group_ids, [r.parent.data.id]);
        assert.deepEqual(r.by_name.data.member_group_ids, [devs]);
        assert.deepEqual(r.entity.data.direct_group_ids, [devs]);
        assert.deepEqual(r.entity.data.inherited_group_ids, [r.parent.data.id]);
        assertNoContent(r.by_name_update);
        assert.deepEqual(r.lookup.data.policies, ['hv-other']);
        assert.ok(r.listed.data.keys.includes(devs));
        assertVaultError(r.cycle, 400, ['cyclic relationship detected for member group ID']);
        assertNoContent(r.deleted);
      });
    });

    describe('auth methods: sys/auth, userpass, approle', () => {
      it('sys.enable_auth_method / list_auth_methods / read_auth_method_tuning / tune_auth_method / disable_auth_method', async () => {
        const r = await hvac('auth_methods', 'sys_auth');
        assertNoContent(r.enable);
        const entry = r.listed.data['hv-people/'];
        assert.equal(entry.type, 'userpass');
        assert.equal(entry.description, 'people');
        assert.match(entry.accessor, /^auth_userpass_[0-9a-f]{8}$/);
        assert.deepEqual(entry.config, { default_lease_ttl: 3600, max_lease_ttl: 7200, force_no_cache: false, token_type: 'default-service' });
        assert.equal(r.listed['hv-people/'].type, 'userpass', 'also at the top level');
        assert.equal(r.tuning.data.default_lease_ttl, 3600);
        assert.equal(r.tuning.data.token_type, 'default-service');
        assertNoContent(r.tune);
        assert.equal(r.after.data.max_lease_ttl, 10800);
        assert.equal(r.after.data.description, 'tuned by hvac');
        assert.equal(r.after.data.listing_visibility, 'unauth');
        assert.deepEqual(r.after.data.options, { login_rate_burst: '50' });
        // Vault answers 409 for a taken auth path, which hvac 0.11 has no exception class for.
        assert.equal(r.duplicate.error.type, 'UnexpectedError');
        assertNoContent(r.disable);
        assert.equal(r.still_listed, false);
      });

      it('auth.userpass: create_or_update_user, read_user, list_user, login (use_token), update_password_on_user, delete_user; auth_userpass', async () => {
        const r = await hvac('auth_methods', 'userpass');
        assertNoContent(r.create);
        assert.deepEqual(r.read.data.token_policies, ['hv-dev']);
        assert.deepEqual(r.read.data.policies, ['hv-dev'], 'hvac sends the deprecated "policies", which Vault reads back too');
        assert.equal(r.read.data.password, undefined);
        assert.deepEqual(r.list.data.keys, ['alice', 'bob']);
        const auth = r.login.auth;
        assert.match(auth.client_token, /^hvs\./);
        assert.deepEqual(auth.policies, ['default', 'hv-dev']);
        assert.deepEqual(auth.metadata, { username: 'alice' });
        assert.equal(auth.orphan, true);
        assert.equal(auth.renewable, true);
        assert.equal(r.lookup_self.data.id, auth.client_token, 'hvac switched to the login token');
        assert.equal(r.lookup_self.data.path, 'auth/hv-userpass/login/alice');
        assert.equal(r.lookup_self.data.display_name, 'hv-userpass-alice');
        assertVaultError(r.wrong, 400, ['invalid username or password']);
        assertVaultError(r.unknown, 400, ['invalid username or password']);
        assertNoContent(r.password);
        assertVaultError(r.old_password, 400, ['invalid username or password']);
        assert.match(r.legacy.auth.client_token, /^hvs\./);
        assert.equal(r.legacy_authenticated, true);
        assertNoContent(r.delete);
        assertVaultError(r.bob_after, 400, ['invalid username or password']);
        assertVaultError(r.token_after_disable, 403, ['permission denied'], 'a token of a disabled mount');
      });

      it('auth.approle: roles, role IDs, secret IDs (generate, read, list, by accessor, custom, destroy), login (use_token); auth_approle', async () => {
        const r = await hvac('auth_methods', 'approle');
        assertNoContent(r.create);
        assert.equal(r.read.data.secret_id_num_uses, 2);
        assert.equal(r.read.data.token_ttl, 600);
        assert.deepEqual(r.read.data.token_policies, ['hv-dev']);
        assert.deepEqual(r.roles.data.keys, ['app']);
        assert.match(r.role_id, NONCE);
        assertNoContent(r.set_id);
        assert.equal(r.role_id_after, 'hv-chosen-role-id');
        const generated = r.generated.data;
        assert.match(generated.secret_id, NONCE);
        assert.match(generated.secret_id_accessor, NONCE);
        assert.equal(generated.secret_id_num_uses, 2);
        assert.deepEqual(r.looked_up.data.metadata, { host: 'h1' }, 'hvac sends metadata as JSON text');
        assert.deepEqual(r.looked_up.data.cidr_list, ['127.0.0.0/8']);
        assert.match(r.looked_up.data.creation_time, ISO_TIME);
        assert.deepEqual(r.accessors.data.keys, [generated.secret_id_accessor]);
        assert.deepEqual(r.by_accessor.data, r.looked_up.data);
        assert.deepEqual(r.login.auth.metadata, { host: 'h1', role_name: 'app' });
        assert.deepEqual(r.login.auth.policies, ['default', 'hv-dev']);
        assert.equal(r.login.auth.lease_duration, 600);
        assert.equal(r.lookup_self.data.id, r.login.auth.client_token);
        assert.equal(r.lookup_self.data.path, 'auth/hv-approle/login');
        assert.match(r.legacy.auth.client_token, /^hvs\./);
        assertVaultError(r.spent, 400, ['invalid role or secret ID'], 'a two-use secret ID used twice');
        assertVaultError(r.wrong, 400, ['invalid role or secret ID']);
        assert.equal(r.custom.data.secret_id, 'hv-custom-secret-id');
        assertNoContent(r.destroyed_by_accessor);
        assertNoContent(r.destroyed);
        assertVaultError(r.after_destroy, 400, ['invalid role or secret ID']);
        assertNoContent(r.delete);
        assertVaultError(r.read_deleted, 404);
      });
    });

    describe('KV v1 and v2', () => {
      it('kv.v1: create_or_update_secret (POST then PUT), read, list, delete', async () => {
        const r = await hvac('kv', 'v1_crud');
        assertNoContent(r.create);
        assertNoContent(r.update);
        assertNoContent(r.put);
        assert.deepEqual(r.read.data, { user: 'u2', password: 'p2' });
        assert.equal(r.read.lease_duration, 2764800);
        assert.deepEqual(r.list.data.keys, ['api', 'db']);
        assert.deepEqual(r.list_top.data.keys, ['app/']);
        assertNoContent(r.delete);
        assert.deepEqual(assertVaultError(r.read_deleted, 404).errors, []);
        assertVaultError(r.list_missing, 404);
      });

      it('kv.v2: configure / read_configuration', async () => {
        const r = await hvac('kv', 'v2_configure');
        assert.deepEqual(r.before.data, { max_versions: 0, cas_required: false, delete_version_after: '0s' });
        assertNoContent(r.configure);
        assert.deepEqual(r.after.data, { max_versions: 5, cas_required: false, delete_version_after: '0s' });
      });

      it('kv.v2: create_or_update_secret with cas, read_secret_version / read_secret', async () => {
        const r = await hvac('kv', 'v2_write_read_cas');
        assert.equal(r.first.data.version, 1);
        assert.match(r.first.data.created_time, ISO_TIME);
        assert.equal(r.first.data.deletion_time, '');
        assert.equal(r.first.data.destroyed, false);
        assert.equal(r.first.data.custom_metadata, null);
        assert.equal(r.second.data.version, 2);
        assertVaultError(r.stale_cas, 400, ['check-and-set parameter did not match the current version']);
        assertVaultError(r.cas_zero_existing, 400, ['check-and-set parameter did not match the current version']);
        assertVaultError(r.cas_on_missing, 400, ['check-and-set parameter did not match the current version']);
        assert.deepEqual(r.latest.data.data, { a: '2' });
        assert.equal(r.latest.data.metadata.version, 2);
        assert.deepEqual(r.version1.data.data, { a: '1' });
        assert.equal(r.version1.data.metadata.version, 1);
        assert.deepEqual(r.read_secret.data, r.latest.data);
        assert.deepEqual(assertVaultError(r.missing, 404).errors, []);
      });

      it('kv.v2: patch (hvac reads, merges, writes back with cas)', async () => {
        const r = await hvac('kv', 'v2_patch');
        assert.equal(r.patch.data.version, 2);
        assert.deepEqual(r.read.data.data, { a: '1', b: '3', c: '4' });
        assertVaultError(r.patch_missing, 404);
      });

      it('kv.v2: delete_latest_version / undelete / delete_secret_versions / destroy; a soft-deleted version is a 404 carrying its metadata', async () => {
        const r = await hvac('kv', 'v2_delete_undelete_destroy');
        assertNoContent(r.delete_latest);
        // hvac 0.11 has no raise_on_deleted_version=False: it raises InvalidPath, as it does against Vault.
        assert.equal(assertVaultError(r.read_deleted, 404).type, 'InvalidPath');
        assert.equal(r.read_deleted_raw.status, 404);
        assert.equal(r.read_deleted_raw.body.data.data, null);
        assert.equal(r.read_deleted_raw.body.data.metadata.version, 3);
        assert.match(r.read_deleted_raw.body.data.metadata.deletion_time, ISO_TIME);
        assert.equal(r.read_deleted_raw.body.data.metadata.destroyed, false);
        assertNoContent(r.undelete);
        assert.deepEqual(r.after_undelete.data.data, { n: '3' });
        assertNoContent(r.delete_v1);
        assert.equal(r.read_v1_raw.status, 404);
        assert.match(r.read_v1_raw.body.data.metadata.deletion_time, ISO_TIME);
        assertNoContent(r.destroy_v2);
        assert.equal(r.read_v2_raw.status, 404);
        assert.equal(r.read_v2_raw.body.data.metadata.destroyed, true);
        const versions = r.metadata.data.versions;
        assert.equal(versions['2'].destroyed, true);
        assert.match(versions['1'].deletion_time, ISO_TIME);
        assert.equal(versions['3'].deletion_time, '');
        assert.equal(r.metadata.data.current_version, 3);
      });

      it('kv.v2: read_secret_metadata / update_metadata (cas_required) / list_secrets / delete_metadata_and_all_versions', async () => {
        const r = await hvac('kv', 'v2_metadata');
        const before = r.before.data;
        assert.equal(before.current_version, 1);
        assert.equal(before.max_versions, 0);
        assert.equal(before.oldest_version, 0);
        assert.equal(before.cas_required, false);
        assert.equal(before.delete_version_after, '0s');
        assert.equal(before.custom_metadata, null);
        assert.match(before.created_time, ISO_TIME);
        assert.match(before.updated_time, ISO_TIME);
        assert.deepEqual(Object.keys(before.versions), ['1']);
        assertNoContent(r.update);
        assert.equal(r.after.data.max_versions, 3);
        assert.equal(r.after.data.cas_required, true);
        assertVaultError(r.write_without_cas, 400, ['check-and-set parameter required for this call']);
        assert.equal(r.write_with_cas.data.version, 2);
        assert.deepEqual(r.list.data.keys, ['one', 'sub/', 'two']);
        assertNoContent(r.delete_metadata);
        assertVaultError(r.metadata_after_delete, 404);
        assertVaultError(r.read_after_delete, 404);
        assert.deepEqual(r.list_after_delete.data.keys, ['one', 'sub/']);
      });
    });

    it('cubbyhole: write / read / list / delete, private to each token', async () => {
      const mk = async () => (await must(api.post('auth/token/create', { policies: ['default'], ttl: '1h' }), 200)).auth.client_token;
      const r = await hvac('cubbyhole', 'crud', { token_a: await mk(), token_b: await mk() });
      assertNoContent(r.write);
      assert.deepEqual(r.read.data, { secret: 's1' });
      assert.deepEqual(r.list.data.keys, ['one', 'two']);
      assert.equal(r.other_read, null);
      assert.equal(r.other_list, null);
      assert.equal(r.read_after_delete, null);
      assert.deepEqual(r.list_after_delete.data.keys, ['two']);
    });

    describe('transit', () => {
      it('create_key / read_key / list_keys', async () => {
        const r = await hvac('transit', 'keys');
        assert.ok([200, 204].includes(r.create.status ?? 200), JSON.stringify(r.create));
        const d = r.read.data;
        assert.equal(d.name, 'hv-key');
        assert.equal(d.type, 'aes256-gcm96');
        assert.equal(d.latest_version, 1);
        assert.equal(d.min_decryption_version, 1);
        assert.equal(d.min_encryption_version, 0);
        assert.equal(d.min_available_version, 0);
        assert.equal(d.deletion_allowed, false);
        assert.equal(d.exportable, false);
        assert.equal(d.allow_plaintext_backup, false);
        assert.equal(d.derived, false);
        assert.equal(d.supports_encryption, true);
        assert.equal(d.supports_decryption, true);
        assert.equal(d.supports_derivation, true);
        assert.equal(d.supports_signing, false);
        assert.equal(d.auto_rotate_period, 0);
        assert.deepEqual(Object.keys(d.keys), ['1']);
        assert.equal(typeof d.keys['1'], 'number');
        assert.equal(r.read_typed.data.type, 'chacha20-poly1305');
        assert.ok(r.list.data.keys.includes('hv-key'));
        assert.ok(r.list.data.keys.includes('hv-key-chacha'));
        assertVaultError(r.read_missing, 404);
      });

      it('encrypt_data / decrypt_data / rotate_key / rewrap_data / update_key_configuration(min_decryption_version)', async () => {
        const r = await hvac('transit', 'encrypt_rotate_rewrap');
        assert.match(r.encrypt_v1.data.ciphertext, /^vault:v1:/);
        assert.equal(r.encrypt_v1.data.key_version, 1);
        assert.equal(r.plaintext_v1, 'hello');
        assert.equal(r.read_after_rotate.data.latest_version, 2);
        assert.match(r.encrypt_v2.data.ciphertext, /^vault:v2:/);
        assert.equal(r.encrypt_v2.data.key_version, 2);
        assert.match(r.rewrap.data.ciphertext, /^vault:v2:/);
        assert.equal(r.rewrap.data.key_version, 2);
        assertVaultError(r.decrypt_too_old, 400, ['ciphertext or signature version is disallowed by policy (too old)']);
        assert.equal(r.read_after_config.data.min_decryption_version, 2);
        assert.equal(r.plaintext_rewrapped, 'hello');
      });

      it('batch_input for encrypt_data and decrypt_data (plaintext/ciphertext sent as null)', async () => {
        const r = await hvac('transit', 'batch');
        assert.equal(r.encrypt.data.batch_results.length, 2);
        for (const item of r.encrypt.data.batch_results) {
          assert.match(item.ciphertext, /^vault:v1:/);
          assert.equal(item.key_version, 1);
        }
        assert.deepEqual(r.plaintexts, ['one', 'two']);
      });

      it('generate_data_key (plaintext, wrapped) / generate_random_bytes / hash_data', async () => {
        const r = await hvac('transit', 'datakey_random_hash');
        assert.match(r.datakey_plaintext.data.ciphertext, /^vault:v1:/);
        assert.equal(r.datakey_plaintext.data.key_version, 1);
        assert.equal(r.datakey_length, 32);
        assert.equal(r.datakey_roundtrip, true);
        assert.equal(r.datakey_wrapped.data.plaintext, undefined);
        assert.match(r.datakey_wrapped.data.ciphertext, /^vault:v1:/);
        assert.equal(r.random_length, 16);
        assert.match(r.random_hex.data.random_bytes, /^[0-9a-f]{16}$/);
        assert.equal(r.hash.data.sum, r.hash_expected);
        assert.equal(r.hash_b64.data.sum, r.hash_b64_expected);
      });

      it('generate_hmac / verify_signed_data(hmac=)', async () => {
        const r = await hvac('transit', 'hmac_verify');
        assert.match(r.hmac.data.hmac, /^vault:v1:/);
        assert.notEqual(r.hmac512.data.hmac, r.hmac.data.hmac);
        assert.equal(r.valid.data.valid, true);
        assert.equal(r.invalid.data.valid, false);
        assert.equal(r.valid512.data.valid, true);
      });

      it('sign_data / verify_signed_data (ed25519, ecdsa-p256 asn1 and jws, rsa-2048 pss and prehashed pkcs1v15)', async () => {
        const r = await hvac('transit', 'sign_verify');
        for (const type of ['ed25519', 'ecdsa-p256', 'rsa-2048']) {
          assert.match(r[type].sign.data.signature, /^vault:v1:/, type);
          assert.equal(r[type].sign.data.key_version, 1);
          assert.equal(r[type].valid.data.valid, true, type);
          assert.equal(r[type].invalid.data.valid, false, type);
        }
        assert.match(r.jws.data.signature, /^vault:v1:[A-Za-z0-9_-]+$/, 'jws: unpadded URL-safe base64');
        assert.equal(r.jws_valid.data.valid, true);
        assert.equal(r.pkcs_valid.data.valid, true);
        assertVaultError(r.sign_with_aes, 400, ['key type aes256-gcm96 does not support signing']);
      });

      it('export_key / backup_key / restore_key (name, force) / trim_key', async () => {
        const r = await hvac('transit', 'export_backup_restore_trim');
        assert.equal(r.export.data.name, 'hv-export');
        assert.equal(r.export.data.type, 'aes256-gcm96');
        assert.deepEqual(Object.keys(r.export.data.keys), ['1', '2']);
        assert.equal(Buffer.from(r.export.data.keys['2'], 'base64').length, 32);
        assert.deepEqual(Object.keys(r.latest.data.keys), ['2']);
        assert.equal(typeof r.backup.data.backup, 'string');
        assert.equal(r.restore.status, 204);
        assertVaultError(r.restore_again, 400, ['key "hv-restored" already exists']);
        assert.equal(r.restore_forced.status, 204);
        assert.equal(r.restored_plaintext, 'kept');
        assert.equal(r.trim.data.min_available_version, 2);
        assert.deepEqual(Object.keys(r.trim.data.keys), ['2', '3']);
        assertVaultError(r.export_locked, 400, ['private key material is not exportable']);
        assertVaultError(r.backup_locked, 400, ['exporting is disallowed on the policy']);
      });

      it('delete_key is refused until update_key_configuration(deletion_allowed=True)', async () => {
        const r = await hvac('transit', 'delete_key');
        assertVaultError(r.refused, 400, ['error deleting policy hv-delete: deletion is not allowed for this key']);
        assertNoContent(r.delete);
        assertVaultError(r.read_after, 404);
        assert.ok(!ok(r.list_after).data.keys.includes('hv-delete'));
      });
    });

    describe('response wrapping', () => {
      it('sys/wrapping/wrap (wrap_ttl) → lookup → sys.unwrap; a used token is refused', async () => {
        const r = await hvac('wrapping', 'wrap_lookup_unwrap');
        if (r.wrap?.error) ok(r.wrap, 'sys/wrapping/wrap');
        const info = r.wrap.wrap_info;
        assert.ok(info, `wrap_info expected, got ${JSON.stringify(r.wrap)}`);
        assert.match(info.token, /^hvs\./);
        assert.equal(typeof info.accessor, 'string');
        assert.equal(info.ttl, 60);
        assert.equal(info.creation_path, 'sys/wrapping/wrap');
        assert.match(info.creation_time, /^\d{4}-\d\d-\d\dT/);
        assert.equal(r.wrap.data, null);
        const look = ok(r.lookup, 'sys/wrapping/lookup').data;
        assert.equal(look.creation_path, 'sys/wrapping/wrap');
        assert.equal(look.creation_ttl, 60);
        assert.equal(ok(r.lookup_anon, 'sys/wrapping/lookup without a token').data.creation_ttl, 60);
        assert.deepEqual(ok(r.unwrap, 'sys.unwrap(token)').data, { secret: 's3cr3t', n: 1 });
        assertVaultError(r.unwrap_again, 400, ['wrapping token is not valid or does not exist']);
      });

      it('sys/wrapping/wrap without a wrap TTL is refused', async () => {
        assertVaultError(await hvac('wrapping', 'wrap_requires_ttl'), 400, ['endpoint requires response wrapping to be used']);
      });

      it('sys.unwrap() with the wrapping token as the client token', async () => {
        const r = await hvac('wrapping', 'unwrap_as_token');
        if (r.wrap) ok(r.wrap, 'sys/wrapping/wrap');
        assert.deepEqual(ok(r).data, { secret: 'mine' });
      });

      it('sys/wrapping/rewrap issues a new token; the old one is spent', async () => {
        const r = await hvac('wrapping', 'rewrap');
        if (r.wrap) ok(r.wrap, 'sys/wrapping/wrap');
        const info = ok(r.rewrap, 'sys/wrapping/rewrap').wrap_info;
        assert.match(info.token, /^hvs\./);
        assertVaultError(r.old, 400, ['wrapping token is not valid or does not exist']);
        assert.deepEqual(ok(r.new).data, { secret: 'rotated' });
      });

      it('client.read(..., wrap_ttl=) wraps a KV v2 read', async () => {
        const r = await hvac('wrapping', 'wrap_ttl_read');
        assert.equal(r.read.data, null);
        assert.equal(r.read.wrap_info?.creation_path, 'secret/data/wrapme');
        assert.equal(r.read.wrap_info?.ttl, 120);
        assert.ok(!JSON.stringify(r.read).includes('hunter2'), 'the secret is not in the wrapped answer');
        assert.deepEqual(ok(r.unwrap).data.data, { password: 'hunter2' });
      });

      it('auth.token.create(wrap_ttl=) wraps the new token; unwrap yields its auth block', async () => {
        const r = await hvac('wrapping', 'wrap_ttl_token_create');
        assert.equal(r.create.auth, null);
        assert.equal(r.create.wrap_info?.creation_path, 'auth/token/create');
        assert.equal(typeof r.create.wrap_info?.wrapped_accessor, 'string');
        assert.ok(r.create.wrap_info.wrapped_accessor.length > 0);
        const auth = ok(r.unwrap).auth;
        assert.match(auth.client_token, /^hvs\./);
        assert.equal(auth.accessor, r.create.wrap_info.wrapped_accessor);
        assert.deepEqual(auth.policies, ['default']);
      });

      it('client.auth_cubbyhole(wrapping token) logs in with the wrapped token', async () => {
        const r = await hvac('wrapping', 'auth_cubbyhole');
        assert.equal(r.login.not_wrapped, undefined, `token create with wrap_ttl was not wrapped: ${JSON.stringify(r.login.not_wrapped)}`);
        ok(r.login, 'auth_cubbyhole()');
        assert.equal(r.adopted, true);
        assert.deepEqual(ok(r.lookup_self).data.policies, ['default']);
      });
    });

    it("errors: hvac parses Vault's {\"errors\": [...]} (sent as Content-Type: application/json)", async () => {
      const r = await hvac('errors', 'error_parsing');
      assert.equal(r.error_content_type, 'application/json');
      assert.equal(r.ok_content_type, 'application/json');
      const denied = assertVaultError(r.denied, 403);
      assert.deepEqual(denied.hvac_errors, denied.errors, 'hvac itself read the errors list');
      assert.deepEqual(assertVaultError(r.bad_token, 403).hvac_errors, ['bad token']);
    });
  });

  describe('recovery keys (PKCS#11 seal on SoftHSM2)', () => {
    let token: SoftHsmToken;
    let server: TestServer;
    const state: { keys?: string[]; rootToken?: string } = {};
    const hvac = (script: string, kase: string, args: Record<string, unknown> = {}) => runHvac(script, kase, { addr: server.api.addr }, args);
    const init = () => ensureInitialised(server.api, state, { recovery_shares: 3, recovery_threshold: 2 });

    before(async () => {
      token = createSoftHsmToken({ label: 'compat-hvac' });
      server = await TestServer.start({ config: hsmServerConfig(token), env: { ...token.env, VAULT_HSM_PIN: token.pin } });
      await server.waitFor('pkcs11 seal opened', 15_000);
    });
    after(async () => {
      await server?.kill();
      server?.cleanup();
      token?.cleanup();
    });

    it("sys.initialize with hvac's default secret_shares=5/threshold=3 is refused under an auto-unseal seal", async () => {
      assertVaultError(await hvac('hsm_recovery', 'initialize_defaults'), 400, ['parameters secret_shares,secret_threshold not applicable to seal type pkcs11']);
    });

    it('sys.initialize(recovery_shares=3, recovery_threshold=2): recovery keys, no unseal keys, unsealed at once', async () => {
      const init = ok(await hvac('hsm_recovery', 'initialize'), 'sys.initialize(recovery_shares=3, ...)');
      assert.deepEqual(init.keys, []);
      assert.deepEqual(init.keys_base64, []);
      assert.equal(init.recovery_keys.length, 3);
      assert.equal(init.recovery_keys_base64.length, 3);
      assert.match(init.root_token, /^hvs\./);
      state.keys = init.recovery_keys;
      state.rootToken = init.root_token;
    });

    it('read_seal_status: pkcs11, recovery seal, t/n of the recovery shares', async () => {
      await init();
      const s = await hvac('hsm_recovery', 'seal_status');
      assert.equal(s.type, 'pkcs11');
      assert.equal(s.recovery_seal, true);
      assert.equal(s.sealed, false);
      assert.equal(s.t, 2);
      assert.equal(s.n, 3);
    });

    it('generate_root authorised by recovery keys', async () => {
      await init();
      const r = await hvac('sys_generate_root', 'generate', { keys: state.keys!.slice(0, 2) });
      assert.equal(r.started.required, 2);
      assert.equal(r.steps.at(-1).complete, true);
      assert.deepEqual(r.lookup_policies, ['root']);
    });

    it('rekey-recovery-key: nonce-less cancel_rekey(recovery_key=True) refused, cancel with nonce, then rekey_multi', async () => {
      await init();
      const r = await hvac('hsm_recovery', 'rekey_recovery', { keys: state.keys!.slice(0, 2) });
      assert.equal(r.started.started, true);
      assert.equal(r.started.t, 3);
      assert.equal(r.started.n, 4);
      assert.equal(r.started.required, 2);
      assert.equal(r.progress.nonce, r.started.nonce);
      assertVaultError(r.cancel_without_nonce, 400, undefined, 'cancel_rekey(recovery_key=True) without a nonce');
      assertNoContent(r.cancel_with_nonce, 'DELETE sys/rekey-recovery-key/init {nonce}');
      assert.equal(r.idle.started, false);
      assert.equal(r.done.complete, true);
      assert.equal(r.done.keys.length, 4);
      assert.equal(r.status.t, 3);
      assert.equal(r.status.n, 4);
      state.keys = r.done.keys;
    });

    it('read_backup_keys(recovery_key=True) with no backup: 400 no backed-up keys found', async () => {
      await init();
      assertVaultError(await hvac('hsm_recovery', 'backup_none', { root_token: state.rootToken }), 400, ['no backed-up keys found']);
    });

    it('sys.seal, then submit_unseal_key(s) with recovery keys unseals', async () => {
      await init();
      const r = await hvac('hsm_recovery', 'seal_and_unseal', { root_token: state.rootToken, keys: state.keys!.slice(0, 3) });
      assertNoContent(r.seal);
      assert.equal(r.sealed_status.sealed, true);
      assert.equal(r.first.progress, 1);
      assert.equal(r.last.sealed, false);
      assert.equal(r.is_sealed, false);
    });
  });
});
