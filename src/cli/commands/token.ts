/** `tresor token create|lookup|renew|revoke|capabilities` against auth/token/ and sys/capabilities. */
import { parseKeyValueList, UsageError } from '../args.ts';
import { callApi, dropUndefined, expectArgs, FIELD_FLAG, printJson, println, type Command } from '../command.ts';
import { printSecret, type Secret } from '../secret.ts';

const createCommand: Command = {
  name: ['token', 'create'],
  synopsis: 'Create a new token',
  help: `Usage: tresor token create [options]

  Creates a token as a child of the calling token (or an orphan with
  -orphan). With -role, the token role's rules apply
  (auth/token/create/ROLE). Durations accept "30m", "24h" or seconds.

    $ tresor token create -policy=dev -ttl=1h
    $ tresor token create -role=ci -type=batch`,
  flags: {
    id: { kind: 'string', placeholder: 'string', description: 'Token value to use instead of a random one (root only).' },
    policy: { kind: 'list', placeholder: 'name', description: 'Policy to attach; repeat for several.' },
    ttl: { kind: 'string', placeholder: 'duration', description: 'Initial TTL.' },
    'explicit-max-ttl': { kind: 'string', placeholder: 'duration', description: 'Hard limit beyond which the token cannot be renewed.' },
    period: { kind: 'string', placeholder: 'duration', description: 'Make a periodic token renewed by this much each time.' },
    'num-uses': { kind: 'int', description: 'Number of uses before the token is revoked (0: unlimited).' },
    renewable: { kind: 'bool', default: true, description: 'Allow the token to be renewed.' },
    orphan: { kind: 'bool', description: 'Create the token with no parent.' },
    'display-name': { kind: 'string', placeholder: 'string', description: 'Name shown in audit logs and lookups.' },
    metadata: { kind: 'list', placeholder: 'key=value', description: 'Metadata entry; repeat for several.' },
    type: { kind: 'string', placeholder: 'service|batch', description: 'Token type.' },
    role: { kind: 'string', placeholder: 'name', description: 'Create the token against this token role.' },
    'entity-alias': { kind: 'string', placeholder: 'name', description: 'With -role: tie the token to the entity of this alias (one the role allows).' },
    'no-default-policy': { kind: 'bool', description: 'Do not attach the default policy.' },
    ...FIELD_FLAG,
  },
  async run(ctx) {
    expectArgs(ctx, 0);
    const f = ctx.flags;
    const metadata = parseKeyValueList(f.list('metadata'), 'metadata');
    const policies = f.list('policy');
    const body = dropUndefined({
      id: f.string('id'),
      policies: policies.length ? policies : undefined,
      ttl: f.string('ttl'),
      explicit_max_ttl: f.string('explicit-max-ttl'),
      period: f.string('period'),
      num_uses: f.int('num-uses'),
      renewable: f.bool('renewable'),
      display_name: f.string('display-name'),
      meta: Object.keys(metadata).length ? metadata : undefined,
      type: f.string('type'),
      entity_alias: f.string('entity-alias'),
      no_default_policy: f.bool('no-default-policy') || undefined,
    });
    const role = f.string('role');
    // As Vault's CLI: a role wins over -orphan (the role says whether its tokens are orphans).
    const path = role ? `auth/token/create/${encodeURIComponent(role)}` : f.bool('orphan') ? 'auth/token/create-orphan' : 'auth/token/create';
    const res = await callApi('creating token', ctx.client().request<Secret>('POST', path, { body }));
    return printSecret(ctx, res ?? {});
  },
};

const lookupCommand: Command = {
  name: ['token', 'lookup'],
  synopsis: 'Show information about a token',
  help: `Usage: tresor token lookup [options] [TOKEN | ACCESSOR]

  Shows a token's policies, TTL and metadata. Without TOKEN (or with
  -self), looks up the token in use. With -accessor the argument is an
  accessor.`,
  flags: {
    self: { kind: 'bool', description: 'Look up the token in use (the default without TOKEN).' },
    accessor: { kind: 'bool', description: 'Treat the argument as a token accessor.' },
    ...FIELD_FLAG,
  },
  async run(ctx) {
    expectArgs(ctx, 0, 1);
    const arg = ctx.args[0];
    const client = ctx.client();
    let call: Promise<Secret | null>;
    if (ctx.flags.bool('self')) {
      if (arg !== undefined || ctx.flags.bool('accessor')) throw new UsageError('-self takes no TOKEN and cannot be combined with -accessor');
      call = client.request<Secret>('GET', 'auth/token/lookup-self');
    } else if (ctx.flags.bool('accessor')) {
      if (!arg) throw new UsageError('-accessor needs the ACCESSOR argument');
      call = client.request<Secret>('POST', 'auth/token/lookup-accessor', { body: { accessor: arg } });
    } else if (arg) {
      call = client.request<Secret>('POST', 'auth/token/lookup', { body: { token: arg } });
    } else {
      call = client.request<Secret>('GET', 'auth/token/lookup-self');
    }
    return printSecret(ctx, (await callApi('looking up token', call)) ?? {});
  },
};

