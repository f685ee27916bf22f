/**
 * Relabelling regexes: RE2 syntax, anchored at both ends, with capture groups for `$1`/`${name}`
 * templates, as Prometheus's relabel.Regexp (`^(?:` + pattern + `)$`, compiled by Go's regexp; `.` does
 * not match a newline unless `(?s)` says so).
 *
 * The pattern is first checked by the store's RE2 parser (src/monitor/tsdb/index/regex-syntax.ts), so
 * anything RE2 rejects fails with the same errors as a PromQL matcher. That parser drops capture groups,
 * so this file translates the checked pattern a second time into a JavaScript RegExp that keeps them:
 * RE2's ASCII `\s`, POSIX classes, `\Q...\E`, `(?P<name>...)`, and the `i`, `m`, `s`, `U` flags scoped to
 * groups are rewritten into what JavaScript's `u` mode understands. Case folding under `(?i)` uses
 * JavaScript's simple upper/lower mappings, which misses a few Unicode fold orbits (the Kelvin sign).
 */
import { assert, TsdbError } from '../tsdb/index.ts';
import { complementRanges, normalizeRanges, parseRegex } from '../tsdb/index/regex-syntax.ts';
import type { CodePointRange } from '../tsdb/index/regex-syntax.ts';

/** Ranges wider than this are not case-folded code point by code point. */
const caseFoldRangeSpanMax = 0x3000;

interface Flags {
  foldCase: boolean;
  multiLine: boolean;
  dotAll: boolean;
  ungreedy: boolean;
}

/** One piece of a compiled `$1`/`${name}` template. */
type TemplatePart = string | { readonly group: number };

/** A compiled relabelling regex. */
export interface RelabelRegex {
  /** The pattern as written in the configuration (without the anchors). */
  readonly source: string;
  /** `^(?:...)$` in JavaScript's dialect, with the `u` flag. */
  readonly regExp: RegExp;
  /** Number of capture groups. */
  readonly groupCount: number;
  /** Group index of each named group. */
  readonly groupNames: ReadonlyMap<string, number>;
}

const digitRanges: CodePointRange[] = [[0x30, 0x39]];
const spaceRanges: CodePointRange[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];
const wordRanges: CodePointRange[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const posixClasses = new Map<string, CodePointRange[]>([
  ['alnum', [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]], ['alpha', [[0x41, 0x5a], [0x61, 0x7a]]], ['ascii', [[0x00, 0x7f]]],
  ['blank', [[0x09, 0x09], [0x20, 0x20]]], ['cntrl', [[0x00, 0x1f], [0x7f, 0x7f]]], ['digit', [[0x30, 0x39]]],
  ['graph', [[0x21, 0x7e]]], ['lower', [[0x61, 0x7a]]], ['print', [[0x20, 0x7e]]],
  ['punct', [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]], ['space', [[0x09, 0x0d], [0x20, 0x20]]],
  ['upper', [[0x41, 0x5a]]], ['word', [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]],
  ['xdigit', [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]],
]);
const simpleEscapes = new Map<string, number>([['a', 7], ['f', 12], ['t', 9], ['n', 10], ['r', 13], ['v', 11]]);
const generalCategories = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);
const repeatPattern = /^\{(\d+)(?:(,)(\d*))?\}/;

/**
 * Compiles a relabelling regex. Throws a TsdbError (`TSDB_INVALID_REGEX` or `TSDB_UNSUPPORTED_REGEX`)
 * for a pattern RE2 would reject.
 *
 * @example
 * const regex = compileRelabelRegex('(.+):(\\d+)');
 * regex.regExp.exec('host:9100')?.[2]; // '9100'
 */
export function compileRelabelRegex(source: string): RelabelRegex {
  checkSyntax(source); // RE2's rules and error messages; the translation below trusts them.
  const translator = new Translator(source);
  const body = translator.translate();
  let regExp: RegExp;
  try {
    regExp = new RegExp(`^(?:${body})$`, 'u');
  } catch (error) {
    throw new TsdbError('TSDB_INVALID_REGEX', `Regular expression ${JSON.stringify(source)} could not be compiled.`, { cause: error });
  }
  return { source, regExp, groupCount: translator.groupCount, groupNames: translator.groupNames };
}

/**
 * Checks `source` with the store's RE2 parser. That parser refuses the plain non-capturing group `(?:`
 * (valid RE2), so the check sees `(` there instead: for syntax the two are the same, and the rewrite
 * cannot make an invalid pattern valid (`(?:` never follows anything that `(` could not).
 */
