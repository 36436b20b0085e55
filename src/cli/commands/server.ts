/**
 * `tresor server`: runs the server in this process. The server code is
 * imported only here, so client commands start fast and never load it.
 */
import { UsageError } from '../args.ts';
import type { RunServerOptions } from '../../server.ts';
import type { Command } from '../command.ts';

/** Builds runServer's options from the flags; a non-dev server needs at least one -config. */
export function serverOptions(configPaths: string[], dev: boolean, devRootTokenId?: string, devListenAddress?: string): RunServerOptions {
  if (!dev && configPaths.length === 0) throw new UsageError('At least one -config is required (or use -dev)');
  if (!dev && (devRootTokenId !== undefined || devListenAddress !== undefined)) {
    throw new UsageError('-dev-root-token-id and -dev-listen-address need -dev');
  }
  return { configPaths, dev, devRootTokenId, devListenAddress };
}

export const serverCommand: Command = {
  name: ['server'],
  synopsis: 'Start a Tresor server',
  help: `Usage: tresor server [options]

  Starts a server with the given configuration file(s); -config may repeat
  and later files override earlier ones.

  -dev starts an in-memory, already initialised and unsealed server for
  experiments only: its data is lost on exit and its root token is printed.

    $ tresor server -config=/etc/tresor/server.hcl`,
  local: true,
  flags: {
    config: { kind: 'list', placeholder: 'path', description: 'Server configuration file (HCL or JSON); repeat for several.' },
    dev: { kind: 'bool', description: 'Run an in-memory development server (insecure).' },
    'dev-root-token-id': { kind: 'string', placeholder: 'string', description: 'Root token value for -dev (default: random).' },
    'dev-listen-address': { kind: 'string', placeholder: 'host:port', description: 'Listen address for -dev (default 127.0.0.1:8200).' },
    'log-level': { kind: 'string', placeholder: 'level', description: 'Log level: trace, debug, info, warn or error (env VAULT_LOG_LEVEL; over log_level).' },
    'log-format': { kind: 'string', placeholder: 'format', description: 'Log format: json (default) or standard (env VAULT_LOG_FORMAT; over log_format).' },
  },
  async run(ctx) {
    if (ctx.args.length > 0) throw new UsageError(`Too many arguments (expected 0, got ${ctx.args.length})`);
    const f = ctx.flags;
    const options = { ...serverOptions(f.list('config'), f.bool('dev'), f.string('dev-root-token-id'), f.string('dev-listen-address')), logLevel: f.string('log-level'), logFormat: f.string('log-format') };
    const { runServer } = await import('../../server.ts');
    await runServer(options); // resolves once listening; the server keeps the process alive
    return 0;
  },
};
