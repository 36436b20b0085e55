/**
 * `tresor` entry point: picks the command from the leading words, parses its
 * flags, runs it, and turns failures into Vault's exit codes.
 */
import { pathToFileURL } from 'node:url';
import { describeFlags, Flags, parseArgs, UsageError } from './args.ts';
import { CliError, makeContext, STANDARD_FLAGS, type Command } from './command.ts';
import { authCommands } from './commands/auth.ts';
import { generateRootCommand } from './commands/generate-root.ts';
import { genericCommands } from './commands/generic.ts';
import { kvCommands } from './commands/kv.ts';
import { loginCommand } from './commands/login.ts';
import { operatorCommands } from './commands/operator.ts';
import { pathHelpCommand } from './commands/path-help.ts';
import { policyCommands } from './commands/policy.ts';
import { rekeyCommand } from './commands/rekey.ts';
import { secretsCommands } from './commands/secrets.ts';
import { serverCommand } from './commands/server.ts';
import { statusCommand } from './commands/status.ts';
import { tokenCommands } from './commands/token.ts';
import { processIO, PromptInterrupted, type CliIO } from './io.ts';

export const COMMANDS: Command[] = [
  statusCommand,
  ...operatorCommands,
  generateRootCommand,
  rekeyCommand,
  ...secretsCommands,
  ...authCommands,
  ...genericCommands,
  pathHelpCommand,
  ...kvCommands,
  loginCommand,
  ...tokenCommands,
  ...policyCommands,
  serverCommand,
];

/** Exit code Vault uses when no (known) command was given. */
const EXIT_NO_COMMAND = 127;

/** Runs one command line (without the program name); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const command = findCommand(argv);
  if (!command) {
    const helpOnly = argv.length > 0 && argv.every((a) => /^--?h(elp)?$/.test(a));
    io.stderr(`${listCommands(knownGroup(argv))}\n`);
    return helpOnly ? 0 : EXIT_NO_COMMAND;
  }
  const spec = command.local ? command.flags : { ...STANDARD_FLAGS, ...command.flags };
  try {
    const parsed = parseArgs(argv.slice(command.name.length), spec);
    if (parsed.help) {
      io.stderr(`${commandHelp(command)}\n`);
      return 0;
    }
    const ctx = makeContext(io, new Flags(parsed.flags, spec), parsed.positionals);
    return await command.run(ctx);
  } catch (err) {
    return reportFailure(io, command, err);
  }
}

function reportFailure(io: CliIO, command: Command, err: unknown): number {
  if (err instanceof UsageError) {
    io.stderr(`${err.message}\n\nRun "tresor ${command.name.join(' ')} -h" for usage.\n`);
    return 1;
  }
  if (err instanceof CliError) {
    io.stderr(`${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof PromptInterrupted) return 130;
  io.stderr(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

/** The command whose full name is the longest prefix of argv. */
function findCommand(argv: string[]): Command | undefined {
  let best: Command | undefined;
  for (const c of COMMANDS) {
    const matches = c.name.every((word, i) => argv[i] === word);
    if (matches && (!best || c.name.length > best.name.length)) best = c;
  }
  return best;
}

/** The longest run of leading words naming a command group (`operator`, `kv metadata`). */
function knownGroup(argv: string[]): string[] {
  const group: string[] = [];
  for (const word of argv) {
    const next = [...group, word];
    if (!COMMANDS.some((c) => c.name.length > next.length && next.every((w, i) => c.name[i] === w))) break;
    group.push(word);
  }
  return group;
}

/** `Usage:` plus one line per command under `prefix`, with its synopsis. */
export function listCommands(prefix: string[]): string {
  const under = COMMANDS.filter((c) => prefix.every((w, i) => c.name[i] === w) && c.name.length > prefix.length);
  const names = under.map((c) => c.name.slice(prefix.length).join(' '));
  const width = Math.max(...names.map((n) => n.length));
  const lines = under.map((c, i) => `    ${names[i]!.padEnd(width)}    ${c.synopsis}`);
  const what = prefix.length ? `tresor ${prefix.join(' ')}` : 'tresor';
  return `Usage: ${what} <command> [args]\n\nCommands:\n${lines.join('\n')}`;
}

/** Full help text for one command: its own text, then its flags, then the standard flags. */
export function commandHelp(command: Command): string {
  const own = Object.keys(command.flags).length ? `\n\nCommand Options:\n\n${describeFlags(command.flags)}` : '';
  const standard = command.local ? '' : `\n\nHTTP and Output Options:\n\n${describeFlags(STANDARD_FLAGS)}`;
  return `${command.help}${own}${standard}`;
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  runCli(process.argv.slice(2), processIO()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
