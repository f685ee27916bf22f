/**
 * Prometheus's units in configuration files: durations (`1h30m`, `15s`, `1d`, `1w`, `1y`, `500ms`, as
 * prometheus/common's model.ParseDuration) and byte sizes (`10MB`, `512KiB`, base 2 like
 * alecthomas/units.ParseBase2Bytes, which Prometheus uses for `body_size_limit`).
 */
import { assert } from '../tsdb/index.ts';

/** Longest duration text accepted; real ones are a few characters. */
export const durationCharactersMax = 64;
/** Largest duration in milliseconds: Go's time.Duration holds at most 2^63-1 nanoseconds (~292 years). */
export const durationMsMax = Math.floor((2 ** 63 - 1) / 1e6);
/** Largest byte size accepted: Go's int64, and above JavaScript's exact integers anyway. */
export const byteSizeMax = Number.MAX_SAFE_INTEGER;

const millisecondsPerUnit: ReadonlyMap<string, number> = new Map([
  ['y', 365 * 24 * 3600 * 1000],
  ['w', 7 * 24 * 3600 * 1000],
  ['d', 24 * 3600 * 1000],
  ['h', 3600 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
]);

/** Units in the only order Prometheus accepts them, each at most once. */
const durationPattern = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const durationUnitsInOrder = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;

/**
 * Parses a Prometheus duration into milliseconds. Throws a RangeError with Prometheus's message
 * (`not a valid duration string: "..."`) when the text is malformed or out of range.
 *
 * @example
 * parseDurationMs('1h30m'); // 5400000
 * parseDurationMs('0'); // 0
 */
export function parseDurationMs(text: string): number {
  if (text === '0') return 0;
  const match = text.length <= durationCharactersMax && text !== '' ? durationPattern.exec(text) : null;
  if (match === null) throw new RangeError(`not a valid duration string: ${JSON.stringify(text)}`);
  let totalMs = 0;
  for (let index = 0; index < durationUnitsInOrder.length; index += 1) {
    const digits = match[index + 1];
    if (digits === undefined) continue;
    totalMs += Number(digits) * millisecondsPerUnit.get(durationUnitsInOrder[index]!)!;
  }
  if (!Number.isSafeInteger(totalMs) || totalMs > durationMsMax) throw new RangeError(`duration out of range: ${JSON.stringify(text)}`);
  assert(totalMs >= 0, 'durations are not negative');
  return totalMs;
}

/**
 * Formats milliseconds the way Prometheus prints a duration: years and weeks only when exact, then days,
 * hours, minutes, seconds and milliseconds; `0s` for zero. The `__scrape_interval__` label uses it.
 *
 * @example
 * formatDuration(90 * 60 * 1000); // '1h30m'
 * formatDuration(14 * 24 * 3600 * 1000); // '2w'
 */
export function formatDuration(durationMs: number): string {
  assert(Number.isSafeInteger(durationMs) && durationMs >= 0, 'a duration is a non-negative integer of milliseconds');
  if (durationMs === 0) return '0s';
  let remainingMs = durationMs;
  let text = '';
  for (const unit of durationUnitsInOrder) {
    const unitMs = millisecondsPerUnit.get(unit)!;
    const exactOnly = unit === 'y' || unit === 'w';
    if (exactOnly && remainingMs % unitMs !== 0) continue;
    const count = Math.floor(remainingMs / unitMs);
    if (count === 0) continue;
    text += `${count}${unit}`;
    remainingMs -= count * unitMs;
  }
  assert(remainingMs === 0, 'every millisecond is formatted');
  return text;
}

const bytesPerUnit: ReadonlyMap<string, number> = new Map([
  ['B', 1],
  ['KB', 1024], ['MB', 1024 ** 2], ['GB', 1024 ** 3], ['TB', 1024 ** 4], ['PB', 1024 ** 5], ['EB', 1024 ** 6],
  ['KiB', 1024], ['MiB', 1024 ** 2], ['GiB', 1024 ** 3], ['TiB', 1024 ** 4], ['PiB', 1024 ** 5], ['EiB', 1024 ** 6],
]);

/** One `<number><unit>` element of a size; sizes may chain them (`1GB512MB`). */
const byteElementPattern = /^(\d*(?:\.\d*)?)([A-Za-z]+)/;

/**
 * Parses a byte size with base-2 units, as Prometheus's `body_size_limit`: `10MB` is 10 MiB, `1.5KB` is
 * 1536 bytes, `0` is zero. A number without a unit is an error, as in Prometheus.
 *
 * @example
 * parseByteSize('10MB'); // 10485760
 * parseByteSize('512KiB'); // 524288
 */
export function parseByteSize(text: string): number {
  if (text === '0') return 0;
  if (text === '' || text.length > durationCharactersMax) throw new RangeError(`invalid byte size ${JSON.stringify(text)}`);
  let rest = text;
  let total = 0;
  while (rest !== '') {
    const match = byteElementPattern.exec(rest);
    const digits = match?.[1] ?? '';
    if (match === null || digits === '' || digits === '.') {
      throw new RangeError(`invalid byte size ${JSON.stringify(text)}: expected a number followed by a unit such as B, KB, MB or GB`);
    }
    const unitBytes = bytesPerUnit.get(match[2]!);
    if (unitBytes === undefined) throw new RangeError(`invalid byte size ${JSON.stringify(text)}: unknown unit ${match[2]!}`);
    total += Number(digits) * unitBytes;
    rest = rest.slice(match[0].length);
  }
  if (!(total <= byteSizeMax)) throw new RangeError(`byte size ${JSON.stringify(text)} is too large`);
  return Math.floor(total);
}
