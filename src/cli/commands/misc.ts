/** `tresor version` and `tresor print token`: local answers, no server needed. */
import fs from 'node:fs';
import { resolveToken } from '../client.ts';
import { expectArgs, println, type Command } from '../command.ts';

/**
 * The server's version and build date, read from the constants in
 * src/core/core.ts rather than by importing it: loading the core takes most
 * of a second, and `tresor version` should answer at once.
 */
export function versionLine(): string {
  const source = fs.readFileSync(new URL('../../core/core.ts', import.meta.url), 'utf8');
  const constant = (name: string) => new RegExp(`export const ${name} = '([^']*)'`).exec(source)?.[1] ?? 'unknown';
  return `Tresor v${constant('VERSION')}, built ${constant('BUILD_DATE')}`;
}

const versionCommand: Command = {
  name: ['version'],
  synopsis: 'Print the Tresor version',
  help: `Usage: tresor version

  Prints the version of this Tresor build (also "tresor -version" or
  "tresor -v"). The server reports the same version in "tresor status".`,
  local: true,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 0);
    println(ctx, versionLine());
    return 0;
  },
};

const printTokenCommand: Command = {
  name: ['print', 'token'],
  synopsis: 'Print the token the CLI would use',
  help: `Usage: tresor print token

  Prints the token later commands send: TRESOR_TOKEN, else VAULT_TOKEN, else
  the one stored by "tresor login". Nothing is printed (exit 2) when there is
  none. Useful with -output-curl-string, which writes "$(tresor print token)".`,
  local: true,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 0);
    const token = resolveToken(ctx.io.env);
    if (!token) {
      ctx.io.stderr('No token: set TRESOR_TOKEN (or VAULT_TOKEN) or run "tresor login"\n');
      return 2;
    }
    println(ctx, token);
    return 0;
  },
};

export const miscCommands: Command[] = [versionCommand, printTokenCommand];
