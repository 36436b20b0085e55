/** `tresor policy write|read|list|delete|fmt`: ACL policies under /v1/sys/policies/acl. */
import fs from 'node:fs';
import { UsageError } from '../args.ts';
import { callApi, CliError, expectArgs, printJson, println, type Command, type CommandContext } from '../command.ts';
import { listKeys, notFound, printKeys } from './generic.ts';

const POLICIES = 'sys/policies/acl';

/** The API path of the policy `name`. */
function policyPath(name: string): string {
  return `${POLICIES}/${encodeURIComponent(name)}`;
}

function policyName(ctx: CommandContext): string {
  const name = (ctx.args[0] ?? '').trim().toLowerCase();
  if (name === '' || name.includes('/')) throw new UsageError('A policy NAME (without "/") is required');
  return name;
}

/** The policy text from FILE, or stdin when FILE is "-". */
async function readPolicySource(ctx: CommandContext, file: string): Promise<string> {
  if (file === '-') return ctx.io.readStdin();
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`could not read policy file "${file}": ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
}

const writeCommand: Command = {
  name: ['policy', 'write'],
  synopsis: 'Upload an ACL policy',
  help: `Usage: tresor policy write [options] NAME FILE | -

  Creates or replaces the ACL policy NAME with the HCL or JSON rules in FILE
  ("-" reads them from stdin).`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 2);
    const name = policyName(ctx);
    const policy = await readPolicySource(ctx, ctx.args[1]!);
    await callApi('uploading policy', ctx.client().request('PUT', policyPath(name), { body: { policy } }));
    println(ctx, `Success! Uploaded policy: ${name}`);
    return 0;
  },
};

const readCommand: Command = {
  name: ['policy', 'read'],
  synopsis: 'Print an ACL policy',
  help: `Usage: tresor policy read [options] NAME

  Prints the rules of the ACL policy NAME.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 1);
    const name = policyName(ctx);
    const path = policyPath(name);
    const res = await callApi(`reading policy ${name}`, ctx.client().request<{ data?: { policy?: string } }>('GET', path, { allowNotFound: true }));
    if (!res) return notFound(ctx, path);
    if (ctx.format !== 'table') printJson(ctx, res);
    else println(ctx, (res.data?.policy ?? '').replace(/\n+$/, ''));
    return 0;
  },
};

const listCommand: Command = {
  name: ['policy', 'list'],
  synopsis: 'List ACL policies',
  help: `Usage: tresor policy list [options]

  Lists the names of all ACL policies.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 0);
    const res = await callApi('listing policies', ctx.client().list(POLICIES));
    if (ctx.format !== 'table') return printKeys(ctx, POLICIES, res);
    // Vault prints policy names one per line, without a header.
    println(ctx, listKeys(res).join('\n'));
    return 0;
  },
};

const deleteCommand: Command = {
  name: ['policy', 'delete'],
  synopsis: 'Delete an ACL policy',
  help: `Usage: tresor policy delete [options] NAME

  Deletes the ACL policy NAME. Tokens that carry it lose its permissions.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 1);
    const name = policyName(ctx);
    await callApi('deleting policy', ctx.client().request('DELETE', policyPath(name)));
    println(ctx, `Success! Deleted policy: ${name}`);
    return 0;
  },
};

const fmtCommand: Command = {
  name: ['policy', 'fmt'],
  synopsis: 'Format an ACL policy file in place',
  help: `Usage: tresor policy fmt [options] FILE

  Checks the policy in FILE and rewrites it in canonical form (HCL with
  two-space indentation and aligned "=", or indented JSON). Works offline.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 1);
    const file = ctx.args[0]!;
    if (file === '-') throw new UsageError('policy fmt needs a FILE to rewrite, not stdin');
    const source = await readPolicySource(ctx, file);
    // Loaded here only: no other client command needs the policy parser.
    const { formatPolicy } = await import('../../core/acl/format.ts');
    let formatted: string;
    try {
      formatted = formatPolicy(source);
    } catch (err) {
      throw new CliError(`Failed to parse policy: ${err instanceof Error ? err.message : String(err)}`, 1);
    }
    fs.writeFileSync(file, formatted);
    println(ctx, `Success! Formatted policy: ${file}`);
    return 0;
  },
};

export const policyCommands: Command[] = [writeCommand, readCommand, listCommand, deleteCommand, fmtCommand];
