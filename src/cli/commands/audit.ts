/** `tresor audit enable|disable|list`: audit devices under /v1/sys/audit. */
import { parseKeyValueList } from '../args.ts';
import { callApi, dropUndefined, ensureTrailingSlash, expectArgs, printJson, println, sanitizePath, type Command } from '../command.ts';
import { formatColumns, formatValue } from '../format.ts';
import { mountsFromResponse } from './secrets.ts';

const enableCommand: Command = {
  name: ['audit', 'enable'],
  synopsis: 'Enable an audit device',
  help: `Usage: tresor audit enable [options] TYPE [CONFIG K=V...]

  Enables an audit device of TYPE (file, socket or syslog) at -path (default:
  the type name). The key=value pairs after TYPE are the device's options.

    $ tresor audit enable file file_path=/var/log/tresor_audit.log
    $ tresor audit enable -path=net socket address=127.0.0.1:9090 socket_type=tcp`,
  flags: {
    path: { kind: 'string', placeholder: 'string', description: 'Where to enable the device (default: TYPE).' },
    description: { kind: 'string', placeholder: 'string', description: 'Human-friendly description of the device.' },
    local: { kind: 'bool', description: 'Mark the device as local (not replicated).' },
  },
  async run(ctx) {
    expectArgs(ctx, 1, Infinity);
    const type = ctx.args[0]!;
    const path = ensureTrailingSlash(ctx.flags.string('path') ?? type);
    const options = parseKeyValueList(ctx.args.slice(1), 'options');
    const body = dropUndefined({
      type,
      description: ctx.flags.string('description'),
      options: Object.keys(options).length ? options : undefined,
      local: ctx.flags.bool('local') || undefined,
    });
    await callApi('enabling audit device', ctx.client().request('PUT', `sys/audit/${sanitizePath(path)}`, { body }));
    println(ctx, `Success! Enabled the ${type} audit device at: ${path}`);
    return 0;
  },
};

const disableCommand: Command = {
  name: ['audit', 'disable'],
  synopsis: 'Disable an audit device',
  help: `Usage: tresor audit disable [options] PATH

  Disables the audit device at PATH. Its salt is deleted: hashes in its old
  log can no longer be reproduced with sys/audit-hash.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 1);
    const path = ensureTrailingSlash(ctx.args[0]!);
    await callApi('disabling audit device', ctx.client().request('DELETE', `sys/audit/${sanitizePath(path)}`));
    println(ctx, `Success! Disabled audit device (if it was enabled) at: ${path}`);
    return 0;
  },
};

const listCommand: Command = {
  name: ['audit', 'list'],
  synopsis: 'List enabled audit devices',
  help: `Usage: tresor audit list [options]

  Lists the enabled audit devices. -detailed adds replication and options.`,
  flags: { detailed: { kind: 'bool', description: 'Show replication and options.' } },
  async run(ctx) {
    expectArgs(ctx, 0);
    const devices = mountsFromResponse(await callApi('listing audit devices', ctx.client().request('GET', 'sys/audit')));
    if (ctx.format !== 'table') {
      printJson(ctx, Object.fromEntries(devices));
      return 0;
    }
    if (devices.length === 0) {
      println(ctx, 'No audit devices are enabled.');
      return 2;
    }
    const detailed = ctx.flags.bool('detailed');
    const header = detailed ? ['Path', 'Type', 'Description', 'Replication', 'Options'] : ['Path', 'Type', 'Description'];
    const rows = devices.map(([path, d]) => {
      const row = [path, d.type ?? '', d.description ?? ''];
      if (detailed) row.push(d.local ? 'local' : 'replicated', formatValue(d.options ?? null));
      return row;
    });
    println(ctx, formatColumns(rows, header));
    return 0;
  },
};

export const auditCommands: Command[] = [enableCommand, disableCommand, listCommand];
