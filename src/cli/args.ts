/**
 * Flag parsing with Go's `flag` package conventions, which Vault's CLI uses:
 * `-name=value`, `-name value`, `--name`, bare booleans (`-f`, `-f=false`),
 * and parsing stops at the first positional argument (or after `--`), so
 * flags must come before positionals. A lone `-` is a positional (stdin).
 */

export type FlagKind = 'string' | 'bool' | 'int' | 'list';

export interface FlagDef {
  kind: FlagKind;
  description: string;
  /** Shown in help; `list` flags repeat (`-policy=a -policy=b`) and also split on commas when `commaList` is set. */
  placeholder?: string;
  commaList?: boolean;
  default?: string | number | boolean;
}

export type FlagSpec = Record<string, FlagDef>;

export type FlagValue = string | number | boolean | string[];

export interface ParsedArgs {
  flags: Map<string, FlagValue>;
  positionals: string[];
  /** True when `-h`, `-help` or `--help` was given. */
  help: boolean;
}

/** A local mistake by the user (bad flag, wrong argument count): Vault exits 1 for these. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const HELP_FLAGS = new Set(['h', 'help']);
const TRUE_WORDS = new Set(['1', 't', 'true', 'TRUE', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'false', 'FALSE', 'False']);

/**
 * Parses `argv` against `spec`. Unknown flags and malformed values raise a
 * UsageError that names the flag but never echoes its value (it may be a secret).
 */
export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags = new Map<string, FlagValue>();
  let help = false;
  let index = 0;
  for (; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') {
      index++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;

    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : body.slice(eq + 1);
    if (name === '' || name.startsWith('-')) throw new UsageError(`bad flag syntax: ${arg.split('=')[0]}`);

    if (HELP_FLAGS.has(name) && !spec[name]) {
      help = true;
      continue;
    }
    const def = spec[name];
    if (!def) throw new UsageError(`flag provided but not defined: -${name}`);

    if (def.kind === 'bool') {
      flags.set(name, parseBool(name, value ?? 'true'));
      continue;
    }
    if (value === undefined) {
      index++;
      if (index >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = argv[index]!;
    }
    flags.set(name, convert(name, def, value, flags.get(name)));
  }
  return { flags, positionals: argv.slice(index), help };
}

function parseBool(name: string, raw: string): boolean {
  if (TRUE_WORDS.has(raw)) return true;
  if (FALSE_WORDS.has(raw)) return false;
  throw new UsageError(`invalid boolean value for flag -${name}`);
}

function convert(name: string, def: FlagDef, raw: string, previous: FlagValue | undefined): FlagValue {
  switch (def.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`invalid integer value for flag -${name}`);
      return Number.parseInt(raw, 10);
    }
    case 'list': {
      const items = def.commaList ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : [raw];
      return [...((previous as string[] | undefined) ?? []), ...items];
    }
    default:
      return raw;
  }
}

/**
 * `k=v` strings (from repeatable flags like `-options=version=2`) to an
 * object. The value may itself contain `=`.
 */
export function parseKeyValueList(items: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`-${flag} values must look like key=value`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Typed accessors so commands do not cast at every use. */
export class Flags {
  constructor(
    private readonly values: Map<string, FlagValue>,
    private readonly spec: FlagSpec,
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    const v = this.values.get(name) ?? this.spec[name]?.default;
    return v === undefined ? undefined : String(v);
  }

  bool(name: string): boolean {
    return Boolean(this.values.get(name) ?? this.spec[name]?.default ?? false);
  }

  int(name: string): number | undefined {
    const v = this.values.get(name) ?? this.spec[name]?.default;
    return v === undefined ? undefined : Number(v);
  }

  list(name: string): string[] {
    return (this.values.get(name) as string[] | undefined) ?? [];
  }
}

/** Renders the flag section of a help text, one flag per paragraph, sorted by name. */
export function describeFlags(spec: FlagSpec): string {
  return Object.keys(spec)
    .sort()
    .map((name) => {
      const def = spec[name]!;
      const head = def.kind === 'bool' ? `  -${name}` : `  -${name}=<${def.placeholder ?? def.kind}>`;
      const dflt = def.default !== undefined && def.default !== '' ? ` The default is ${String(def.default)}.` : '';
      return `${head}\n      ${def.description}${dflt}`;
    })
    .join('\n\n');
}