function checkSyntax(source: string): void {
  const checked = source.replaceAll('(?:', '(');
  try {
    parseRegex(checked);
  } catch (error) {
    if (!(error instanceof TsdbError) || checked === source) throw error;
    throw new TsdbError(error.code, error.message.replace(JSON.stringify(checked), JSON.stringify(source)), { cause: error });
  }
}

/**
 * Compiles a replacement template with Go's regexp.Expand rules: `$$` is a dollar sign, `$name` takes the
 * longest run of letters, digits and underscores (so `$1x` names the group `1x`), `${name}` is braced,
 * an all-digit name is a group number, a group that does not exist expands to nothing, and a `$` that
 * starts no valid name stays literal.
 *
 * @example
 * const template = compileTemplate('${1}-suffix', compileRelabelRegex('(.*)'));
 */
export function compileTemplate(template: string, regex: RelabelRegex): readonly TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let rest = template;
  while (rest !== '') {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    literal += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      literal += '$';
      rest = rest.slice(1);
      continue;
    }
    const reference = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(rest);
    if (reference === null) {
      literal += '$';
      continue;
    }
    rest = rest.slice(reference[0].length);
    const group = groupOfName(reference[1] ?? reference[2]!, regex);
    if (literal !== '') parts.push(literal);
    literal = '';
    if (group !== undefined) parts.push({ group });
  }
  literal += rest;
  if (literal !== '') parts.push(literal);
  return parts;
}

/** Expands a compiled template against a match. */
export function expandTemplate(parts: readonly TemplatePart[], match: RegExpExecArray): string {
  let result = '';
  for (const part of parts) result += typeof part === 'string' ? part : (match[part.group] ?? '');
  return result;
}

function groupOfName(name: string, regex: RelabelRegex): number | undefined {
  // A number (no leading zero, below Go's 1e8 cut-off) is a group index; anything else a group name.
  if (/^(?:0|[1-9]\d{0,7})$/.test(name)) {
    const index = Number(name);
    return index <= regex.groupCount ? index : undefined;
  }
  return regex.groupNames.get(name);
}

class Translator {
  readonly #pattern: string;
  #position = 0;
  #flags: Flags = { foldCase: false, multiLine: false, dotAll: false, ungreedy: false };
  readonly #savedFlags: Flags[] = [];
  groupCount = 0;
  readonly groupNames = new Map<string, number>();

  constructor(pattern: string) {
    this.#pattern = pattern;
  }

  translate(): string {
    let output = '';
    while (this.#position < this.#pattern.length) output += this.#translateToken();
    assert(this.#savedFlags.length === 0, 'groups are balanced in a checked pattern');
    return output;
  }

  #translateToken(): string {
    const character = this.#pattern[this.#position]!;
    switch (character) {
      case '\\':
        return this.#translateEscape();
      case '[':
        return this.#translateClass();
      case '(':
        return this.#translateGroupOpen();
      case ')':
        this.#position += 1;
        this.#flags = this.#savedFlags.pop()!;
        return ')';
      case '.':
        this.#position += 1;
        return this.#flags.dotAll ? '[^]' : '[^\\n]';
      case '^':
        this.#position += 1;
        return this.#flags.multiLine ? '(?:^|(?<=\\n))' : '^';
      case '$':
        this.#position += 1;
        return this.#flags.multiLine ? '(?:$|(?=\\n))' : '$';
      case '*':
      case '+':
      case '?':
        this.#position += 1;
        return character + this.#laziness();
      case '{':
        return this.#translateBrace();
      case '|':
        this.#position += 1;
        return '|';
      default:
        return this.#literal(this.#takeCodePoint());
    }
  }

  /** The `?` that makes a repetition lazy, after RE2's `U` flag swapped the default. */
  #laziness(): string {
    const lazyMark = this.#pattern[this.#position] === '?';
    if (lazyMark) this.#position += 1;
    return lazyMark !== this.#flags.ungreedy ? '?' : '';
  }

  #translateBrace(): string {
    const repeat = repeatPattern.exec(this.#pattern.slice(this.#position, this.#position + 24));
    if (repeat === null) {
      this.#position += 1;
      return this.#literal(0x7b); // RE2 reads a `{` that starts no repetition as a literal.
    }
    this.#position += repeat[0].length;
    return repeat[0] + this.#laziness();
  }

