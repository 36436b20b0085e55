/** `tresor unwrap [TOKEN]`: opens a response-wrapping token, as `vault unwrap` does. */
import { callApi, expectArgs, FIELD_FLAG, println, type Command } from '../command.ts';
import { printField, printSecret, type Secret } from '../secret.ts';
import { printKeys } from './generic.ts';

export const unwrapCommand: Command = {
  name: ['unwrap'],
  synopsis: 'Unwrap a wrapped secret',
  help: `Usage: tresor unwrap [options] [TOKEN]

  Unwraps the answer held by the wrapping token TOKEN and prints it as
  "tresor read" would have printed the unwrapped answer. A wrapping token
  opens only once. Without TOKEN, the token in use (TRESOR_TOKEN or the
  token helper) is itself the wrapping token.

    $ tresor unwrap hvs.CAESIB...
    $ TRESOR_TOKEN=hvs.CAESIB... tresor unwrap`,
  flags: { ...FIELD_FLAG },
  async run(ctx) {
    expectArgs(ctx, 0, 1);
    const given = ctx.args[0]?.trim() || undefined;
    const client = ctx.client();
    // Vault's client: with no token of its own the wrapping token becomes the client token;
    // otherwise it goes in the body (unless it is the client token already).
    let opts: { token?: string; body?: Record<string, unknown> } = {};
    if (given && !client.config.token) opts = { token: given };
    else if (given && given !== client.config.token) opts = { body: { token: given } };
    const res = await callApi('unwrapping', client.request<Secret>('PUT', 'sys/wrapping/unwrap', opts));
    if (!res) {
      if (ctx.format === 'table') println(ctx, 'Successfully unwrapped. There was no data in the wrapped secret.');
      return 0;
    }
    const field = ctx.flags.string('field');
    if (field) return printField(ctx, res, field);
    // A wrapped list prints as a list.
    if (Array.isArray(res.data?.keys)) return printKeys(ctx, 'sys/wrapping/unwrap', res);
    return printSecret(ctx, res);
  },
};
