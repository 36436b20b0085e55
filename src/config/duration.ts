import { badRequest } from '../core/errors.ts';

/** The unit suffixes of a Go-style duration term. */
export type DurationUnit = 'ns' | 'us' | 'µs' | 'ms' | 's' | 'm' | 'h' | 'd';

const UNIT_SECONDS: Record<DurationUnit, number> = {
  ns: 1e-9,
  us: 1e-6,
  'µs': 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};
const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/y;

/**
 * Sums the Go-style terms of `text` ("1h30m", "1.5s", "2d"), each amount
 * times its unit's entry in `unitValues` (so the caller picks the result's
 * unit). Undefined when `text` is empty or anything but a run of terms.
 */
export function sumDurationTerms(text: string, unitValues: Record<DurationUnit, number>): number | undefined {
  let total = 0;
  let offset = 0;
  while (offset < text.length) {
    TERM.lastIndex = offset;
    const match = TERM.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * unitValues[match[2] as DurationUnit];
    offset = TERM.lastIndex;
  }
  return offset === 0 ? undefined : total;
}

/**
 * Parses a Vault duration into whole seconds (fractions are truncated):
 * a number of seconds (`90`, `"90"`) or Go-style terms with units
 * ns, us/µs, ms, s, m, h and d, combinable and fractional
 * (`"768h"`, `"1h30m"`, `"1.5h"`, `"7d"`). Negative values are refused.
 * Throws TresorError 400 `invalid duration "<text>"`.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw badRequest(`invalid duration ${input}`);
    return Math.floor(input);
  }
  const text = input.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const seconds = sumDurationTerms(text, UNIT_SECONDS);
  if (seconds === undefined) throw badRequest(`invalid duration ${JSON.stringify(input)}`);
  // Round away float noise (0.1h) before truncating to whole seconds.
  return Math.floor(Number(seconds.toFixed(6)));
}

const UNIT_MS: Record<DurationUnit, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Like {@link parseDuration} but in whole milliseconds, for settings that
 * keep sub-second precision (listener timeouts): `"10s"`, `"500ms"`, `"5m"`,
 * or a number of seconds. Throws TresorError 400 `invalid duration "<text>"`.
 */
export function parseDurationMs(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw badRequest(`invalid duration ${input}`);
    return Math.round(input * 1000);
  }
  const text = input.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const ms = sumDurationTerms(text, UNIT_MS);
  if (ms === undefined || !Number.isSafeInteger(Math.round(ms))) throw badRequest(`invalid duration ${JSON.stringify(input)}`);
  return Math.round(ms);
}
