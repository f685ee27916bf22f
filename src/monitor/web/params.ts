/**
 * Parameter parsing with Prometheus's rules and messages: times as Unix seconds (a float) or RFC 3339,
 * durations as seconds or Prometheus durations, limits as non-negative integers.
 */
import { parseDurationMs } from '../config/units.ts';
import { ApiError, invalidParameter } from './errors.ts';
import type { FormValues } from './request.ts';

/**
 * The earliest and latest times the API handles, in milliseconds: JavaScript's Date range (±10^8 days), so
 * every time is an exact integer and prints as RFC 3339. Prometheus's own bounds (about ±292 million
 * years) are not exact in a double; times beyond ours are clamped, which selects the same data.
 */
export const timeMsMin = -8_640_000_000_000_000;
export const timeMsMax = 8_640_000_000_000_000;

/** Prometheus's minTime and maxTime as client_golang sends them for "no bound". */
const prometheusMinTimeText = '-292273086-05-16T16:47:06Z';
const prometheusMaxTimeText = '292277025-08-18T07:12:54.999999999Z';

/** Longest time or duration parameter accepted; real ones are under 40 characters. */
export const timeParameterCharactersMax = 64;

const decimalPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const rfc3339Pattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses a time as Prometheus's parseTime: a Unix time in seconds (fractions rounded to the millisecond)
 * or an RFC 3339 time (nanoseconds truncated to the millisecond). Returns milliseconds.
 *
 * @example
 * parseTime('1700000000.5'); // 1700000000500
 * parseTime('2023-11-14T22:13:20Z'); // 1700000000000
 */
export function parseTime(text: string): number {
  if (text.length <= timeParameterCharactersMax) {
    if (decimalPattern.test(text)) return clampTime(secondsToMs(Number(text)));
    const parsed = parseRfc3339(text);
    if (parsed !== undefined) return clampTime(parsed);
    if (text === prometheusMinTimeText) return timeMsMin;
    if (text === prometheusMaxTimeText) return timeMsMax;
  }
  throw new RangeError(`cannot parse ${goQuote(text)} to a valid timestamp`);
}

/**
 * A time parameter, or `defaultMs` when absent or empty. Errors read as Prometheus's:
 * `invalid parameter "start": Invalid time value for 'start': cannot parse "x" to a valid timestamp`.
 */
export function parseTimeParameter(form: FormValues, name: string, defaultMs: number): number {
  const text = form.get(name);
  if (text === '') return defaultMs;
  try {
    return parseTime(text);
  } catch (error) {
    throw invalidParameter(name, `Invalid time value for '${name}': ${(error as Error).message}`);
  }
}

/**
 * Parses a duration as Prometheus's parseDuration: seconds as a float, or a Prometheus duration (`5m`).
 * Returns milliseconds (seconds are rounded to the millisecond).
 *
 * @example
 * parseDuration('15'); // 15000
 * parseDuration('1m30s'); // 90000
 */
export function parseDuration(text: string): number {
  if (text.length <= timeParameterCharactersMax && decimalPattern.test(text)) {
    const milliseconds = Math.round(Number(text) * 1000);
    if (Math.abs(milliseconds) > durationMsLimit) throw new RangeError(`cannot parse ${goQuote(text)} to a valid duration. It overflows int64`);
    return milliseconds;
  }
  try {
    return parseDurationMs(text);
  } catch {
    throw new RangeError(`cannot parse ${goQuote(text)} to a valid duration`);
  }
}

/** Go's time.Duration holds ±2^63 nanoseconds. */
const durationMsLimit = 9_223_372_036_854;

/** A duration parameter as Prometheus reports it: `invalid parameter "step": cannot parse ...`. */
export function parseDurationParameter(form: FormValues, name: string): number {
  try {
    return parseDuration(form.get(name));
  } catch (error) {
    throw invalidParameter(name, (error as Error).message);
  }
}

/**
 * The `limit` parameter of newer Prometheus releases: absent or 0 means no limit (undefined), otherwise a
 * positive integer.
 */
export function parseLimitParameter(form: FormValues): number | undefined {
  const text = form.get('limit');
  if (text === '') return undefined;
  if (!/^[+-]?\d{1,15}$/.test(text)) throw invalidParameter('limit', `cannot parse ${goQuote(text)} to a valid limit`);
  const limit = Number(text);
  if (limit < 0) throw invalidParameter('limit', 'limit must be non-negative');
  return limit === 0 ? undefined : limit;
}

/**
 * An integer count parameter as Prometheus's metadata endpoint reads it (`strconv.Atoi`); a negative value
 * means no limit. `message` is Prometheus's wording for a value that is not a number.
 */
export function parseCountParameter(form: FormValues, name: string, message: string): number {
  const text = form.get(name);
  if (text === '') return -1;
  if (!/^[+-]?\d{1,15}$/.test(text)) throw new ApiError('bad_data', message);
  return Number(text);
}

/**
 * Formats milliseconds as RFC 3339 in UTC with the fewest fractional digits, as Go's RFC3339Nano.
 *
 * @example
 * formatRfc3339(1700000000500); // '2023-11-14T22:13:20.5Z'
 */
export function formatRfc3339(timeMs: number): string {
  const iso = new Date(timeMs).toISOString();
  return iso.replace(/\.(\d{3})Z$/, (_, fraction: string) => {
    const trimmed = fraction.replace(/0+$/, '');
    return trimmed === '' ? 'Z' : `.${trimmed}Z`;
  });
}

/** Go's zero time, which Prometheus prints for "never" (a target not scraped yet). */
export const goZeroTimeText = '0001-01-01T00:00:00Z';

function secondsToMs(seconds: number): number {
  if (!Number.isFinite(seconds)) return seconds > 0 ? timeMsMax : timeMsMin;
  const whole = Math.trunc(seconds);
  // As Prometheus: the fraction is rounded to the millisecond on its own, so large times stay exact.
  return whole * 1000 + Math.round((seconds - whole) * 1000);
}

function clampTime(timeMs: number): number {
  return Math.min(timeMsMax, Math.max(timeMsMin, timeMs));
}

function parseRfc3339(text: string): number | undefined {
  const match = rfc3339Pattern.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = match[8]!;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const offsetHours = Number(zone.slice(1, 3));
    const offsetRest = Number(zone.slice(4, 6));
    if (offsetHours > 23 || offsetRest > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetRest);
  }
  const fractionMs = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  return utcMs(year, month - 1, day) + ((hour * 60 + minute) * 60 + second) * 1000 + fractionMs - offsetMinutes * 60_000;
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMs(year, month, 0)).getUTCDate();
}

/** Date.UTC reads years 0..99 as 1900..1999; setUTCFullYear does not. */
function utcMs(year: number, monthIndex: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date.getTime();
}

/** Go's %q for the ASCII cases that matter here; JSON's quoting agrees with it on printable text. */
function goQuote(text: string): string {
  return JSON.stringify(text);
}
