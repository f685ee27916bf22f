/**
 * Go's number and time text, as the rule manager's outputs need it byte for byte: `strconv.FormatFloat`
 * ('e', 'f', 'g' with a precision or shortest), `fmt`'s `%v` of a float64, `time.Time.String()` and the
 * RFC 3339 form `encoding/json` writes for a `time.Time`.
 *
 * Rounding is Go's: on the exact decimal value of the double, ties to even. JavaScript's `toPrecision`
 * rounds exact ties up (12345 to 4 digits is 1.235e+4 there, 1.234e+04 in Go), so digits come from the
 * double's exact expansion (a BigInt) and are rounded here.
 */
import { assert } from '../tsdb/index.ts';

/** A decimal number: 0.d1d2d3... × 10^pointPosition. `digits` has no leading or trailing zeros ('' is zero). */
interface Decimal {
  readonly digits: string;
  readonly pointPosition: number;
}

/** Largest precision accepted by the formatters; Go has no limit but the output would be huge. */
export const formatPrecisionMax = 1000;

const float64 = new Float64Array(1);
const float64Words = new BigUint64Array(float64.buffer);

/** The exact decimal value of |value| (finite). */
function exactDecimal(value: number): Decimal {
  assert(Number.isFinite(value), 'exactDecimal needs a finite value');
  float64[0] = Math.abs(value);
  const bits = float64Words[0]!;
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  if (exponentBits !== 0) mantissa |= 1n << 52n;
  const binaryExponent = (exponentBits === 0 ? 1 : exponentBits) - 1075;
  if (mantissa === 0n) return { digits: '', pointPosition: 0 };
  let text: string;
  let fractionDigits: number;
  if (binaryExponent >= 0) {
    text = (mantissa << BigInt(binaryExponent)).toString();
    fractionDigits = 0;
  } else {
    // m / 2^k = m × 5^k / 10^k
    text = (mantissa * 5n ** BigInt(-binaryExponent)).toString();
    fractionDigits = -binaryExponent;
  }
  return trimDecimal(text, text.length - fractionDigits);
}

/** The shortest decimal that reads back as |value| (finite), as Go's shortest formatting picks it. */
function shortestDecimal(value: number): Decimal {
  const text = Math.abs(value).toExponential();
  const [mantissa, exponent] = text.split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  return trimDecimal(digits, Number(exponent) + 1);
}

function trimDecimal(digits: string, pointPosition: number): Decimal {
  let start = 0;
  while (start < digits.length && digits[start] === '0') start += 1;
  let end = digits.length;
  while (end > start && digits[end - 1] === '0') end -= 1;
  if (start === end) return { digits: '', pointPosition: 0 };
  return { digits: digits.slice(start, end), pointPosition: pointPosition - start };
}

/** Rounds to `count` significant digits (count may be ≤ 0: everything rounds to 0 or one unit), ties to even. */
function roundDecimal(decimal: Decimal, count: number): Decimal {
  const { digits, pointPosition } = decimal;
  if (count >= digits.length) return decimal;
  if (count < 0) return { digits: '', pointPosition: 0 };
  const next = digits.charCodeAt(count) - 48;
  const exactHalf = next === 5 && count + 1 === digits.length;
  const previousOdd = count > 0 && (digits.charCodeAt(count - 1) - 48) % 2 === 1;
  const roundUp = next > 5 || (next === 5 && (!exactHalf || previousOdd));
  if (!roundUp) return trimDecimal(digits.slice(0, count), pointPosition);
  // Add one unit in the last kept place.
  const kept = digits.slice(0, count).split('').map((character) => character.charCodeAt(0) - 48);
  let index = kept.length - 1;
  while (index >= 0 && kept[index] === 9) {
    kept[index] = 0;
    index -= 1;
  }
  if (index < 0) return { digits: '1', pointPosition: pointPosition + 1 };
  kept[index] = kept[index]! + 1;
  return trimDecimal(kept.join(''), pointPosition);
}

function digitAt(decimal: Decimal, index: number): string {
  return index >= 0 && index < decimal.digits.length ? decimal.digits[index]! : '0';
}

