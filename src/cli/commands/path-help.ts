/** `tresor path-help PATH`: the server's description of an API path, from its route declarations. */
import { callApi, expectArgs, printJson, println, sanitizePath, type Command } from '../command.ts';
import { UsageError } from '../args.ts';

export const pathHelpCommand: Command = {
  name: ['path-help'],
  synopsis: 'Show the description and fields of an API path',
  help: `Usage: tresor path-help [options] PATH

  Asks the server to describe PATH (any API path below /v1, e.g. a mount's
  path such as secret/data/my-app or sys/mounts): what it is for, its
  fields and their types. Any valid token may ask.

    $ tresor path-help transit/encrypt/my-key`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 1, 1);
    const path = sanitizePath(ctx.args[0]);
    if (path === '') throw new UsageError('A non-empty PATH is required');
    const res = await callApi(`reading help for ${path}`, ctx.client().request<{ help?: string }>('GET', path, { query: { help: '1' } }));
    if (ctx.format === 'json') printJson(ctx, res);
    else println(ctx, res?.help ?? '');
    return 0;
  },
};