const renewCommand: Command = {
  name: ['token', 'renew'],
  synopsis: 'Renew a token\'s lease',
  help: `Usage: tresor token renew [options] [TOKEN]

  Extends a token's TTL (by -increment when given). Without TOKEN (or with
  -self), renews the token in use.`,
  flags: {
    self: { kind: 'bool', description: 'Renew the token in use (the default without TOKEN).' },
    increment: { kind: 'string', placeholder: 'duration', description: 'Requested extension, e.g. "1h".' },
    ...FIELD_FLAG,
  },
  async run(ctx) {
    expectArgs(ctx, 0, 1);
    const token = ctx.args[0];
    if (ctx.flags.bool('self') && token !== undefined) throw new UsageError('-self takes no TOKEN');
    const increment = ctx.flags.string('increment');
    const path = token ? 'auth/token/renew' : 'auth/token/renew-self';
    const body = dropUndefined({ token, increment });
    const res = await callApi('renewing token', ctx.client().request<Secret>('PUT', path, { body }));
    return printSecret(ctx, res ?? {});
  },
};

const revokeCommand: Command = {
  name: ['token', 'revoke'],
  synopsis: 'Revoke a token',
  help: `Usage: tresor token revoke [options] [TOKEN | ACCESSOR]

  Revokes a token and, unless -mode=orphan, all its children. -self revokes
  the token in use; -accessor takes an accessor instead of a token.`,
  flags: {
    self: { kind: 'bool', description: 'Revoke the token in use.' },
    accessor: { kind: 'bool', description: 'Treat the argument as a token accessor.' },
    mode: { kind: 'string', placeholder: 'orphan', description: 'Set to "orphan" to keep the children (they become orphans).' },
  },
  async run(ctx) {
    const f = ctx.flags;
    const mode = f.string('mode') ?? '';
    if (mode !== '' && mode !== 'orphan') throw new UsageError('-mode must be "orphan" (or omitted)');
    const client = ctx.client();
    let call: Promise<unknown>;
    if (f.bool('self')) {
      expectArgs(ctx, 0);
      if (f.bool('accessor') || mode) throw new UsageError('-self cannot be combined with -accessor or -mode');
      call = client.request('PUT', 'auth/token/revoke-self');
    } else {
      expectArgs(ctx, 1);
      const arg = ctx.args[0]!;
      if (f.bool('accessor')) {
        if (mode) throw new UsageError('-accessor cannot be combined with -mode');
        call = client.request('PUT', 'auth/token/revoke-accessor', { body: { accessor: arg } });
      } else {
        call = client.request('PUT', mode === 'orphan' ? 'auth/token/revoke-orphan' : 'auth/token/revoke', { body: { token: arg } });
      }
    }
    await callApi('revoking token', call);
    println(ctx, 'Success! Revoked token (if it existed)');
    return 0;
  },
};

/**
 * The capability list for `path` from a sys/capabilities(-self) answer,
 * which keys it by path (and, for one path, also as `capabilities`).
 */
export function capabilitiesFor(res: Record<string, unknown> | null, path: string): string[] {
  const source = (res?.data as Record<string, unknown> | undefined) ?? res ?? {};
  const caps = source[path] ?? source.capabilities;
  return Array.isArray(caps) ? caps.map(String).sort() : [];
}

const capabilitiesCommand: Command = {
  name: ['token', 'capabilities'],
  synopsis: 'Show what a token may do on a path',
  help: `Usage: tresor token capabilities [options] [TOKEN] PATH

  Prints the capabilities (read, create, ...) a token has on PATH; without
  TOKEN, those of the token in use.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 1, 2);
    const [token, path] = ctx.args.length === 2 ? [ctx.args[0], ctx.args[1]!] : [undefined, ctx.args[0]!];
    const request = token
      ? ctx.client().request('POST', 'sys/capabilities', { body: { token, paths: [path] } })
      : ctx.client().request('POST', 'sys/capabilities-self', { body: { paths: [path] } });
    const caps = capabilitiesFor(await callApi('listing capabilities', request), path);
    if (ctx.format !== 'table') printJson(ctx, caps);
    else println(ctx, caps.join(', '));
    return 0;
  },
};

export const tokenCommands: Command[] = [createCommand, lookupCommand, renewCommand, revokeCommand, capabilitiesCommand];
