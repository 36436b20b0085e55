/**
 * `tresor` entry point: picks the command from the leading words, parses its
 * flags, runs it, and turns failures into Vault's exit codes.
 */
import { pathToFileURL } from 'node:url';
import { describeFlags, Flags, parseArgs, UsageError } from './args.ts';
import { CurlStringRequest } from './client.ts';
import { CliError, makeContext, STANDARD_FLAGS, type Command } from './command.ts';
import { processIO, PromptInterrupted, type CliIO } from './io.ts';

/**
 * The command modules, by the first word of the commands each one holds. A
 * command line loads only the modules its first word names (`tresor status`
 * reads one small module, not all eighteen): most of a short command's time
 * is Node loading code. Listings, `help` and typo suggestions load them all.
 * cli-habits.test.ts checks this table against the commands themselves.
 */
const operatorModules = [
  async () => (await import('./commands/operator.ts')).operatorCommands,
  async () => [(await import('./commands/generate-root.ts')).generateRootCommand],
  async () => [(await import('./commands/rekey.ts')).rekeyCommand],
  async () => (await import('./commands/ha.ts')).haCommands,
];
const genericModule = async () => (await import('./commands/generic.ts')).genericCommands;
const miscModule = async () => (await import('./commands/misc.ts')).miscCommands;
export const COMMAND_MODULES: Record<string, Array<() => Promise<Command[]>>> = {
  status: [async () => [(await import('./commands/status.ts')).statusCommand]],
  operator: operatorModules,
  secrets: [async () => (await import('./commands/secrets.ts')).secretsCommands],
  auth: [async () => (await import('./commands/auth.ts')).authCommands],
  audit: [async () => (await import('./commands/audit.ts')).auditCommands],
  read: [genericModule],
  write: [genericModule],
  list: [genericModule],
  delete: [genericModule],
  'path-help': [async () => [(await import('./commands/path-help.ts')).pathHelpCommand]],
  unwrap: [async () => [(await import('./commands/unwrap.ts')).unwrapCommand]],
  kv: [async () => (await import('./commands/kv.ts')).kvCommands],
  login: [async () => [(await import('./commands/login.ts')).loginCommand]],
  token: [async () => (await import('./commands/token.ts')).tokenCommands],
  policy: [async () => (await import('./commands/policy.ts')).policyCommands],
  server: [async () => [(await import('./commands/server.ts')).serverCommand]],
  print: [miscModule],
  version: [miscModule],
};

/** The commands whose first word is `word` (none for an unknown word). */
async function commandsFor(word: string | undefined): Promise<Command[]> {
  const loaders = word !== undefined && Object.hasOwn(COMMAND_MODULES, word) ? COMMAND_MODULES[word]! : [];
  const lists = await Promise.all(loaders.map((load) => load()));
  return lists.flat().filter((c) => c.name[0] === word);
}

/** Every command, in the order the listings show them. */
export async function allCommands(): Promise<Command[]> {
  const lists = await Promise.all(Object.keys(COMMAND_MODULES).map((word) => commandsFor(word)));
  return lists.flat();
}

/** Exit code Vault uses when no (known) command was given. */
const EXIT_NO_COMMAND = 127;

/** Runs one command line (without the program name); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  if (VERSION_FLAGS.has(argv[0] ?? '')) argv = ['version'];
  if (argv[0] === 'help') return help(argv.slice(1), io, await allCommands());
  const command = findCommand(argv, await commandsFor(argv[0]));
  if (!command) return noCommand(argv, io, await allCommands());
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
  if (err instanceof CurlStringRequest) {
    io.stdout(`${err.curl}\n`);
    return 0;
  }
  io.stderr(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

const HELP_FLAG = /^--?h(elp)?$/;
/** Vault's spellings of "print the version" in place of a command. */
const VERSION_FLAGS = new Set(['-v', '-version', '--version']);

/**
 * No command matched: a group's listing for `tresor`, `tresor operator` (exit
 * 127, as Vault) or with -h (exit 0); otherwise the word is not a command:
 * say so, suggest the closest one, exit 127.
 */
