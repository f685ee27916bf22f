/**
 * A parser for the RE2 syntax that Prometheus label matchers accept (Go's regexp/syntax with Perl flags),
 * producing a small AST. JavaScript's RegExp cannot be used on the pattern directly: it accepts things RE2
 * rejects (backreferences, lookaround), rejects things RE2 accepts (`\Q..\E`, `[[:alpha:]]`, `(?i)` in the
 * middle, a lone `{`), and gives others a different meaning (`\s`, `.`, `$`). So the pattern is parsed
 * here, checked against RE2's rules, and then emitted as an equivalent JavaScript pattern (regex-compile.ts).
 */
import { TsdbError } from '../errors.ts';
import type { TsdbErrorCode } from '../errors.ts';

/** Longest pattern accepted; big alternations from dashboards stay far below it. */
export const regexPatternLengthMax = 1 << 20;
/** Deepest group nesting accepted; RE2 uses the same bound. */
export const regexNestingDepthMax = 1000;
/** Largest `{n,m}` bound accepted; RE2 uses the same bound. */
export const regexRepeatCountMax = 1000;

const codePointMax = 0x10ffff;

/** An inclusive code point range. */
export type CodePointRange = readonly [low: number, high: number];

/** A Unicode property in JavaScript's `\p{...}` spelling (`L`, `Script=Greek`, `Any`). */
export interface UnicodeProperty {
  readonly expression: string;
  readonly negated: boolean;
}

export type AssertionKind = 'text-begin' | 'text-end' | 'line-begin' | 'line-end' | 'word-boundary' | 'not-word-boundary';

export type RegexNode =
  | { readonly kind: 'empty' }
  | { readonly kind: 'literal'; readonly codePoint: number; readonly foldCase: boolean }
  | {
    readonly kind: 'class';
    readonly ranges: readonly CodePointRange[];
    readonly properties: readonly UnicodeProperty[];
    readonly negated: boolean;
    readonly foldCase: boolean;
  }
  | { readonly kind: 'any'; readonly matchesNewline: boolean }
  | { readonly kind: 'assertion'; readonly assertion: AssertionKind }
  | { readonly kind: 'concat'; readonly items: readonly RegexNode[] }
  | { readonly kind: 'alternate'; readonly branches: readonly RegexNode[] }
  | { readonly kind: 'repeat'; readonly item: RegexNode; readonly min: number; readonly max: number };

interface Flags {
  foldCase: boolean;
  multiLine: boolean;
  dotAll: boolean;
}

const generalCategories = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);

const digitRanges: CodePointRange[] = [[0x30, 0x39]];
const spaceRanges: CodePointRange[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];
const wordRanges: CodePointRange[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];

const posixClasses = new Map<string, CodePointRange[]>([
  ['alnum', [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]],
  ['alpha', [[0x41, 0x5a], [0x61, 0x7a]]],
  ['ascii', [[0x00, 0x7f]]],
  ['blank', [[0x09, 0x09], [0x20, 0x20]]],
  ['cntrl', [[0x00, 0x1f], [0x7f, 0x7f]]],
  ['digit', [[0x30, 0x39]]],
  ['graph', [[0x21, 0x7e]]],
  ['lower', [[0x61, 0x7a]]],
  ['print', [[0x20, 0x7e]]],
  ['punct', [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]],
  ['space', [[0x09, 0x0d], [0x20, 0x20]]],
  ['upper', [[0x41, 0x5a]]],
  ['word', [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]],
  ['xdigit', [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]],
]);

/**
 * Parses `pattern` with Prometheus's defaults: `.` matches newlines (the pattern is wrapped in `(?s:...)`).
 * Throws `TSDB_INVALID_REGEX` for syntax errors and `TSDB_UNSUPPORTED_REGEX` for constructs RE2 lacks.
 *
 * @example
 * parseRegex('a|b').kind; // 'alternate'
 */
export function parseRegex(pattern: string): RegexNode {
  return new RegexParser(pattern).parse();
}

