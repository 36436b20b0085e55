/** `tresor version` and `tresor print token`: local answers, no server needed. */
import { BUILD_DATE, VERSION } from '../../version.ts';
import { resolveToken } from '../client.ts';
import { expectArgs, println, type Command } from '../command.ts';

/** The version and build date, from src/version.ts (not the core, whose loading `tresor version` need not pay). */
export function versionLine(): string {
  return `Tresor v${VERSION}, built ${BUILD_DATE}`;
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
