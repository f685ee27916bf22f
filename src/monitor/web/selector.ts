/**
 * A strict parser for series selectors (`match[]`): `metric`, `metric{label="v", label=~"re", ...}` or
 * `{...}`, as Prometheus's ParseMetricSelector. Strings take PromQL's three quotes (`"`, `'`, and raw `\``)
 * and Go's escapes. Errors carry Prometheus's position (`line:column`, the column in UTF-8 bytes) and
 * wording, e.g. `1:4: parse error: unexpected end of input inside braces`.
 *
 * The PromQL package parses whole expressions; a selector needs only this small grammar, and its error
 * messages (which tools show verbatim) differ from those of an expression parse.
 */
import { TsdbError } from '../tsdb/errors.ts';
import { Matcher } from '../tsdb/index/matcher.ts';
import type { MatchType } from '../tsdb/index/matcher.ts';
import { metricNameLabel } from '../tsdb/labels.ts';

/** Longest selector accepted, in UTF-16 units; a selector is a few hundred characters at most in practice. */
export const selectorCharactersMax = 64 * 1024;

/** A selector that does not parse. `message` is the full Prometheus-style text with position. */
export class SelectorParseError extends Error {
  readonly code = 'KEEL_SELECTOR_PARSE';
  readonly line: number;
  readonly column: number;

  constructor(line: number, column: number, problem: string) {
    super(`${line}:${column}: parse error: ${problem}`);
    this.name = 'SelectorParseError';
    this.line = line;
    this.column = column;
  }
}

/** Binary operators spelled as words; Prometheus reports them as `<op:and>`. */
const wordOperators: ReadonlySet<string> = new Set(['and', 'or', 'unless', 'atan2']);
/** Keywords that cannot start a selector; Prometheus reports them as `<bool>`. */
const refusedKeywords: ReadonlySet<string> = new Set(['bool', 'on', 'ignoring', 'group_left', 'group_right']);
/** Keywords Prometheus names as `<offset>` when they follow a selector. */
const describedKeywords: ReadonlySet<string> = new Set([...refusedKeywords, 'offset', 'by', 'without']);
const symbolOperators = ['==', '!=', '<=', '>=', '+', '-', '*', '/', '%', '^', '<', '>', '@'] as const;
const simpleEscapes: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
const metricNamePattern = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const labelNamePattern = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const escapeDigits: Readonly<Record<string, { count: number; base: number; max: number }>> = {
  x: { count: 2, base: 16, max: 0xff },
  u: { count: 4, base: 16, max: 0x10ffff },
  U: { count: 8, base: 16, max: 0x10ffff },
};

/**
 * Parses one series selector into matchers (the metric name becomes a `__name__` matcher).
 *
 * @example
 * parseMetricSelector('up{job=~"keel|etcd", instance!=""}'); // three matchers
 * parseMetricSelector('up{'); // throws SelectorParseError '1:4: parse error: unexpected end of input inside braces'
 */
export function parseMetricSelector(text: string): Matcher[] {
  if (text.length > selectorCharactersMax) throw new SelectorParseError(1, 1, `selector is longer than ${selectorCharactersMax} characters`);
  return new SelectorParser(text).parse();
}

type BraceToken =
  | { kind: 'identifier'; start: number; text: string }
  | { kind: 'string'; start: number; text: string; value: string }
  | { kind: 'operator'; start: number; text: MatchType }
  | { kind: ','; start: number; text: string }
  | { kind: '}'; start: number; text: string };

class SelectorParser {
  readonly #text: string;
  #position = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): Matcher[] {
    this.#skipBlank();
    const matchers: Matcher[] = [];
    if (this.#atEnd()) this.#fail(this.#position, 'unexpected end of input');
    if (this.#text[this.#position] !== '{') {
      const name = this.#metricName();
      matchers.push(new Matcher('=', metricNameLabel, name));
      this.#skipBlank();
    }
    if (this.#text[this.#position] === '{') {
      this.#position += 1;
      this.#braces(matchers);
      this.#skipBlank();
    }
    if (!this.#atEnd()) this.#fail(this.#position, `unexpected ${this.#describeOutside()}`);
    return matchers;
  }

  /** The metric name at the start, or an error naming what stands there instead. */
  #metricName(): string {
    const start = this.#position;
    const word = this.#match(metricNamePattern, start);
    const refused = word === undefined || /^(inf|nan)$/i.test(word) || wordOperators.has(word) || refusedKeywords.has(word);
    if (refused) this.#fail(start, `unexpected ${this.#describeOutside()}`);
    this.#position += word.length;
    return word;
  }

