import { TresorError } from '../core/errors.ts';

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
 * The longest duration accepted anywhere (request fields, config): 100
 * years, in seconds. Vault parses durations into Go's time.Duration (int64
 * nanoseconds) and so refuses anything past about 292 years; 100 years stays
 * well inside that, keeps every expiry (now + duration, in ms) a valid Date
 * and every second count a safe integer, and is longer than any real TTL.
 */
export const MAX_DURATION_SECONDS = 100 * 365 * 24 * 3600;
/** How a too-long duration is described in errors. */
export const MAX_DURATION_TEXT = '100 years';

/** Why a duration was refused: not a (non-negative) duration, or longer than MAX_DURATION_SECONDS. */
export type DurationProblem = 'invalid' | 'too long';

/**
 * A refused duration. The message never contains the input (request
 * fields may carry anything); `problem` lets callers word their own.
 */
export class DurationError extends TresorError {
  constructor(readonly problem: DurationProblem) {
    super(400, problem === 'invalid' ? 'invalid duration' : `duration exceeds the maximum of ${MAX_DURATION_TEXT}`);
  }
}

/**
 * Parses a Vault duration into whole seconds (fractions are truncated):
 * a number of seconds (`90`, `"90"`) or Go-style terms with units
 * ns, us/µs, ms, s, m, h and d, combinable and fractional
 * (`"768h"`, `"1h30m"`, `"1.5h"`, `"7d"`). Negative, non-finite and
 * longer-than-MAX_DURATION_SECONDS values are refused with a DurationError (400).
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new DurationError('invalid');
    return Math.floor(boundedSeconds(input));
  }
  const text = input.trim();
  if (/^\d+$/.test(text)) return boundedSeconds(Number(text));
  const seconds = sumDurationTerms(text, UNIT_SECONDS);
  if (seconds === undefined) throw new DurationError('invalid');
  // Round away float noise (0.1h) before truncating to whole seconds.
  return Math.floor(Number(boundedSeconds(seconds).toFixed(6)));
}

/**
 * `seconds` itself when within [0, MAX_DURATION_SECONDS], else a DurationError
 * (a long digit run parses to Infinity: too long, not a crash later).
 */
export function boundedSeconds(seconds: number): number {
  if (Number.isNaN(seconds) || seconds < 0) throw new DurationError('invalid');
  if (seconds > MAX_DURATION_SECONDS) throw new DurationError('too long');
  return seconds;
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
 * or a number of seconds. Refused values throw a DurationError (400), bounded
 * by MAX_DURATION_SECONDS like every other duration.
 */
export function parseDurationMs(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new DurationError('invalid');
    return Math.round(boundedSeconds(input) * 1000);
  }
  const text = input.trim();
  if (/^\d+$/.test(text)) return boundedSeconds(Number(text)) * 1000;
  const ms = sumDurationTerms(text, UNIT_MS);
  if (ms === undefined) throw new DurationError('invalid');
  return Math.round(boundedSeconds(ms / 1000) * 1000);
}
