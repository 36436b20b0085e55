/**
 * `tresor login`: authenticate with a token, or with an auth method
 * (userpass), and keep the token in the token helper file.
 */
import { UsageError } from '../args.ts';
import { callApi, CliError, expectArgs, FIELD_FLAG, println, sanitizePath, type Command, type CommandContext } from '../command.ts';
import { firstLine } from '../io.ts';
import { parseDataArgs, printSecret, type Secret, type SecretAuth } from '../secret.ts';
import { storeToken } from '../token-helper.ts';

/** The `data` of GET /v1/auth/token/lookup-self. */
export interface TokenLookupData {
  accessor?: string;
  policies?: string[] | null;
  identity_policies?: string[] | null;
  ttl?: number;
  renewable?: boolean;
  meta?: Record<string, string> | null;
}

/** A lookup result reshaped as the auth block `login` prints, as Vault does. */
export function authFromLookup(token: string, data: TokenLookupData): SecretAuth {
  const tokenPolicies = data.policies ?? [];
  const identityPolicies = data.identity_policies ?? [];
  return {
    client_token: token,
    accessor: data.accessor ?? '',
    lease_duration: data.ttl ?? 0,
    renewable: Boolean(data.renewable),
    token_policies: tokenPolicies,
    identity_policies: identityPolicies,
    policies: [...new Set([...tokenPolicies, ...identityPolicies])],
    metadata: data.meta ?? null,
  };
}

/** `-method=token`: check the token given (or typed at a hidden prompt) with lookup-self. */
async function tokenLogin(ctx: CommandContext): Promise<SecretAuth> {
  expectArgs(ctx, 0, 1);
  const given = ctx.args[0];
  const raw = given === '-' ? firstLine(await ctx.io.readStdin()) : (given ?? (await ctx.io.promptSecret('Token (will be hidden): ')));
  const token = raw.trim();
  if (token === '') throw new UsageError('A token is required');
  // A check of the token, not an answer to wrap (-wrap-ttl does not apply to login).
  const lookup = await callApi('authenticating', ctx.client().request<Secret>('GET', 'auth/token/lookup-self', { token, noWrap: true }));
  return authFromLookup(token, (lookup?.data ?? {}) as TokenLookupData);
}

/**
 * `-method=userpass username=NAME [password=...]`: logs in at
 * auth/<path>/login/<NAME>; without password= it is read from a hidden
 * prompt (never echoed, never an argument in the process list).
 */
async function userpassLogin(ctx: CommandContext, path: string): Promise<SecretAuth> {
  const data = await parseDataArgs(ctx, ctx.args);
  const username = data.username;
  if (typeof username !== 'string' || username === '') throw new UsageError("'username' must be specified");
  let password = data.password;
  if (password === undefined) password = await ctx.io.promptSecret('Password (will be hidden): ');
  if (typeof password !== 'string') throw new UsageError("'password' must be given once");
  const res = await callApi(
    'authenticating',
    ctx.client().request<Secret>('POST', `auth/${sanitizePath(path)}/login/${encodeURIComponent(username)}`, { body: { password }, token: '' }),
  );
  if (!res?.auth?.client_token) throw new CliError('Error authenticating: the server answered without a token', 2);
  return res.auth;
}

export const loginCommand: Command = {
  name: ['login'],
  synopsis: 'Authenticate locally',
  help: `Usage: tresor login [options] [TOKEN | -]
       tresor login -method=userpass [-path=PATH] username=NAME [password=PASS]

  Authenticates and stores the token in the token helper file
  (~/.tresor-token, or TRESOR_TOKEN_FILE) with mode 0600, so later commands
  use it.

  -method=token (the default) checks TOKEN with the server. Without TOKEN it
  is read from a hidden prompt; "-" reads it from stdin.

  -method=userpass logs in with a username and password at auth/<PATH>
  (default auth/userpass). Without password= the password is read from a
  hidden prompt, which keeps it out of the shell history and process list.`,
  flags: {
    method: { kind: 'string', default: 'token', placeholder: 'token', description: 'Auth method: "token" or "userpass".' },
    path: { kind: 'string', placeholder: 'string', description: 'Where the auth method is mounted, below auth/ (default: the method name).' },
    'no-store': { kind: 'bool', description: 'Authenticate but do not store the token.' },
    ...FIELD_FLAG,
  },
  async run(ctx) {
    const method = ctx.flags.string('method') ?? 'token';
    let auth: SecretAuth;
    if (method === 'token') auth = await tokenLogin(ctx);
    else if (method === 'userpass') auth = await userpassLogin(ctx, ctx.flags.string('path') ?? method);
    else {
      throw new UsageError(
        `Unknown auth method: ${method}. Use "tresor auth list" to see the complete list of auth methods. Additionally, some auth methods are only available via the HTTP API.`,
      );
    }
    const token = auth.client_token ?? '';
    const stored = !ctx.flags.bool('no-store');
    if (stored) storeToken(ctx.io.env, token);

    if (ctx.format === 'table' && !ctx.flags.string('field')) {
      println(
        ctx,
        stored
          ? 'Success! You are now authenticated. The token below is saved in the token helper\nfile and will be used by later commands; there is no need to log in again.\n'
          : 'Success! The token is valid. It was not stored (-no-store).\n',
      );
    }
    return printSecret(ctx, { auth });
  },
};
