import { optionalBool as boolField } from '../../core/tokens/fields.ts';
import { parseTtl } from '../../core/tokens/duration.ts';

/** A boolean field value (true, "true", "1", ...) or undefined when absent; 400 otherwise. */
export function optionalBool(value: unknown, field: string): boolean | undefined {
  return boolField({ [field]: value }, field);
}

/** A Vault duration ("24h", "30m") or integer seconds; 400 naming the field otherwise. */
export function parseDurationField(value: unknown, field: string): number {
  return parseTtl(value, field);
}
