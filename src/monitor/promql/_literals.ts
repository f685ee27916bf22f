/**
 * PromQL literals with Prometheus 2.42's exact rules: numbers (`strconv.ParseInt(s, 0, 64)` first, so `010` is
 * octal 8 and `0x1f` is 31, then `strconv.ParseFloat`), durations (`model.ParseDuration`: `1y2w3d4h5m6s7ms`)
 * and quoted strings (Go escapes in "..." and '...', none in `...`). Also float formatting as Go's
 * `strconv.FormatFloat(v, 'f', -1, 64)`, which the HTTP API and `count_values` use.
 */

/** A failure to read a literal; the parser turns it into a positioned ParseError. */
export class LiteralError extends Error {}

const int64Max = 2n ** 63n - 1n;
/** The largest duration Go's time.Duration holds, in milliseconds (about 292 years). */
export const durationMsMax = 9_223_372_036_854;

const durationPattern = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const durationUnitMs = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/**
 * Parses a Prometheus duration into milliseconds. `0` is allowed without a unit.
 *
 * @example
 * parseDurationMs('1h30m'); // 5_400_000
 * parseDurationMs('1y'); // 31_536_000_000
 */
export function parseDurationMs(text: string): number {
  if (text === '0') return 0;
  if (text === '') throw new LiteralError('empty duration string');
  const match = durationPattern.exec(text);
  if (match === null) throw new LiteralError(`not a valid duration string: ${goQuote(text)}`);
  let totalMs = 0;
  for (let unit = 0; unit < durationUnitMs.length; unit += 1) {
    const digits = match[unit + 1];
    if (digits === undefined) continue;
    const count = Number(digits);
    if (count > Math.floor(durationMsMax / durationUnitMs[unit]!)) throw new LiteralError('duration out of range');
    totalMs += count * durationUnitMs[unit]!;
    if (totalMs > durationMsMax) throw new LiteralError('duration out of range');
  }
  return totalMs;
}

/**
 * Formats milliseconds as Prometheus's `model.Duration.String()`: `1h30m`, `500ms`, `0s`.
 *
 * @example
 * formatDurationMs(5_400_000); // '1h30m'
 */
export function formatDurationMs(durationMs: number): string {
  if (durationMs === 0) return '0s';
  let rest = Math.abs(durationMs);
  let text = durationMs < 0 ? '-' : '';
  const units: [string, number][] = [['y', durationUnitMs[0]!], ['w', durationUnitMs[1]!], ['d', durationUnitMs[2]!], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  for (const [suffix, unitMs] of units) {
    const count = Math.floor(rest / unitMs);
    if (count === 0) continue;
    text += `${count}${suffix}`;
    rest -= count * unitMs;
  }
  return text;
}

/**
 * Parses an unsigned number token the way Prometheus's parser does.
 *
 * @example
 * parseNumber('0x1f'); // 31
 * parseNumber('010'); // 8 (octal, as in Go's ParseInt with base 0)
 * parseNumber('Inf'); // Infinity
 */
export function parseNumber(text: string): number {
  const integer = parseGoInteger(text);
  if (integer !== undefined) return integer;
  return parseGoFloat(text);
}

function parseGoInteger(text: string): number | undefined {
  let digits: string;
  let radix: number;
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(text)) {
    digits = text.replace(/0[xX]/, '');
    radix = 16;
  } else if (/^[+-]?0[0-7]+$/.test(text)) {
    digits = text;
    radix = 8;
  } else if (/^[+-]?[0-9]+$/.test(text)) {
    digits = text;
    radix = 10;
  } else {
    return undefined;
  }
  const negative = digits.startsWith('-');
  const unsigned = digits.replace(/^[+-]/, '');
  const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : '';
  const value = BigInt(`${prefix}${unsigned}`);
  // Out of int64 range: Go falls back to ParseFloat, which reads the digits as decimal.
  if (value > int64Max + (negative ? 1n : 0n)) return undefined;
  return Number(negative ? -value : value);
}

function parseGoFloat(text: string): number {
  const lower = text.toLowerCase().replace(/^\+/, '');
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan') return NaN;
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(text)) {
    throw new LiteralError(`strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax`);
  }
  const value = Number(text);
  if (!Number.isFinite(value)) throw new LiteralError(`strconv.ParseFloat: parsing ${goQuote(text)}: value out of range`);
  return value;
}

/**
 * Unquotes a PromQL string token: `"..."` and `'...'` with Go escapes, `` `...` `` raw. Errors use the
 * messages of Prometheus's lexer.
 *
 * @example
 * unquoteString('"a\\tb"'); // 'a\tb'
 * unquoteString('`raw\\n`'); // 'raw\\n'
 */
