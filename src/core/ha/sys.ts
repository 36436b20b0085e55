import type { Core } from '../core.ts';
import { sysData, type SysPath } from '../sys/request.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** sys/leader's body: this node's HA view (Vault's field names). */
export async function leaderStatus(core: Core): Promise<Record<string, unknown>> {
  const ha = core.ha;
  const base = { performance_standby: false, performance_standby_last_remote_wal: 0 };
  if (!ha) {
    // Vault answers is_self false without HA.
    return { ha_enabled: false, is_self: false, active_time: ZERO_TIME, leader_address: '', leader_cluster_address: '', ...base };
  }
  const active = ha.role === 'active' && !core.sealed;
  const leader = active ? ha.leader() : core.sealed ? undefined : await ha.refreshLeader();
  return {
    ha_enabled: true,
    is_self: active,
    active_time: active ? (ha.activeTime?.toISOString() ?? ZERO_TIME) : ZERO_TIME,
    leader_address: leader?.api_address ?? '',
    leader_cluster_address: leader?.cluster_address ?? '',
    ...base,
  };
}

/** sys/ha-status and sys/step-down with HA on etcd. */
export const haPaths: SysPath[] = [
  {
    pattern: 'ha-status',
    synopsis: 'The nodes of the HA cluster and which one is active.',
    operations: {
      read: async ({ core }) => {
        const ha = core.ha;
        if (!ha) return sysData({ nodes: [] });
        const leader = ha.leader();
        const nodes = (await ha.nodes()).map((n) => ({
          hostname: n.hostname,
          api_address: n.api_address,
          cluster_address: n.cluster_address,
          active_node: leader !== undefined && n.node_id === leader.node_id,
          last_echo: n.node_id === ha.nodeId ? null : (n.last_echo ?? null),
          version: n.version,
          upgrade_version: n.version,
          redundancy_zone: '',
          node_id: n.node_id,
        }));
        nodes.sort((a, b) => Number(b.active_node) - Number(a.active_node) || a.api_address.localeCompare(b.api_address));
        return sysData({ nodes });
      },
    },
  },
  {
    pattern: 'step-down',
    sudo: true,
    synopsis: 'Give up the active role: another node takes over; this one waits before campaigning again.',
    operations: {
      update: async ({ core }) => {
        await core.ha?.stepDown();
        return { status: 204 };
      },
    },
  },
];
