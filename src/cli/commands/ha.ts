/** `tresor operator step-down` and `tresor operator members` (HA on etcd). */
import { callApi, expectArgs, println, type Command } from '../command.ts';
import { formatColumns } from '../format.ts';
import { printOutput } from '../output.ts';

interface HaNode {
  hostname?: string;
  api_address?: string;
  cluster_address?: string;
  active_node?: boolean;
  last_echo?: string | null;
  version?: string;
  upgrade_version?: string;
  redundancy_zone?: string;
}

const stepDownCommand: Command = {
  name: ['operator', 'step-down'],
  synopsis: 'Force the active node to give up its active role',
  help: `Usage: tresor operator step-down [options]

  Makes the active node of an HA cluster give up the lock: another node takes
  over, and this one waits before it campaigns again. Needs a token with sudo
  on sys/step-down. Sent to a standby, the request is forwarded to the active
  node.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 0);
    await callApi('stepping down', ctx.client().request('PUT', 'sys/step-down'));
    println(ctx, `Success! Stepped down: ${ctx.client().config.address.toString().replace(/\/$/, '')}`);
    return 0;
  },
};

const membersCommand: Command = {
  name: ['operator', 'members'],
  synopsis: 'List the nodes of the HA cluster',
  help: `Usage: tresor operator members [options]

  Lists the nodes of the HA cluster (sys/ha-status): host name, API and
  cluster addresses, which one is active, version, and when each last
  reported in.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 0);
    const res = await callApi('listing members', ctx.client().request<{ data?: { nodes?: HaNode[] }; nodes?: HaNode[] }>('GET', 'sys/ha-status'));
    const nodes = res?.data?.nodes ?? res?.nodes ?? [];
    return printOutput(ctx, { nodes }, () =>
      formatColumns(
        nodes.map((n) => [
          n.hostname ?? '',
          n.api_address ?? '',
          n.cluster_address ?? '',
          String(n.active_node ?? false),
          n.version ?? '',
          n.upgrade_version ?? '',
          n.redundancy_zone ?? '',
          n.last_echo ?? '',
        ]),
        ['Host Name', 'API Address', 'Cluster Address', 'Active Node', 'Version', 'Upgrade Version', 'Redundancy Zone', 'Last Echo'],
      ),
    );
  },
};

export const haCommands: Command[] = [stepDownCommand, membersCommand];