export function unquoteString(token: string): string {
  const quote = token[0];
  if (quote === undefined || token.length < 2 || token[token.length - 1] !== quote || endsWithEscapedQuote(token, quote)) {
    throw new LiteralError(quote === '`' ? 'unterminated raw string' : 'unterminated quoted string');
  }
  const body = token.slice(1, -1);
  if (quote === '`') return body;
  if (quote !== '"' && quote !== "'") throw new LiteralError('invalid syntax');
  if (!body.includes('\\')) return body;
  const bytes: number[] = [];
  let index = 0;
  while (index < body.length) {
    const character = body[index]!;
    if (character !== '\\') {
      const codePoint = body.codePointAt(index)!;
      pushUtf8(bytes, codePoint);
      index += codePoint > 0xffff ? 2 : 1;
      continue;
    }
    index = readEscape(body, index + 1, quote, bytes);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Whether the token's last quote is escaped (`"abc\"`), leaving the string unterminated. */
function endsWithEscapedQuote(token: string, quote: string): boolean {
  if (quote === '`') return false;
  let backslashes = 0;
  for (let index = token.length - 2; index >= 1 && token[index] === '\\'; index -= 1) backslashes += 1;
  return backslashes % 2 === 1;
}

const simpleEscapes: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

/** Reads the escape after a backslash at `index`; appends its bytes and returns the index after it. */
function readEscape(body: string, index: number, quote: string, bytes: number[]): number {
  const character = body[index];
  if (character === undefined) throw new LiteralError('escape sequence not terminated');
  const simple = simpleEscapes[character];
  if (simple !== undefined) {
    bytes.push(simple);
    return index + 1;
  }
  if (character === quote) {
    bytes.push(quote.charCodeAt(0));
    return index + 1;
  }
  let digitCount: number;
  let radix: number;
  let start = index + 1;
  if (character >= '0' && character <= '7') {
    [digitCount, radix, start] = [3, 8, index];
  } else if (character === 'x') {
    [digitCount, radix] = [2, 16];
  } else if (character === 'u') {
    [digitCount, radix] = [4, 16];
  } else if (character === 'U') {
    [digitCount, radix] = [8, 16];
  } else {
    throw new LiteralError(`unknown escape sequence ${formatRune(body.codePointAt(index)!)}`);
  }
  let value = 0;
  for (let offset = 0; offset < digitCount; offset += 1) {
    const digit = body[start + offset];
    if (digit === undefined) throw new LiteralError('escape sequence not terminated');
    const digitValue = Number.parseInt(digit, 16);
    if (Number.isNaN(digitValue) || digitValue >= radix) throw new LiteralError(`illegal character ${formatRune(digit.codePointAt(0)!)} in escape sequence`);
    value = value * radix + digitValue;
  }
  const isByte = radix === 8 || character === 'x';
  if (value > (isByte ? 255 : 0x10ffff) || (value >= 0xd800 && value < 0xe000)) {
    throw new LiteralError('escape sequence is an invalid Unicode code point');
  }
  if (isByte) bytes.push(value);
  else pushUtf8(bytes, value);
  return start + digitCount;
}

function pushUtf8(bytes: number[], codePoint: number): void {
  if (codePoint < 0x80) bytes.push(codePoint);
  else if (codePoint < 0x800) bytes.push(0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f));
  else if (codePoint < 0x10000) bytes.push(0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f));
  else bytes.push(0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f));
}

/** Go's `%#U`: `U+0071 'q'`, or just `U+000A` for a character that does not print. */
function formatRune(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]/u.test(String.fromCodePoint(codePoint)) ? `${hex} '${String.fromCodePoint(codePoint)}'` : hex;
}

/** Go's `%q` for ASCII-safe text: a double-quoted string with `"` and `\` escaped. */
export function goQuote(text: string): string {
  return JSON.stringify(text);
}

/**
 * Formats a float as Go's `strconv.FormatFloat(value, 'f', -1, 64)`: the shortest digits that round-trip, never
 * an exponent; `NaN`, `+Inf`, `-Inf`.
 *
 * @example
 * formatFloat(1e21); // '1000000000000000000000'
 * formatFloat(1.5e-7); // '0.00000015'
 * formatFloat(Infinity); // '+Inf'
 */
export function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const shortest = String(value);
  const exponentAt = shortest.indexOf('e');
  if (exponentAt < 0) return shortest;
  const sign = value < 0 ? '-' : '';
  const mantissa = shortest.slice(sign.length, exponentAt);
  const exponent = Number(shortest.slice(exponentAt + 1));
  const digits = mantissa.replace('.', '');
  const pointAt = (mantissa.indexOf('.') < 0 ? mantissa.length : mantissa.indexOf('.')) + exponent;
  if (pointAt <= 0) return `${sign}0.${'0'.repeat(-pointAt)}${digits}`;
  if (pointAt >= digits.length) return `${sign}${digits}${'0'.repeat(pointAt - digits.length)}`;
  return `${sign}${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
}

/** Go's `%f`: six decimals, `+Inf`, `-Inf`, `NaN`. */
export function formatFloatFixed(value: number): string {
  if (!Number.isFinite(value)) return formatFloat(value);
  if (Math.abs(value) < 1e21) return value.toFixed(6);
  return `${formatFloat(value)}.000000`;
}

/**
 * Go's `%v` for a float64 (`strconv.FormatFloat(value, 'g', -1, 64)`): shortest digits, exponent form
 * (`1e+06`) when the decimal exponent is below -4 or at least 6.
 *
 * @example
 * formatGoFloat(1e6); // '1e+06'
 * formatGoFloat(0.5); // '0.5'
 */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return formatFloat(value);
}

/**
 * Go's `strconv.FormatFloat(value, 'e', -1, 64)`: shortest digits, `d.ddde±XX` with at least two exponent
 * digits; `NaN`, `+Inf`, `-Inf`.
 *
 * @example
 * formatFloatExponent(1.5e-7); // '1.5e-07'
 */
export function formatFloatExponent(value: number): string {
  if (!Number.isFinite(value)) return formatFloat(value);
  if (value === 0) return Object.is(value, -0) ? '-0e+00' : '0e+00';
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}
