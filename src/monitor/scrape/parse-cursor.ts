/**
 * A cursor over one line of an exposition, with the token readers both formats share. It works on char
 * codes inside the original text, so a line is never copied unless a token is taken out of it.
 */
import { assert } from '../tsdb/index.ts';
import { ParseError } from './parse-errors.ts';
import type { ParseErrorCode } from './parse-errors.ts';

const space = 0x20;
const tab = 0x09;
const backslash = 0x5c;
const quote = 0x22;

/** How label values and help texts may be escaped. */
export interface EscapeRules {
  /** Whether `\"` is allowed (label values always; help text only in OpenMetrics). */
  readonly quote: boolean;
  /** Whether an unknown escape keeps its backslash instead of failing (text-format help text). */
  readonly keepUnknown: boolean;
}

export class LineCursor {
  readonly #text: string;
  #lineStart = 0;
  #lineEnd = 0;
  #position = 0;
  #lineNumber = 0;

  constructor(text: string) {
    this.#text = text;
  }

  /** Points the cursor at characters [start, end) of the text, which form line `lineNumber`. */
  reset(start: number, end: number, lineNumber: number): void {
    assert(start <= end && end <= this.#text.length, 'a line lies inside the text');
    this.#lineStart = start;
    this.#lineEnd = end;
    this.#position = start;
    this.#lineNumber = lineNumber;
  }

  get lineNumber(): number {
    return this.#lineNumber;
  }

  get position(): number {
    return this.#position;
  }

  atEnd(): boolean {
    return this.#position >= this.#lineEnd;
  }

  /** The char code at the cursor, or -1 at the end of the line. */
  peek(): number {
    return this.#position < this.#lineEnd ? this.#text.charCodeAt(this.#position) : -1;
  }

  advance(): void {
    assert(this.#position < this.#lineEnd, 'advance stays inside the line');
    this.#position += 1;
  }

  /** Whether the rest of the line starts with `prefix`; consumes it when it does. */
  take(prefix: string): boolean {
    if (this.#lineEnd - this.#position < prefix.length || !this.#text.startsWith(prefix, this.#position)) return false;
    this.#position += prefix.length;
    return true;
  }

  /** Skips spaces and tabs, returning how many. */
  skipBlanks(): number {
    const start = this.#position;
    while (this.#position < this.#lineEnd) {
      const code = this.#text.charCodeAt(this.#position);
      if (code !== space && code !== tab) break;
      this.#position += 1;
    }
    return this.#position - start;
  }

  /** Consumes exactly the character `code`, or fails. */
  expect(code: number, errorCode: ParseErrorCode, problem: string): void {
    if (this.peek() !== code) this.fail(errorCode, problem);
    this.#position += 1;
  }

  /** Reads characters up to the next space or tab (or the end); may be empty. */
  readToken(): string {
    const start = this.#position;
    while (this.#position < this.#lineEnd) {
      const code = this.#text.charCodeAt(this.#position);
      if (code === space || code === tab) break;
      this.#position += 1;
    }
    return this.#text.slice(start, this.#position);
  }

  /** The rest of the line, consumed. */
  readRest(): string {
    const rest = this.#text.slice(this.#position, this.#lineEnd);
    this.#position = this.#lineEnd;
    return rest;
  }

  /** A metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  readMetricName(): string {
    return this.#readName(true, 'SCRAPE_INVALID_METRIC_NAME', 'expected a metric name [a-zA-Z_:][a-zA-Z0-9_:]*');
  }

  /** A label name: `[a-zA-Z_][a-zA-Z0-9_]*`. */
  readLabelName(): string {
    return this.#readName(false, 'SCRAPE_INVALID_LABEL_NAME', 'expected a label name [a-zA-Z_][a-zA-Z0-9_]*');
  }

  /** A double-quoted, escaped label value. */
  readQuotedValue(): string {
    this.expect(quote, 'SCRAPE_INVALID_LABEL_VALUE', 'expected " to open a label value');
    const start = this.#position;
    while (this.#position < this.#lineEnd) {
      const code = this.#text.charCodeAt(this.#position);
      if (code === quote) {
        const value = this.unescape(start, this.#position, { quote: true, keepUnknown: false }, 'SCRAPE_INVALID_LABEL_VALUE');
        this.#position += 1;
        return value;
      }
      this.#position += code === backslash ? 2 : 1;
    }
    return this.failAt(start - 1, 'SCRAPE_INVALID_LABEL_VALUE', 'label value has no closing "');
  }

  /** Undoes `\\`, `\n` and (per `rules`) `\"` in characters [start, end). */
  unescape(start: number, end: number, rules: EscapeRules, errorCode: ParseErrorCode): string {
    const raw = this.#text.slice(start, end);
    if (!raw.includes('\\')) return raw;
    let result = '';
    for (let index = 0; index < raw.length; index += 1) {
      const character = raw[index]!;
      if (character !== '\\') {
        result += character;
        continue;
      }
      const next = raw[index + 1];
      if (next === '\\' || next === 'n' || (next === '"' && rules.quote)) {
        result += next === 'n' ? '\n' : next;
        index += 1;
      } else if (rules.keepUnknown) {
        result += character;
      } else {
        this.failAt(start + index, errorCode, `invalid escape sequence \\${next ?? ''}`);
      }
    }
    return result;
  }

  /** Fails at the cursor. */
  fail(code: ParseErrorCode, problem: string): never {
    return this.failAt(this.#position, code, problem);
  }

  /** Fails at an absolute text offset inside the current line. */
  failAt(offset: number, code: ParseErrorCode, problem: string): never {
    throw new ParseError(code, problem, this.#lineNumber, offset - this.#lineStart + 1);
  }

  #readName(allowColon: boolean, code: ParseErrorCode, problem: string): string {
    const start = this.#position;
    while (this.#position < this.#lineEnd && isNameCharacter(this.#text.charCodeAt(this.#position), this.#position === start, allowColon)) {
      this.#position += 1;
    }
    if (this.#position === start) this.fail(code, problem);
    return this.#text.slice(start, this.#position);
  }
}

function isNameCharacter(code: number, first: boolean, allowColon: boolean): boolean {
  if ((code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f) return true;
  if (code === 0x3a) return allowColon;
  return !first && code >= 0x30 && code <= 0x39;
}
