import { SOFTHSM_LIB, type SoftHsmToken } from './softhsm.ts';
import { TestServer, type ApiResponse } from './server.ts';
import type { TestEtcd } from './etcd.ts';

export interface HaNodeOptions {
  /** Extra top-level HCL (e.g. disable_forwarding = true). */
  extra?: string;
  /** Default "tresor-root"; another label gives a node the wrong seal key. */
  keyLabel?: string;
  generateKey?: boolean;
  path?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * One Tresor node of an HA cluster: etcd storage with ha_enabled, the
 * SoftHSM2 seal on the shared `token`, api_addr = its own listener.
 */
export function startHaNode(etcd: TestEtcd, token: SoftHsmToken, o: HaNodeOptions = {}): Promise<TestServer> {
  const config = `
storage "etcd" {
  address      = "${etcd.address}"
  path         = "${o.path ?? '/tresor-ha/'}"
  ha_enabled   = "true"
  lock_timeout = "2s"
  request_timeout = "2s"
}
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
}
api_addr     = "http://127.0.0.1:{{PORT}}"
cluster_addr = "http://127.0.0.1:{{PORT}}"
${o.extra ?? ''}
seal "pkcs11" {
  lib            = "${SOFTHSM_LIB}"
  token_label    = "${token.label}"
  key_label      = "${o.keyLabel ?? 'tresor-root'}"
  hmac_key_label = "tresor-hmac"
  generate_key   = "${o.generateKey ?? true}"
}
`;
  return TestServer.start({
    config,
    env: { ...token.env, VAULT_HSM_PIN: token.pin, TRESOR_HA_STEP_DOWN_WAIT_MS: '3000', ...o.env },
  });
}

export async function leaderOf(node: TestServer): Promise<ApiResponse> {
  return node.api.get('sys/leader');
}

/** Polls the nodes until exactly one says is_self; returns it (and when it was seen). */
export async function waitForActive(nodes: TestServer[], timeoutMs = 15_000, exclude?: TestServer): Promise<TestServer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(
      nodes.map(async (n) => {
        if (n.exitCode !== undefined || n === exclude) return false;
        const res = await n.api.get('sys/leader').catch(() => undefined);
        const health = res?.body?.is_self ? await n.api.get('sys/health').catch(() => undefined) : undefined;
        return res?.status === 200 && res.body.is_self === true && health?.status === 200;
      }),
    );
    const active = nodes.filter((_, i) => views[i]);
    if (active.length === 1) return active[0];
    if (active.length > 1) throw new Error(`split brain: ${active.length} nodes report is_self`);
    if (Date.now() > deadline) throw new Error('no active node within the timeout');
    await new Promise((r) => setTimeout(r, 50));
  }
}
