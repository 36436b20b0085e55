/** `tresor login`: check a token with the server and keep it in the token helper file. */
import { UsageError } from '../args.ts';
import { callApi, expectArgs, FIELD_FLAG, println, type Command } from '../command.ts';
import { firstLine } from '../io.ts';
import { printSecret, type Secret, type SecretAuth } from '../secret.ts';
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

export const loginCommand: Command = {
  name: ['login'],
  synopsis: 'Authenticate with a token',
  help: `Usage: tresor login [options] [TOKEN | -]

  Checks TOKEN with the server and stores it in the token helper file
  (~/.tresor-token, or TRESOR_TOKEN_FILE) with mode 0600, so later commands
  use it. Without TOKEN it is read from a hidden prompt; "-" reads it from
  stdin. Only the token method is supported.`,
  flags: {
    method: { kind: 'string', default: 'token', placeholder: 'token', description: 'Auth method; only "token" is supported.' },
    'no-store': { kind: 'bool', description: 'Check the token but do not store it.' },
    ...FIELD_FLAG,
  },
  async run(ctx) {
    expectArgs(ctx, 0, 1);
    if (ctx.flags.string('method') !== 'token') throw new UsageError('only -method=token is supported');
    const given = ctx.args[0];
    const raw = given === '-' ? firstLine(await ctx.io.readStdin()) : (given ?? (await ctx.io.promptSecret('Token (will be hidden): ')));
    const token = raw.trim();
    if (token === '') throw new UsageError('A token is required');

    // A check of the token, not an answer to wrap (-wrap-ttl does not apply to login).
    const lookup = await callApi('authenticating', ctx.client().request<Secret>('GET', 'auth/token/lookup-self', { token, noWrap: true }));
    const auth = authFromLookup(token, (lookup?.data ?? {}) as TokenLookupData);
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