  #translateGroupOpen(): string {
    this.#position += 1;
    if (this.#pattern[this.#position] !== '?') {
      this.#openGroup();
      this.groupCount += 1;
      return '(';
    }
    const named = /^\?P?<([A-Za-z0-9_]+)>/.exec(this.#pattern.slice(this.#position, this.#position + 256));
    if (named !== null) {
      this.#position += named[0].length;
      this.#openGroup();
      this.groupCount += 1;
      this.groupNames.set(named[1]!, this.groupCount);
      return '(';
    }
    const flags = /^\?([imsU-]*)([:)])/.exec(this.#pattern.slice(this.#position, this.#position + 16));
    assert(flags !== null, 'a checked pattern has only named groups and flag groups after (?');
    this.#position += flags[0].length;
    if (flags[2] === ')') {
      this.#flags = applyFlags(this.#flags, flags[1]!);
      return '';
    }
    this.#openGroup();
    this.#flags = applyFlags(this.#flags, flags[1]!);
    return '(?:';
  }

  #openGroup(): void {
    this.#savedFlags.push({ ...this.#flags });
  }

  #translateEscape(): string {
    const letter = this.#pattern[this.#position + 1];
    if (letter === 'A' || letter === 'z') {
      this.#position += 2;
      return letter === 'A' ? '^' : '$';
    }
    if (letter === 'b' || letter === 'B') {
      this.#position += 2;
      return `\\${letter}`;
    }
    if (letter === 'Q') return this.#translateQuoted();
    const perl = this.#tryPerlClass();
    if (perl !== undefined) return emitClass(this.#fold(perl), [], false);
    const property = this.#tryProperty();
    if (property !== undefined) return property;
    return this.#literal(this.#escapedCodePoint());
  }

  #translateQuoted(): string {
    this.#position += 2;
    const end = this.#pattern.indexOf('\\E', this.#position);
    const text = this.#pattern.slice(this.#position, end < 0 ? this.#pattern.length : end);
    this.#position = end < 0 ? this.#pattern.length : end + 2;
    return Array.from(text, (character) => this.#literal(character.codePointAt(0)!)).join('');
  }

  #translateClass(): string {
    this.#position += 1;
    const negated = this.#pattern[this.#position] === '^';
    if (negated) this.#position += 1;
    const ranges: CodePointRange[] = [];
    const properties: string[] = [];
    let first = true;
    while (first || this.#pattern[this.#position] !== ']') {
      assert(this.#position < this.#pattern.length, 'a checked pattern closes its classes');
      first = false;
      const set = this.#tryPosixClass() ?? this.#tryPerlClass();
      if (set !== undefined) {
        ranges.push(...set);
        continue;
      }
      const property = this.#tryProperty();
      if (property !== undefined) properties.push(property);
      else ranges.push(this.#classRange());
    }
    this.#position += 1;
    return emitClass(this.#fold(ranges), properties, negated);
  }

  #classRange(): CodePointRange {
    const low = this.#classCodePoint();
    const next = this.#pattern[this.#position + 1];
    if (this.#pattern[this.#position] !== '-' || next === ']' || next === undefined) return [low, low];
    this.#position += 1;
    return [low, this.#classCodePoint()];
  }

  #classCodePoint(): number {
    return this.#pattern[this.#position] === '\\' ? this.#escapedCodePoint() : this.#takeCodePoint();
  }

  #tryPosixClass(): CodePointRange[] | undefined {
    if (!this.#pattern.startsWith('[:', this.#position)) return undefined;
    const end = this.#pattern.indexOf(':]', this.#position + 2);
    if (end < 0) return undefined;
    const name = this.#pattern.slice(this.#position + 2, end);
    const negated = name.startsWith('^');
    const ranges = posixClasses.get(negated ? name.slice(1) : name);
    assert(ranges !== undefined, 'a checked pattern names known POSIX classes');
    this.#position = end + 2;
    return negated ? complementRanges(ranges) : ranges;
  }

  #tryPerlClass(): CodePointRange[] | undefined {
    if (this.#pattern[this.#position] !== '\\') return undefined;
    const letter = this.#pattern[this.#position + 1];
    const lower = letter?.toLowerCase();
    const ranges = lower === 'd' ? digitRanges : lower === 's' ? spaceRanges : lower === 'w' ? wordRanges : undefined;
    if (ranges === undefined) return undefined;
    this.#position += 2;
    return letter === lower ? ranges : complementRanges(ranges);
  }

  /** `\pL`, `\p{Greek}`, `\p{^Greek}`, `\PL` as JavaScript's `\p{...}`/`\P{...}`. */
  #tryProperty(): string | undefined {
    if (this.#pattern[this.#position] !== '\\') return undefined;
    const letter = this.#pattern[this.#position + 1];
    if (letter !== 'p' && letter !== 'P') return undefined;
    let negated = letter === 'P';
    let name: string;
    if (this.#pattern[this.#position + 2] === '{') {
      const end = this.#pattern.indexOf('}', this.#position + 3);
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
    const expression = name === 'Any' || generalCategories.has(name) ? name : `Script=${name}`;
    return `\\${negated ? 'P' : 'p'}{${expression}}`;
  }

  #escapedCodePoint(): number {
    this.#position += 1;
    const character = this.#pattern[this.#position]!;
    this.#position += 1;
    const simple = simpleEscapes.get(character);
    if (simple !== undefined) return simple;
    if (character >= '0' && character <= '7') {
      let value = Number(character);
      for (let digits = 1; digits < 3; digits += 1) {
        const digit = this.#pattern[this.#position];
        if (digit === undefined || digit < '0' || digit > '7') break;
        value = value * 8 + Number(digit);
        this.#position += 1;
      }
      return value;
    }
    if (character === 'x') {
      const hex = /^(?:\{([0-9A-Fa-f]{1,8})\}|([0-9A-Fa-f]{2}))/.exec(this.#pattern.slice(this.#position, this.#position + 10));
      assert(hex !== null, 'a checked pattern has well-formed \\x escapes');
      this.#position += hex[0].length;
      return parseInt(hex[1] ?? hex[2]!, 16);
    }
    return character.codePointAt(0)!; // Escaped punctuation.
  }

  #literal(codePoint: number): string {
    if (!this.#flags.foldCase) return escapeCodePoint(codePoint);
    const variants = caseVariants(codePoint);
    return variants.length === 1 ? escapeCodePoint(codePoint) : emitClass(variants.map((variant) => [variant, variant]), [], false);
  }

  #fold(ranges: readonly CodePointRange[]): readonly CodePointRange[] {
    if (!this.#flags.foldCase) return ranges;
    const folded: CodePointRange[] = [...ranges];
    for (const [low, high] of ranges) {
      if (high - low > caseFoldRangeSpanMax) continue;
      for (let codePoint = low; codePoint <= high; codePoint += 1) {
        for (const variant of caseVariants(codePoint)) folded.push([variant, variant]);
      }
    }
    return normalizeRanges(folded);
  }

  #takeCodePoint(): number {
    const codePoint = this.#pattern.codePointAt(this.#position)!;
    this.#position += codePoint > 0xffff ? 2 : 1;
    return codePoint;
  }
}

function applyFlags(flags: Flags, text: string): Flags {
  const result = { ...flags };
  let value = true;
  for (const flag of text) {
    if (flag === '-') value = false;
    else if (flag === 'i') result.foldCase = value;
    else if (flag === 'm') result.multiLine = value;
    else if (flag === 's') result.dotAll = value;
    else if (flag === 'U') result.ungreedy = value;
  }
  return result;
}

function emitClass(ranges: readonly CodePointRange[], properties: readonly string[], negated: boolean): string {
  const parts = normalizeRanges(ranges).map(([low, high]) => (low === high ? escapeCodePoint(low) : `${escapeCodePoint(low)}-${escapeCodePoint(high)}`));
  return `[${negated ? '^' : ''}${parts.join('')}${properties.join('')}]`;
}

/** Letters and digits stand for themselves; everything else becomes `\u{...}`, valid everywhere in `u` mode. */
function escapeCodePoint(codePoint: number): string {
  const isAlphanumeric = (codePoint >= 0x30 && codePoint <= 0x39) || (codePoint >= 0x41 && codePoint <= 0x5a) || (codePoint >= 0x61 && codePoint <= 0x7a);
  return isAlphanumeric ? String.fromCodePoint(codePoint) : `\\u{${codePoint.toString(16)}}`;
}

/** The code point and its single-code-point upper and lower case forms, closed over two rounds. */
function caseVariants(codePoint: number): number[] {
  const variants = new Set([codePoint]);
  for (let round = 0; round < 2; round += 1) {
    for (const current of [...variants]) {
      const text = String.fromCodePoint(current);
      for (const mapped of [text.toLowerCase(), text.toUpperCase()]) {
        const mappedCodePoint = mapped.codePointAt(0)!;
        if (mapped.length === String.fromCodePoint(mappedCodePoint).length) variants.add(mappedCodePoint);
      }
    }
  }
  return [...variants];
}
