/**
 * The calendar fields Go's `time.Unix(int64(v), 0).UTC()` yields, for PromQL's date functions. Go converts the
 * float to int64 first (NaN, infinities and out-of-range values become the minimum int64 on amd64) and then
 * counts in unsigned 64-bit seconds from an absolute zero year, wrapping on overflow; this reproduces that
 * arithmetic with BigInt, so results match Prometheus for every input, far outside JavaScript's Date range
 * too.
 */

/** Seconds from 0001-01-01 to 1970-01-01. */
const unixToInternalSeconds = 62_135_596_800n;
/** Seconds from Go's absolute zero (year -292277022399) to 0001-01-01. */
const internalToAbsoluteSeconds = 9_223_371_966_579_724_800n;
const absoluteZeroYear = -292_277_022_399n;
const secondsPerDay = 86_400n;
const daysPer400Years = 146_097n;
const daysPer100Years = 36_524n;
const daysPer4Years = 1_461n;
/** Days before the start of each month in a non-leap year; the 13th entry is the year's length. */
const daysBefore = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365] as const;

export interface CivilTime {
  readonly year: number;
  /** 1 to 12. */
  readonly month: number;
  /** 1 to 31. */
  readonly day: number;
  /** 1 to 366. */
  readonly yearDay: number;
  readonly hour: number;
  readonly minute: number;
  /** 0 (Sunday) to 6. */
  readonly weekday: number;
  readonly daysInMonth: number;
}

/**
 * The UTC calendar fields of `unixSeconds`, as Go computes them.
 *
 * @example
 * civilTime(0).year; // 1970
 * civilTime(NaN).year; // 292277026596, like Prometheus
 */
export function civilTime(unixSeconds: number): CivilTime {
  const absolute = BigInt.asUintN(64, goInt64(unixSeconds) + unixToInternalSeconds + internalToAbsoluteSeconds);
  const [year, yearDay] = yearAndDay(absolute / secondsPerDay);
  const [month, day] = monthAndDay(year, yearDay);
  const secondOfDay = absolute % secondsPerDay;
  // Day zero of the absolute calendar is a Monday.
  const weekday = Number((BigInt.asUintN(64, absolute + secondsPerDay) % (7n * secondsPerDay)) / secondsPerDay);
  return {
    year: Number(year),
    month,
    day,
    yearDay: yearDay + 1,
    hour: Number(secondOfDay / 3600n),
    minute: Number((absolute % 3600n) / 60n),
    weekday,
    daysInMonth: month === 2 && isLeapYear(year) ? 29 : daysBefore[month]! - daysBefore[month - 1]!,
  };
}

/** Go's float64 → int64 conversion on amd64: truncation, and the minimum int64 for NaN or overflow. */
function goInt64(value: number): bigint {
  if (!(value < 2 ** 63 && value >= -(2 ** 63))) return -(2n ** 63n);
  return BigInt(Math.trunc(value));
}

/** The year and 0-based day of year for a day count from the absolute zero, by 400/100/4/1-year cycles. */
function yearAndDay(absoluteDays: bigint): [bigint, number] {
  let days = absoluteDays;
  let years = 400n * (days / daysPer400Years);
  days %= daysPer400Years;
  // The last century and the last year of a cycle are one day longer; the >> 2 keeps them in range.
  let cycles = days / daysPer100Years;
  cycles -= cycles >> 2n;
  years += 100n * cycles;
  days -= daysPer100Years * cycles;
  cycles = days / daysPer4Years;
  years += 4n * cycles;
  days -= daysPer4Years * cycles;
  cycles = days / 365n;
  cycles -= cycles >> 2n;
  years += cycles;
  days -= 365n * cycles;
  return [years + absoluteZeroYear, Number(days)];
}

function monthAndDay(year: bigint, yearDay: number): [number, number] {
  let day = yearDay;
  if (isLeapYear(year)) {
    if (day === 31 + 29 - 1) return [2, 29];
    if (day > 31 + 29 - 1) day -= 1;
  }
  // Every month has at least 28 days, so day / 31 is the month or one before it.
  let month = Math.floor(day / 31);
  if (day >= daysBefore[month + 1]!) month += 1;
  return [month + 1, day - daysBefore[month]! + 1];
}

function isLeapYear(year: bigint): boolean {
  return year % 4n === 0n && (year % 100n !== 0n || year % 400n === 0n);
}
