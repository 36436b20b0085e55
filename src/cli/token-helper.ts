/**
 * The token helper: a one-line file holding the client token, like Vault's
 * default `~/.vault-token`. `login` writes it; every command reads it when
 * no token is set in the environment.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './cli-error.ts';
import { describeFsError } from './fs-errors.ts';

/** `TRESOR_TOKEN_FILE`, else `~/.tresor-token`. */
export function tokenFilePath(env: NodeJS.ProcessEnv): string {
  return env.TRESOR_TOKEN_FILE || path.join(env.HOME || os.homedir(), '.tresor-token');
}

/** The stored token with surrounding whitespace trimmed, or undefined when there is none. */
export function readStoredToken(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const token = fs.readFileSync(tokenFilePath(env), 'utf8').trim();
    return token === '' ? undefined : token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`Error: cannot read the token file ${tokenFilePath(env)}: ${describeFsError(err)}`, 1);
  }
}

/**
 * Stores `token` with mode 0600. The file is written under a temporary name
 * and renamed, so a reader never sees a half-written token and a file that
 * existed with looser permissions is replaced rather than reused.
 */
export function storeToken(env: NodeJS.ProcessEnv, token: string): string {
  const target = tokenFilePath(env);
  const temp = `${target}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, token, { mode: 0o600 });
    fs.chmodSync(temp, 0o600); // a restrictive umask is not guaranteed; force the mode
    fs.renameSync(temp, target);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    const dir = path.dirname(target);
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(dir) ? `the directory ${dir} does not exist` : describeFsError(err);
    throw new CliError(`Error: cannot store the token in ${target}: ${why} (TRESOR_TOKEN_FILE sets where it goes)`, 1);
  }
  return target;
}