  /** Label matchers up to the closing brace: `name op "value"` separated by commas, a trailing comma allowed. */
  #braces(matchers: Matcher[]): void {
    for (;;) {
      const first = this.#braceToken();
      if (first.kind === '}') return;
      if (first.kind !== 'identifier') this.#unexpectedInBraces(first, 'identifier or "}"');
      const operator = this.#braceToken();
      if (operator.kind !== 'operator') this.#unexpectedInBraces(operator, 'label matching operator');
      const value = this.#braceToken();
      if (value.kind !== 'string') this.#unexpectedInBraces(value, 'string');
      matchers.push(this.#matcher(first, operator.text, value.value));
      const next = this.#braceToken();
      if (next.kind === '}') return;
      if (next.kind !== ',') this.#unexpectedInBraces(next, '"," or "}"');
    }
  }

  #matcher(name: BraceToken, type: MatchType, value: string): Matcher {
    try {
      return new Matcher(type, name.text, value);
    } catch (error) {
      if (!(error instanceof TsdbError)) throw error;
      const problem = error.code === 'TSDB_INVALID_REGEX' || error.code === 'TSDB_UNSUPPORTED_REGEX' ? `error parsing regexp: ${error.message}` : error.message;
      return this.#fail(name.start, problem);
    }
  }

  #unexpectedInBraces(token: BraceToken, expected: string): never {
    const description = token.kind === 'identifier' ? `identifier ${JSON.stringify(token.text)}`
      : token.kind === 'string' ? `string ${JSON.stringify(token.text)}` : JSON.stringify(token.text);
    return this.#fail(token.start, `unexpected ${description} in label matching, expected ${expected}`);
  }

  /** The next token inside braces; anything else is a lexical error, as in Prometheus's lexer. */
  #braceToken(): BraceToken {
    this.#skipBlank();
    const start = this.#position;
    if (this.#atEnd()) this.#fail(start, 'unexpected end of input inside braces');
    const character = this.#text[start]!;
    const identifier = this.#match(labelNamePattern, start);
    if (identifier !== undefined) {
      this.#position += identifier.length;
      return { kind: 'identifier', start, text: identifier };
    }
    if (character === '"' || character === "'" || character === '`') {
      const value = this.#string();
      return { kind: 'string', start, text: this.#text.slice(start, this.#position), value };
    }
    if (character === ',' || character === '}') {
      this.#position += 1;
      return { kind: character, start, text: character };
    }
    return { kind: 'operator', start, text: this.#matchOperator() };
  }

  #matchOperator(): MatchType {
    const start = this.#position;
    const character = this.#text[start]!;
    const next = this.#text[start + 1];
    if (character === '=') {
      this.#position += next === '~' ? 2 : 1;
      return next === '~' ? '=~' : '=';
    }
    if (character === '!') {
      if (next !== '=' && next !== '~') this.#fail(start, next === undefined ? 'unexpected end of input inside braces' : `unexpected character after '!' inside braces: ${quoteRune(next)}`);
      this.#position += 2;
      return next === '=' ? '!=' : '!~';
    }
    return this.#fail(start, `unexpected character inside braces: ${quoteRune(this.#characterAt(start))}`);
  }

  /** Reads a quoted string and returns its value; errors point at the opening quote, as Prometheus's do. */
  #string(): string {
    const start = this.#position;
    const quote = this.#text[start]!;
    this.#position += 1;
    if (quote === '`') {
      const end = this.#text.indexOf('`', this.#position);
      if (end < 0) this.#fail(start, 'unterminated raw string');
      this.#position = end + 1;
      // Go's strconv.Unquote drops carriage returns from raw strings.
      return this.#text.slice(start + 1, end).replaceAll('\r', '');
    }
    const plainEnd = this.#plainStringEnd(quote);
    if (plainEnd >= 0) {
      // The common case, no escapes: the value is the text between the quotes.
      this.#position = plainEnd + 1;
      return this.#text.slice(start + 1, plainEnd);
    }
    const bytes: number[] = [];
    for (;;) {
      const character = this.#text[this.#position];
      if (character === undefined || character === '\n') this.#fail(start, 'unterminated quoted string');
      this.#position += 1;
      if (character === quote) break;
      if (character === '\\') this.#escape(start, quote, bytes);
      else bytes.push(...Buffer.from(character, 'utf8'));
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      return this.#fail(start, 'string is not valid UTF-8');
    }
  }

  /** Where the string starting at the current position ends, or -1 if it has an escape or is unterminated. */
  #plainStringEnd(quote: string): number {
    for (let index = this.#position; index < this.#text.length; index += 1) {
      const character = this.#text[index];
      if (character === quote) return index;
      if (character === '\\' || character === '\n') return -1;
    }
    return -1;
  }

  /** One escape after a backslash (Go's rules): appends its bytes. */
  #escape(stringStart: number, quote: string, bytes: number[]): void {
    const character = this.#text[this.#position];
    if (character === undefined) this.#fail(stringStart, 'escape sequence not terminated');
    const simple = simpleEscapes[character];
    if (simple !== undefined || character === quote) {
      this.#position += 1;
      bytes.push(simple ?? quote.charCodeAt(0));
      return;
    }
    const octal = character >= '0' && character <= '7';
    const digits = octal ? { count: 3, base: 8, max: 0xff } : escapeDigits[character];
    if (digits === undefined) this.#fail(stringStart, `unknown escape sequence ${formatCodePoint(this.#characterAt(this.#position))}`);
    if (!octal) this.#position += 1;
    let value = 0;
    for (let index = 0; index < digits.count; index += 1) {
      const digit = this.#text[this.#position];
      if (digit === undefined) this.#fail(stringStart, 'escape sequence not terminated');
      const digitValue = Number.parseInt(digit, 16);
      if (!(digitValue < digits.base)) this.#fail(stringStart, `illegal character ${formatCodePoint(this.#characterAt(this.#position))} in escape sequence`);
      value = value * digits.base + digitValue;
      this.#position += 1;
    }
    if (value > digits.max || (value >= 0xd800 && value < 0xe000)) this.#fail(stringStart, 'escape sequence is an invalid Unicode code point');
    // \x and octal escapes are raw bytes in Go; \u and \U are code points.
    if (digits.max === 0xff) bytes.push(value);
    else bytes.push(...Buffer.from(String.fromCodePoint(value), 'utf8'));
  }

  /** What stands at the current position outside braces, in Prometheus's words. */
  #describeOutside(): string {
    const start = this.#position;
    const rest = this.#text.slice(start, start + 256);
    const word = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest)?.[0];
    if (word !== undefined) {
      if (/^(inf|nan)$/i.test(word)) return `number ${JSON.stringify(word)}`;
      if (wordOperators.has(word)) return `<op:${word}>`;
      if (describedKeywords.has(word)) return `<${word}>`;
      return `${word.includes(':') ? 'metric identifier' : 'identifier'} ${JSON.stringify(word)}`;
    }
    const number = /^(?:\d|\.\d)[0-9a-zA-Z_.]*(?:[eE][+-]\d+)?/.exec(rest)?.[0];
    if (number !== undefined) return `${/^(\d+(ms|[smhdwy]))+$/.test(number) ? 'duration' : 'number'} ${JSON.stringify(number)}`;
    const character = rest[0]!;
    if (character === '"' || character === "'" || character === '`') {
      this.#string();
      return `string ${JSON.stringify(this.#text.slice(start, this.#position))}`;
    }
    if ('{([)],='.includes(character)) return JSON.stringify(character);
    const operator = symbolOperators.find((symbol) => rest.startsWith(symbol));
    if (operator !== undefined) return `<op:${operator}>`;
    return this.#fail(start, `unexpected character: ${quoteRune(this.#characterAt(start))}`);
  }

  /** Skips whitespace and `#` comments (to the end of the line). */
  #skipBlank(): void {
    for (;;) {
      const character = this.#text[this.#position];
      if (character === ' ' || character === '\t' || character === '\n' || character === '\r') this.#position += 1;
      else if (character === '#') {
        const end = this.#text.indexOf('\n', this.#position);
        this.#position = end < 0 ? this.#text.length : end;
      } else return;
    }
  }

  /** The text a sticky pattern matches at `index`, or undefined. */
  #match(pattern: RegExp, index: number): string | undefined {
    pattern.lastIndex = index;
    return pattern.exec(this.#text)?.[0];
  }

  #atEnd(): boolean {
    return this.#position >= this.#text.length;
  }

  /** The whole character (surrogate pairs joined) at `index`. */
  #characterAt(index: number): string {
    return String.fromCodePoint(this.#text.codePointAt(index)!);
  }

  #fail(index: number, problem: string): never {
    const before = this.#text.slice(0, index);
    const lineStart = before.lastIndexOf('\n') + 1;
    const line = before.split('\n').length;
    const column = Buffer.byteLength(before.slice(lineStart), 'utf8') + 1;
    throw new SelectorParseError(line, column, problem);
  }
}

/** Go's %#U: `U+0071 'q'`, without the character when it is not printable. */
function formatCodePoint(character: string): string {
  const codePoint = character.codePointAt(0)!;
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrintable(codePoint) ? `${hex} '${character}'` : hex;
}

/** Go's %q for a rune: `'é'`, `'\n'`, `'\x00'`, `'\''`. */
function quoteRune(character: string): string {
  const codePoint = character.codePointAt(0)!;
  const named: Readonly<Record<string, string>> = { "'": "\\'", '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\v': '\\v' };
  if (named[character] !== undefined) return `'${named[character]}'`;
  if (isPrintable(codePoint)) return `'${character}'`;
  return codePoint <= 0xff ? `'\\x${codePoint.toString(16).padStart(2, '0')}'` : `'\\u${codePoint.toString(16).padStart(4, '0')}'`;
}

function isPrintable(codePoint: number): boolean {
  return codePoint >= 0x20 && codePoint !== 0x7f && !(codePoint >= 0x80 && codePoint < 0xa0) && /\P{C}/u.test(String.fromCodePoint(codePoint));
}
