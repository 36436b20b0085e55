/**
 * How a command prints what it got: a table (its own layout), JSON or YAML
 * (`-format`, `TRESOR_FORMAT`/`VAULT_FORMAT`), or one field raw (`-field`),
 * as Vault's CLI does.
 */
import { CliError } from './cli-error.ts';
import type { CommandContext } from './command.ts';
import { formatJson, formatValue, formatYaml } from './format.ts';

/** `value` in the structured format asked for (JSON or YAML). */
export function formatStructured(ctx: CommandContext, value: unknown): string {
  return ctx.format === 'yaml' ? formatYaml(value) : formatJson(value);
}

/**
 * One field's value as `-field` prints it: a string raw, anything else as
 * Go's `%v`, or in JSON/YAML when one of those was asked for. A missing (or
 * null) field is Vault's `Field "x" not present in secret`, exit 1.
 */
export function printFieldValue(ctx: CommandContext, field: string, value: unknown): number {
  if (value === undefined || value === null) throw new CliError(`Field "${field}" not present in secret`, 1);
  if (ctx.format === 'table') ctx.io.stdout(`${typeof value === 'string' ? value : formatValue(value)}\n`);
  else ctx.io.stdout(`${formatStructured(ctx, value)}\n`);
  return 0;
}

/**
 * Prints `value`: `-field` picks one of its keys (from `fields`, when the
 * names differ from the JSON's), JSON/YAML print it whole, and the table
 * format prints what `table` returns.
 */
export function printOutput(ctx: CommandContext, value: unknown, table: () => string, fields?: Record<string, unknown>): number {
  const field = ctx.flags.string('field');
  if (field) return printFieldValue(ctx, field, (fields ?? (value as Record<string, unknown> | null) ?? {})[field]);
  ctx.io.stdout(`${ctx.format === 'table' ? table() : formatStructured(ctx, value)}\n`);
  return 0;
}