function noCommand(argv: string[], io: CliIO, commands: Command[]): number {
  const group = knownGroup(argv, commands);
  const rest = argv.slice(group.length);
  if (rest.length === 0 || rest.every((a) => HELP_FLAG.test(a))) {
    io.stderr(`${listCommands(group, commands)}\n`);
    return rest.length === 0 ? EXIT_NO_COMMAND : 0;
  }
  io.stderr(`${unknownCommand([...group, rest[0]!], commands)}\n`);
  return EXIT_NO_COMMAND;
}

/** `tresor help [COMMAND...]`: a command's help or a group's listing, exit 0. */
function help(words: string[], io: CliIO, commands: Command[]): number {
  const command = commands.find((c) => c.name.length === words.length && c.name.every((w, i) => w === words[i]));
  if (command) {
    io.stderr(`${commandHelp(command)}\n`);
    return 0;
  }
  const group = knownGroup(words, commands);
  if (group.length < words.length) {
    io.stderr(`${unknownCommand(words.slice(0, group.length + 1), commands)}\n`);
    return EXIT_NO_COMMAND;
  }
  io.stderr(`${listCommands(group, commands)}\n`);
  return 0;
}

/** `Unknown command "stauts"`, with the nearest command's name when one is close. */
export function unknownCommand(words: string[], commands: Command[]): string {
  const typed = words.join(' ');
  const names = [...new Set(commands.flatMap((c) => c.name.map((_, i) => c.name.slice(0, i + 1).join(' '))))].filter(
    (n) => n.split(' ').length === words.length,
  );
  names.push('help', 'version');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = editDistance(typed, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  const close = best !== undefined && bestDistance <= Math.max(2, Math.floor(words.at(-1)!.length / 3));
  const hint = close ? ` Did you mean "${best}"?` : '';
  return `Unknown command "${typed}".${hint}\n\nRun "tresor help" to list the commands.`;
}

/** Levenshtein distance (adjacent swaps count as one edit, as typos do). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The command whose full name is the longest prefix of argv. */
function findCommand(argv: string[], commands: Command[]): Command | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    const matches = c.name.every((word, i) => argv[i] === word);
    if (matches && (!best || c.name.length > best.name.length)) best = c;
  }
  return best;
}

/** The longest run of leading words naming a command group (`operator`, `kv metadata`). */
function knownGroup(argv: string[], commands: Command[]): string[] {
  const group: string[] = [];
  for (const word of argv) {
    const next = [...group, word];
    if (!commands.some((c) => c.name.length > next.length && next.every((w, i) => c.name[i] === w))) break;
    group.push(word);
  }
  return group;
}

/** `Usage:` plus one line per command under `prefix`, with its synopsis. */
export function listCommands(prefix: string[], commands: Command[]): string {
  const under = commands.filter((c) => prefix.every((w, i) => c.name[i] === w) && c.name.length > prefix.length);
  const names = under.map((c) => c.name.slice(prefix.length).join(' '));
  const width = Math.max(...names.map((n) => n.length));
  const lines = under.map((c, i) => `    ${names[i]!.padEnd(width)}    ${c.synopsis}`);
  const what = prefix.length ? `tresor ${prefix.join(' ')}` : 'tresor';
  return `Usage: ${what} <command> [args]\n\nCommands:\n${lines.join('\n')}`;
}

/** Full help text for one command: its own text, then its flags, then the standard flags. */
export function commandHelp(command: Command): string {
  const own = Object.keys(command.flags).length ? `\n\nCommand Options:\n\n${describeFlags(command.flags)}` : '';
  // A command's own definition of a standard flag replaces the standard one.
  const shared = Object.fromEntries(Object.entries(STANDARD_FLAGS).filter(([name]) => !(name in command.flags)));
  const standard = command.local ? '' : `\n\nHTTP and Output Options:\n\n${describeFlags(shared)}`;
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