/** %e body: d.ddd e±dd with `fractionDigits` digits after the point. */
function formatE(decimal: Decimal, fractionDigits: number, exponentLetter: string): string {
  let text = decimal.digits === '' ? '0' : decimal.digits[0]!;
  if (fractionDigits > 0) {
    text += '.';
    for (let index = 1; index <= fractionDigits; index += 1) text += digitAt(decimal, index);
  }
  const exponent = decimal.digits === '' ? 0 : decimal.pointPosition - 1;
  const magnitude = Math.abs(exponent);
  return `${text}${exponentLetter}${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
}

/** %f body with `fractionDigits` digits after the point. */
function formatF(decimal: Decimal, fractionDigits: number): string {
  let text = '';
  if (decimal.pointPosition > 0) {
    for (let index = 0; index < decimal.pointPosition; index += 1) text += digitAt(decimal, index);
  } else {
    text = '0';
  }
  if (fractionDigits > 0) {
    text += '.';
    for (let index = 0; index < fractionDigits; index += 1) text += digitAt(decimal, decimal.pointPosition + index);
  }
  return text;
}

/**
 * Go's `strconv.FormatFloat(value, format, precision, 64)` for formats 'e', 'E', 'f', 'g', 'G'; precision
 * -1 means the shortest text that reads back exactly.
 *
 * @example
 * formatGoFloat(1234567, 'g', -1); // '1.234567e+06'
 * formatGoFloat(12345, 'g', 4); // '1.234e+04'
 */
export function formatGoFloat(value: number, format: 'e' | 'E' | 'f' | 'g' | 'G', precision: number): string {
  assert(Number.isInteger(precision) && precision >= -1 && precision <= formatPrecisionMax, 'precision is -1 or 0..formatPrecisionMax');
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const shortest = precision < 0;
  const exact = shortest ? shortestDecimal(value) : exactDecimal(value);
  if (format === 'e' || format === 'E') {
    const decimal = shortest ? exact : roundDecimal(exact, precision + 1);
    const fractionDigits = shortest ? Math.max(decimal.digits.length - 1, 0) : precision;
    return sign + formatE(decimal, fractionDigits, format === 'e' ? 'e' : 'E');
  }
  if (format === 'f') {
    const decimal = shortest ? exact : roundDecimal(exact, exact.pointPosition + precision);
    const fractionDigits = shortest ? Math.max(decimal.digits.length - decimal.pointPosition, 0) : precision;
    return sign + formatF(decimal, fractionDigits);
  }
  return sign + formatG(exact, shortest ? -1 : precision, format === 'g' ? 'e' : 'E');
}

/** Go's %g: exponent form when the exponent is < -4 or ≥ the precision (6 when shortest), trailing zeros dropped. */
function formatG(exact: Decimal, precision: number, exponentLetter: string): string {
  const shortest = precision < 0;
  let digitsWanted = shortest ? exact.digits.length : precision === 0 ? 1 : precision;
  const decimal = shortest ? exact : roundDecimal(exact, digitsWanted);
  const digitCount = Math.max(decimal.digits.length, 1);
  const pointPosition = decimal.digits === '' ? 1 : decimal.pointPosition;
  let exponentPrecision = digitsWanted;
  if (exponentPrecision > digitCount && digitCount >= pointPosition) exponentPrecision = digitCount;
  if (shortest) exponentPrecision = 6;
  const exponent = pointPosition - 1;
  if (exponent < -4 || exponent >= exponentPrecision) {
    if (digitsWanted > digitCount) digitsWanted = digitCount;
    return formatE(decimal, digitsWanted - 1, exponentLetter);
  }
  if (digitsWanted > pointPosition) digitsWanted = digitCount;
  return formatF(decimal, Math.max(digitsWanted - pointPosition, 0));
}

/**
 * How `fmt.Sprint` prints a float64 (`%v`, which is `%g` with the shortest precision): exponent form
 * when the exponent is below -4 or 6 and above.
 *
 * @example
 * formatGoValue(0.5); // '0.5'
 * formatGoValue(1e6); // '1e+06'
 */
export function formatGoValue(value: number): string {
  return formatGoFloat(value, 'g', -1);
}

/**
 * `strconv.FormatFloat(value, 'e', -1, 64)`: how Prometheus's alerts API prints an alert's value.
 *
 * @example
 * formatGoExponent(1); // '1e+00'
 */
export function formatGoExponent(value: number): string {
  return formatGoFloat(value, 'e', -1);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Fraction of a second as Go's `.999999999` layout prints it: no trailing zeros, nothing when zero. */
function fractionText(milliseconds: number): string {
  if (milliseconds === 0) return '';
  return `.${pad(milliseconds, 3).replace(/0+$/, '')}`;
}

/**
 * A time as Go's `encoding/json` writes a UTC `time.Time` (RFC 3339 with nanoseconds, trailing zeros
 * trimmed): `2023-01-02T03:04:05.1Z`. Millisecond resolution.
 *
 * @example
 * formatGoJsonTime(0); // '1970-01-01T00:00:00Z'
 */
export function formatGoJsonTime(timeMs: number): string {
  assert(Number.isSafeInteger(timeMs), 'a time is an integer of milliseconds');
  const date = new Date(timeMs);
  const milliseconds = ((timeMs % 1000) + 1000) % 1000;
  return `${date.toISOString().slice(0, 19)}${fractionText(milliseconds)}Z`;
}

/** Go's zero `time.Time` in JSON, for a rule never evaluated. */
export const goZeroJsonTime = '0001-01-01T00:00:00Z';

/**
 * Go's `time.Time.String()` of a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC`.
 *
 * @example
 * formatGoTimeString(1500); // '1970-01-01 00:00:01.5 +0000 UTC'
 */
export function formatGoTimeString(timeMs: number): string {
  const date = new Date(timeMs);
  assert(!Number.isNaN(date.getTime()), 'a time within the Date range');
  const milliseconds = ((timeMs % 1000) + 1000) % 1000;
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fractionText(Math.round(milliseconds))} +0000 UTC`;
}
