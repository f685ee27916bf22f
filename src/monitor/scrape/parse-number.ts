/**
 * Numbers in expositions: sample values, timestamps, and the float-valued `le` and `quantile` labels,
 * which are rewritten to one canonical spelling so that `le="1"` and `le="1.0"` name the same series.
 */
import { assert, timestampMsMax, timestampMsMin } from '../tsdb/index.ts';

const decimalPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const integerPattern = /^[+-]?\d+$/;
const plainSecondsPattern = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const specialValues = new Map<string, number>([
  ['nan', NaN],
  ['inf', Infinity],
  ['+inf', Infinity],
  ['-inf', -Infinity],
  ['infinity', Infinity],
  ['+infinity', Infinity],
  ['-infinity', -Infinity],
]);

/**
 * A sample value: a decimal float, or `NaN`, `Inf`, `+Inf`, `-Inf` (also `Infinity`), any case.
 * Returns undefined when the token is none of these.
 *
 * @example
 * parseSampleValue('+Inf'); // Infinity
 * parseSampleValue('1.5e3'); // 1500
 */
export function parseSampleValue(token: string): number | undefined {
  if (decimalPattern.test(token)) return Number(token);
  return token.length <= 9 ? specialValues.get(token.toLowerCase()) : undefined;
}

/**
 * A text-format timestamp: integer milliseconds, inside the store's range.
 *
 * @example
 * parseTimestampMs('1700000000000'); // 1700000000000
 */
export function parseTimestampMs(token: string): number | undefined {
  if (!integerPattern.test(token)) return undefined;
  const timestampMs = Number(token);
  return isStorableTimestamp(timestampMs) ? timestampMs : undefined;
}

/**
 * An OpenMetrics timestamp: seconds with an optional fraction, rounded to the nearest millisecond. Plain
 * decimals are converted digit by digit, because `1520879607.789 * 1000` is not exact in binary floating
 * point; exponent forms go through a float.
 *
 * @example
 * parseSecondsAsTimestampMs('1520879607.789'); // 1520879607789
 */
export function parseSecondsAsTimestampMs(token: string): number | undefined {
  const plain = plainSecondsPattern.exec(token);
  let timestampMs: number;
  if (plain !== null) {
    const [, sign, whole = '', fraction = ''] = plain;
    if (whole === '' && fraction === '') return undefined;
    const fractionMs = Number(`0.${fraction}`) * 1000;
    const magnitudeMs = Number(whole === '' ? '0' : whole) * 1000 + Math.round(fractionMs);
    timestampMs = sign === '-' ? -magnitudeMs : magnitudeMs;
  } else if (decimalPattern.test(token)) {
    timestampMs = Math.round(Number(token) * 1000);
  } else {
    return undefined;
  }
  return isStorableTimestamp(timestampMs) ? timestampMs + 0 : undefined;
}

/**
 * The canonical spelling of a float label value, as Prometheus writes it: Go's shortest `%g`, with `.0`
 * added to integers. `1` → `1.0`, `0.25` → `0.25`, `1000000` → `1e+06`, infinity → `+Inf`.
 *
 * @example
 * formatFloatLabelValue(Number('1')); // '1.0'
 */
export function formatFloatLabelValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return '0.0'; // Negative zero too, as Prometheus writes it.
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  // Go's %g with shortest precision switches to exponent form outside [1e-4, 1e6).
  if (exponent < -4 || exponent >= 6) {
    const magnitude = Math.abs(exponent);
    const text = `${mantissa}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
    assert(Number(text) === value, 'the canonical spelling reads back to the same value');
    return text;
  }
  const fixed = String(value);
  assert(!fixed.includes('e'), 'values in [1e-4, 1e6) print without an exponent');
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

function isStorableTimestamp(timestampMs: number): boolean {
  return Number.isInteger(timestampMs) && timestampMs >= timestampMsMin && timestampMs <= timestampMsMax;
}