/** Sorts and merges overlapping or adjacent ranges. */
export function normalizeRanges(ranges: readonly CodePointRange[]): CodePointRange[] {
  const sorted = [...ranges].sort((left, right) => left[0] - right[0]);
  const merged: [number, number][] = [];
  for (const [low, high] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return merged;
}

/** The code points not in `ranges`. */
export function complementRanges(ranges: readonly CodePointRange[]): CodePointRange[] {
  const result: CodePointRange[] = [];
  let next = 0;
  for (const [low, high] of normalizeRanges(ranges)) {
    if (low > next) result.push([next, low - 1]);
    next = high + 1;
  }
  if (next <= codePointMax) result.push([next, codePointMax]);
  return result;
}

class RegexParser {
  readonly #pattern: string;
  #position = 0;
  #depth = 0;
  #flags: Flags = { foldCase: false, multiLine: false, dotAll: true };
  #captureNames = new Set<string>();

  constructor(pattern: string) {
    this.#pattern = pattern;
  }

  parse(): RegexNode {
    if (this.#pattern.length > regexPatternLengthMax) {
      this.#fail('TSDB_INVALID_REGEX', `pattern is longer than ${regexPatternLengthMax} characters`);
    }
    const node = this.#parseAlternation();
    if (this.#position < this.#pattern.length) this.#fail('TSDB_INVALID_REGEX', 'unexpected )');
    return node;
  }

  #parseAlternation(): RegexNode {
    const branches: RegexNode[] = [];
    while (true) {
      const branch = this.#parseConcat();
      if (branch.kind === 'alternate') branches.push(...branch.branches);
      else branches.push(branch);
      if (this.#peek() !== '|') break;
      this.#position += 1;
    }
    return branches.length === 1 ? branches[0]! : { kind: 'alternate', branches };
  }

  #parseConcat(): RegexNode {
    const items: RegexNode[] = [];
    while (this.#position < this.#pattern.length) {
      const character = this.#peek();
      if (character === '|' || character === ')') break;
      const atom = this.#parseAtom();
      if (atom === undefined) continue;
      const item = this.#parseRepetition(atom);
      if (item.kind === 'concat') items.push(...item.items);
      else if (item.kind !== 'empty') items.push(item);
    }
    if (items.length === 0) return { kind: 'empty' };
    return items.length === 1 ? items[0]! : { kind: 'concat', items };
  }

  /** One atom, or undefined for a flag group such as `(?i)` that only changes the flags. */
  #parseAtom(): RegexNode | undefined {
    const character = this.#peek();
    switch (character) {
      case '(':
        return this.#parseGroup();
      case '[':
        return this.#parseClass();
      case '.':
        this.#position += 1;
        return { kind: 'any', matchesNewline: this.#flags.dotAll };
      case '^':
        this.#position += 1;
        return { kind: 'assertion', assertion: this.#flags.multiLine ? 'line-begin' : 'text-begin' };
      case '$':
        this.#position += 1;
        return { kind: 'assertion', assertion: this.#flags.multiLine ? 'line-end' : 'text-end' };
      case '\\':
        return this.#parseEscapeAtom();
      case '*':
      case '+':
      case '?':
        return this.#fail('TSDB_INVALID_REGEX', `missing argument to repetition operator ${character}`);
      case '{':
        if (this.#repeatBoundsAt(this.#position) !== undefined) {
          this.#fail('TSDB_INVALID_REGEX', 'missing argument to repetition operator {');
        }
        break;
    }
    return this.#literal(this.#takeCodePoint());
  }

  #parseRepetition(atom: RegexNode): RegexNode {
    const bounds = this.#takeRepeatOperator();
    if (bounds === undefined) return atom;
    if (this.#peek() === '?') this.#position += 1; // Non-greedy: the same set of full matches.
    if (this.#takeRepeatOperator() !== undefined) {
      this.#fail('TSDB_INVALID_REGEX', 'invalid nested repetition operator');
    }
    return { kind: 'repeat', item: atom, min: bounds[0], max: bounds[1] };
  }

  #takeRepeatOperator(): readonly [number, number] | undefined {
    const character = this.#peek();
    if (character === '*' || character === '+' || character === '?') {
      this.#position += 1;
      return character === '*' ? [0, Infinity] : character === '+' ? [1, Infinity] : [0, 1];
    }
    if (character !== '{') return undefined;
    const repeat = this.#repeatBoundsAt(this.#position);
    if (repeat === undefined) return undefined; // RE2 reads a `{` that starts no valid bound as a literal.
    const [minimum, maximum, end] = repeat;
    const bounded = maximum !== Infinity;
    if (minimum > regexRepeatCountMax || (bounded && (maximum > regexRepeatCountMax || maximum < minimum))) {
      this.#fail('TSDB_INVALID_REGEX', `invalid repeat count {${minimum},${maximum === Infinity ? '' : maximum}}`);
    }
    this.#position = end;
    return [minimum, maximum];
  }

  /** Parses `{n}`, `{n,}` or `{n,m}` at `start`, returning the bounds and the end offset. */
  #repeatBoundsAt(start: number): readonly [number, number, number] | undefined {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(this.#pattern.slice(start, start + 24));
    if (match === null) return undefined;
    const minimum = Number(match[1]);
    const maximum = match[2] === undefined ? minimum : match[3] === '' ? Infinity : Number(match[3]);
    return [minimum, maximum, start + match[0].length];
  }

  #parseGroup(): RegexNode | undefined {
    const openAt = this.#position;
    this.#position += 1;
    const savedFlags = { ...this.#flags };
    if (this.#peek() === '?') {
      const flagOnly = this.#parseGroupPrefix();
      if (flagOnly) return undefined;
    }
    this.#depth += 1;
    if (this.#depth > regexNestingDepthMax) {
      this.#fail('TSDB_INVALID_REGEX', `groups nest deeper than ${regexNestingDepthMax}`);
    }
    const node = this.#parseAlternation();
    if (this.#peek() !== ')') this.#failAt(openAt, 'TSDB_INVALID_REGEX', 'missing closing )');
    this.#position += 1;
    this.#depth -= 1;
    this.#flags = savedFlags;
    return node;
  }

  /** Reads what follows `(?`. Returns true for `(?flags)`, which changes the flags of the enclosing group. */
  #parseGroupPrefix(): boolean {
    const rest = this.#pattern.slice(this.#position, this.#position + 4);
    if (rest.startsWith('?=') || rest.startsWith('?!')) {
      this.#fail('TSDB_UNSUPPORTED_REGEX', 'lookahead (?= and (?! is not supported by RE2');
    }
    if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
      this.#fail('TSDB_UNSUPPORTED_REGEX', 'lookbehind (?<= and (?<! is not supported by RE2');
    }
    if (rest.startsWith('?P=') || rest.startsWith('?P>')) {
      this.#fail('TSDB_UNSUPPORTED_REGEX', 'backreferences and recursion are not supported by RE2');
    }
    if (rest.startsWith('?>')) this.#fail('TSDB_UNSUPPORTED_REGEX', 'atomic groups (?> are not supported by RE2');
    if (rest.startsWith('?P<') || rest.startsWith('?<')) {
      this.#parseCaptureName(rest.startsWith('?P<') ? 3 : 2);
      return false;
    }
    return this.#parseFlags();
  }

  #parseCaptureName(prefixLength: number): void {
    const nameStart = this.#position + prefixLength;
    const nameEnd = this.#pattern.indexOf('>', nameStart);
    const name = nameEnd < 0 ? '' : this.#pattern.slice(nameStart, nameEnd);
    if (!/^[A-Za-z0-9_]+$/.test(name)) this.#fail('TSDB_INVALID_REGEX', 'invalid named capture');
    if (this.#captureNames.has(name)) this.#fail('TSDB_INVALID_REGEX', `duplicate capture group name ${name}`);
    this.#captureNames.add(name);
    this.#position = nameEnd + 1;
  }

  /** Parses `?flags)` or `?flags:` (flags from `imsU`, optionally negated after one `-`). */
  #parseFlags(): boolean {
    const flagsStart = this.#position;
    this.#position += 1;
    let negate = false;
    let sawFlag = false;
    while (this.#position < this.#pattern.length) {
      const character = this.#pattern[this.#position]!;
      this.#position += 1;
      if (character === ':' || character === ')') {
        // `(?:` with no flags is a plain non-capturing group, as in RE2; `(?)` and `(?-:` are errors.
        if (character === ':' && !sawFlag && !negate) return false;
        if (!sawFlag) break;
        return character === ')';
      }
      if (character === '-' && !negate) {
        negate = true;
        sawFlag = false;
        continue;
      }
      if (!this.#applyFlag(character, !negate)) break;
      sawFlag = true;
    }
    return this.#failAt(flagsStart, 'TSDB_INVALID_REGEX', 'invalid or unsupported Perl syntax after (');
  }

  #applyFlag(flag: string, value: boolean): boolean {
    if (flag === 'i') this.#flags.foldCase = value;
    else if (flag === 'm') this.#flags.multiLine = value;
    else if (flag === 's') this.#flags.dotAll = value;
    else if (flag !== 'U') return false; // Ungreedy swaps preference only; full matches are unchanged.
    return true;
  }

  #parseEscapeAtom(): RegexNode {
    const next = this.#pattern[this.#position + 1];
    const assertion = next === 'A' ? 'text-begin' : next === 'z' ? 'text-end' : next === 'b' ? 'word-boundary'
      : next === 'B' ? 'not-word-boundary' : undefined;
    if (assertion !== undefined) {
      this.#position += 2;
      return { kind: 'assertion', assertion };
    }
    if (next === 'Q') return this.#parseQuoted();
    const perlClass = this.#tryPerlClass();
    if (perlClass !== undefined) return this.#class(perlClass, [], false);
    const property = this.#tryUnicodeProperty();
    if (property !== undefined) return this.#class([], [property], false);
    return this.#literal(this.#parseEscapedCodePoint());
  }

  /** `\Q...\E`: everything up to `\E` (or the end) is literal. */
  #parseQuoted(): RegexNode {
    this.#position += 2;
    const end = this.#pattern.indexOf('\\E', this.#position);
    const text = this.#pattern.slice(this.#position, end < 0 ? this.#pattern.length : end);
    this.#position = end < 0 ? this.#pattern.length : end + 2;
    const items = Array.from(text, (character) => this.#literal(character.codePointAt(0)!));
    return items.length === 0 ? { kind: 'empty' } : items.length === 1 ? items[0]! : { kind: 'concat', items };
  }

  #parseClass(): RegexNode {
    const openAt = this.#position;
    this.#position += 1;
    const negated = this.#peek() === '^';
    if (negated) this.#position += 1;
    const ranges: CodePointRange[] = [];
    const properties: UnicodeProperty[] = [];
    // RE2 reads a `]` right after `[` or `[^` as a literal, so a class is never empty.
    let first = true;
    while (first || this.#peek() !== ']') {
      if (this.#position >= this.#pattern.length) this.#failAt(openAt, 'TSDB_INVALID_REGEX', 'missing closing ]');
      first = false;
      const posix = this.#tryPosixClass();
      const perl = posix ?? this.#tryPerlClass();
      if (perl !== undefined) {
        ranges.push(...perl);
        continue;
      }
      const property = this.#tryUnicodeProperty();
      if (property !== undefined) properties.push(property);
      else ranges.push(this.#parseClassRange());
    }
    this.#position += 1;
    return this.#class(ranges, properties, negated);
  }

  #parseClassRange(): CodePointRange {
    const rangeStart = this.#position;
    const low = this.#parseClassCodePoint();
    if (this.#peek() !== '-' || this.#pattern[this.#position + 1] === ']' || this.#position + 1 >= this.#pattern.length) {
      return [low, low];
    }
    this.#position += 1;
    const high = this.#parseClassCodePoint();
    if (high < low) this.#failAt(rangeStart, 'TSDB_INVALID_REGEX', 'invalid character class range');
    return [low, high];
  }

  #parseClassCodePoint(): number {
    if (this.#position >= this.#pattern.length) this.#fail('TSDB_INVALID_REGEX', 'missing closing ]');
    return this.#peek() === '\\' ? this.#parseEscapedCodePoint() : this.#takeCodePoint();
  }

  #tryPosixClass(): CodePointRange[] | undefined {
    if (!this.#pattern.startsWith('[:', this.#position)) return undefined;
    const end = this.#pattern.indexOf(':]', this.#position + 2);
    if (end < 0) return undefined; // RE2 then reads the `[` as a literal.
    const text = this.#pattern.slice(this.#position + 2, end);
    const negated = text.startsWith('^');
    const ranges = posixClasses.get(negated ? text.slice(1) : text);
    if (ranges === undefined) this.#fail('TSDB_INVALID_REGEX', `invalid character class range [:${text}:]`);
    this.#position = end + 2;
    return negated ? complementRanges(ranges) : ranges;
  }

  /** `\d \D \s \S \w \W`, with RE2's ASCII-only meaning. */
  #tryPerlClass(): CodePointRange[] | undefined {
    if (this.#peek() !== '\\') return undefined;
    const letter = this.#pattern[this.#position + 1];
    const lower = letter?.toLowerCase();
    const ranges = lower === 'd' ? digitRanges : lower === 's' ? spaceRanges : lower === 'w' ? wordRanges : undefined;
    if (ranges === undefined || letter === undefined) return undefined;
    this.#position += 2;
    return letter === lower ? ranges : complementRanges(ranges);
  }

  /** `\pL`, `\p{Greek}`, `\p{^Greek}`, `\PL`. */
  #tryUnicodeProperty(): UnicodeProperty | undefined {
    if (this.#peek() !== '\\') return undefined;
    const letter = this.#pattern[this.#position + 1];
    if (letter !== 'p' && letter !== 'P') return undefined;
    let negated = letter === 'P';
    let name: string;
    if (this.#pattern[this.#position + 2] === '{') {
      const end = this.#pattern.indexOf('}', this.#position + 3);
      if (end < 0) this.#fail('TSDB_INVALID_REGEX', 'invalid character class range: missing }');
      name = this.#pattern.slice(this.#position + 3, end);
      this.#position = end + 1;
    } else {
      name = this.#pattern[this.#position + 2] ?? '';
      this.#position += 3;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    return { expression: this.#propertyExpression(name), negated };
  }

  #propertyExpression(name: string): string {
    if (name === 'Any' || generalCategories.has(name)) return name;
    const expression = `Script=${name}`;
    if (!/^[A-Za-z_]+$/.test(name) || !isSupportedProperty(expression)) {
      this.#fail('TSDB_INVALID_REGEX', `invalid character class range: unknown Unicode class ${name}`);
    }
    return expression;
  }

  /** An escape that stands for one code point. */
  #parseEscapedCodePoint(): number {
    const escapeAt = this.#position;
    this.#position += 1;
    if (this.#position >= this.#pattern.length) this.#fail('TSDB_INVALID_REGEX', 'trailing backslash at end of expression');
    const character = this.#pattern[this.#position]!;
    this.#position += 1;
    const simple = simpleEscapes.get(character);
    if (simple !== undefined) return simple;
    if (character >= '0' && character <= '7') {
      const octal = this.#tryOctal(character);
      if (octal !== undefined) return octal;
    }
    if (character >= '1' && character <= '9') {
      this.#failAt(escapeAt, 'TSDB_UNSUPPORTED_REGEX', `backreference \\${character} is not supported by RE2`);
    }
    if (character === 'x') return this.#parseHexEscape(escapeAt);
    const unit = character.charCodeAt(0);
    if (unit < 0x80 && !/[A-Za-z0-9]/.test(character)) return unit;
    return this.#failAt(escapeAt, escapeErrorCode(character), escapeErrorMessage(character));
  }

  /** `\0`, `\012`, and `\1x` only when another octal digit follows: a lone `\1`..`\9` is a backreference. */
  #tryOctal(firstDigit: string): number | undefined {
    const next = this.#pattern[this.#position];
    const nextIsOctal = next !== undefined && next >= '0' && next <= '7';
    if (firstDigit !== '0' && !nextIsOctal) return undefined;
    let value = Number(firstDigit);
    for (let digits = 1; digits < 3; digits += 1) {
      const digit = this.#pattern[this.#position];
      if (digit === undefined || digit < '0' || digit > '7') break;
      value = value * 8 + Number(digit);
      this.#position += 1;
    }
    return value;
  }

  #parseHexEscape(escapeAt: number): number {
    const braced = this.#peek() === '{';
    const match = braced
      ? /^\{([0-9A-Fa-f]{1,8})\}/.exec(this.#pattern.slice(this.#position, this.#position + 10))
      : /^[0-9A-Fa-f]{2}/.exec(this.#pattern.slice(this.#position, this.#position + 2));
    const digits = match === null ? undefined : braced ? match[1] : match[0];
    const value = digits === undefined ? NaN : parseInt(digits, 16);
    if (match === null || !(value <= codePointMax)) this.#failAt(escapeAt, 'TSDB_INVALID_REGEX', 'invalid escape sequence \\x');
    this.#position += match[0].length;
    return value;
  }

  #literal(codePoint: number): RegexNode {
    return { kind: 'literal', codePoint, foldCase: this.#flags.foldCase };
  }

  #class(ranges: readonly CodePointRange[], properties: readonly UnicodeProperty[], negated: boolean): RegexNode {
    return { kind: 'class', ranges: normalizeRanges(ranges), properties, negated, foldCase: this.#flags.foldCase };
  }

  #peek(): string | undefined {
    return this.#pattern[this.#position];
  }

  #takeCodePoint(): number {
    const codePoint = this.#pattern.codePointAt(this.#position)!;
    this.#position += codePoint > 0xffff ? 2 : 1;
    return codePoint;
  }

  #fail(code: TsdbErrorCode, problem: string): never {
    return this.#failAt(this.#position, code, problem);
  }

  #failAt(offset: number, code: TsdbErrorCode, problem: string): never {
    throw new TsdbError(code, `Regular expression ${JSON.stringify(this.#pattern)}: ${problem} (at offset ${offset}).`);
  }
}

const simpleEscapes = new Map<string, number>([['a', 7], ['f', 12], ['t', 9], ['n', 10], ['r', 13], ['v', 11]]);

/** Escapes JavaScript knows but RE2 lacks get their own code, so users learn it is deliberate. */
function escapeErrorCode(character: string): TsdbErrorCode {
  return character === 'k' || character === 'u' || character === 'c' ? 'TSDB_UNSUPPORTED_REGEX' : 'TSDB_INVALID_REGEX';
}

function escapeErrorMessage(character: string): string {
  if (character === 'k') return 'named backreference \\k is not supported by RE2';
  if (character === 'u') return 'escape \\u is not RE2 syntax; use \\x{...}';
  if (character === 'c') return 'control escape \\c is not RE2 syntax; use \\x..';
  return `invalid escape sequence \\${character}`;
}

const propertySupport = new Map<string, boolean>();

function isSupportedProperty(expression: string): boolean {
  let supported = propertySupport.get(expression);
  if (supported === undefined) {
    try {
      new RegExp(`\\p{${expression}}`, 'u');
      supported = true;
    } catch {
      supported = false;
    }
    propertySupport.set(expression, supported);
  }
  return supported;
}
