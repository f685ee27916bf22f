/**
 * RE2 patterns with capture groups, for `label_replace`. The TSDB's regex compiler (tsdb/index) validates RE2
 * syntax but keeps no groups, so this file translates the (already validated) pattern into a JavaScript
 * RegExp that keeps them, and expands replacement templates the way Go's `regexp.Expand` does.
 *
 * Go's regexp and JavaScript's backtracking engine both prefer the leftmost-first alternative, so submatches
 * agree. Constructs JavaScript lacks on Node 20 (inline flag groups such as `(?i:...)` anywhere but the
 * start, `(?U)`) are rejected with a clear error instead of being matched differently.
 */
import { compileRegex } from '../tsdb/index/regex-compile.ts';

/** A pattern that is valid RE2 but that keel cannot translate faithfully. */
export class UnsupportedRegexError extends Error {}

const posixClasses: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7f', blank: '\\t ', cntrl: '\\x00-\\x1f\\x7f', digit: '0-9',
  graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ', upper: 'A-Z',
  word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

const generalCategories = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);

const simpleEscapes: Readonly<Record<string, string>> = {
  d: '[0-9]', D: '[^0-9]', w: '[0-9A-Za-z_]', W: '[^0-9A-Za-z_]', s: '[\\t\\n\\f\\r ]', S: '[^\\t\\n\\f\\r ]',
  b: '\\b', B: '\\B', A: '^', z: '$', n: '\\n', t: '\\t', r: '\\r', f: '\\f', v: '\\v', a: '\\x07',
};
const classEscapes: Readonly<Record<string, string>> = {
  d: '0-9', w: '0-9A-Za-z_', s: '\\t\\n\\f\\r ', n: '\\n', t: '\\t', r: '\\r', f: '\\f', v: '\\v', a: '\\x07',
};

/**
 * Compiles `pattern` as Go does for label_replace: `^(?:pattern)$`, `.` not matching a newline.
 * Throws the TSDB's error for invalid RE2 and {@link UnsupportedRegexError} for untranslatable patterns.
 *
 * @example
 * compileAnchoredGoRegex('(.*)-(?P<rest>.*)').exec('a-b')?.groups?.rest; // 'b'
 */
export function compileAnchoredGoRegex(pattern: string): RegExp {
  compileRegex(pattern);
  let flags = 'u';
  let body = pattern;
  const leadingFlags = /^\(\?([imsU]+)\)/.exec(body);
  if (leadingFlags !== null) {
    if (leadingFlags[1]!.includes('U')) throw new UnsupportedRegexError('the ungreedy flag (?U) is not supported');
    if (leadingFlags[1]!.includes('i')) flags += 'i';
    if (leadingFlags[1]!.includes('m')) flags += 'm';
    body = body.slice(leadingFlags[0].length);
  }
  const dotAll = leadingFlags?.[1]?.includes('s') ?? false;
  try {
    return new RegExp(`^(?:${translate(body, dotAll)})$`, flags);
  } catch (error) {
    throw new UnsupportedRegexError(`cannot translate the pattern: ${(error as Error).message}`);
  }
}

function translate(pattern: string, dotAll: boolean): string {
  let out = '';
  let index = 0;
  while (index < pattern.length) {
    const character = pattern[index]!;
    if (character === '\\') {
      const [text, next] = translateEscape(pattern, index, false);
      out += text;
      index = next;
    } else if (character === '[') {
      const [text, next] = translateClass(pattern, index);
      out += text;
      index = next;
    } else if (character === '(') {
      const [text, next] = translateGroupOpening(pattern, index);
      out += text;
      index = next;
    } else if (character === '.') {
      out += dotAll ? '[\\s\\S]' : '[^\\n]';
      index += 1;
    } else if (character === '{' || character === '}') {
      const repetition = character === '{' ? /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(index)) : null;
      out += repetition !== null ? repetition[0] : `\\${character}`;
      index += repetition !== null ? repetition[0].length : 1;
    } else {
      const codePoint = pattern.codePointAt(index)!;
      out += String.fromCodePoint(codePoint);
      index += codePoint > 0xffff ? 2 : 1;
    }
  }
  return out;
}

function translateGroupOpening(pattern: string, index: number): [string, number] {
  const rest = pattern.slice(index);
  const named = /^\(\?P?<([A-Za-z0-9_]+)>/.exec(rest);
  if (named !== null) return [`(?<${named[1]!}>`, index + named[0].length];
  if (rest.startsWith('(?:')) return ['(?:', index + 3];
  if (rest.startsWith('(?')) throw new UnsupportedRegexError('inline flags are only supported at the start of the pattern');
  return ['(', index + 1];
}

/** Translates the escape at `index` (a backslash). Returns the JavaScript text and the next index. */
function translateEscape(pattern: string, index: number, inClass: boolean): [string, number] {
  const letter = pattern[index + 1] ?? '';
  const table = inClass ? classEscapes : simpleEscapes;
  if (table[letter] !== undefined) return [table[letter], index + 2];
  if (letter === 'Q') {
    const end = pattern.indexOf('\\E', index + 2);
    const literal = pattern.slice(index + 2, end < 0 ? pattern.length : end);
    return [[...literal].map(escapeLiteral).join(''), end < 0 ? pattern.length : end + 2];
  }
  if (letter === 'p' || letter === 'P') {
    const braced = /^\{\^?([A-Za-z_]+)\}/.exec(pattern.slice(index + 2));
    const name = braced !== null ? braced[1]! : pattern[index + 2] ?? '';
    const negated = (letter === 'P') !== (braced?.[0].startsWith('{^') ?? false);
    const property = generalCategories.has(name) ? name : name === 'Any' ? 'Any' : `Script=${name}`;
    return [`\\${negated ? 'P' : 'p'}{${property}}`, index + 2 + (braced !== null ? braced[0].length : 1)];
  }
  if (letter === 'x') {
    const braced = /^\{([0-9A-Fa-f]+)\}/.exec(pattern.slice(index + 2));
    if (braced !== null) return [`\\u{${braced[1]!}}`, index + 2 + braced[0].length];
    return [`\\x${pattern.slice(index + 2, index + 4)}`, index + 4];
  }
  const octal = /^[0-7]{1,3}/.exec(pattern.slice(index + 1));
  if (octal !== null) return [escapeLiteral(String.fromCodePoint(Number.parseInt(octal[0], 8))), index + 1 + octal[0].length];
  const codePoint = pattern.codePointAt(index + 1) ?? 0x5c;
  return [escapeLiteral(String.fromCodePoint(codePoint)), index + 1 + (codePoint > 0xffff ? 2 : 1)];
}

function translateClass(pattern: string, start: number): [string, number] {
  let out = '[';
  let index = start + 1;
  if (pattern[index] === '^') {
    out += '^';
    index += 1;
  }
  let first = true;
  while (index < pattern.length && (pattern[index] !== ']' || first)) {
    first = false;
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(index));
    if (posix !== null) {
      if (posix[1] === '^') throw new UnsupportedRegexError('negated POSIX classes inside brackets are not supported');
      out += posixClasses[posix[2]!] ?? '';
      index += posix[0].length;
    } else if (pattern[index] === '\\') {
      const [text, next] = translateEscape(pattern, index, true);
      if (/^\[/.test(text)) throw new UnsupportedRegexError('negated class escapes inside brackets are not supported');
      out += text;
      index = next;
    } else {
      const codePoint = pattern.codePointAt(index)!;
      const text = String.fromCodePoint(codePoint);
      out += text === '[' || text === '/' ? `\\${text}` : text;
      index += text.length;
    }
  }
  return [`${out}]`, index + 1];
}

/** A literal character, escaped for a `u`-flag RegExp. */
function escapeLiteral(character: string): string {
  if (/^[A-Za-z0-9_]$/.test(character)) return character;
  const codePoint = character.codePointAt(0)!;
  return `\\u{${codePoint.toString(16)}}`;
}

/**
 * Expands a Go `regexp.Expand` template: `$1`, `${1}`, `$name`, `${name}`, `$$` for a dollar. Unknown or
 * unmatched groups expand to nothing; a malformed reference is copied as text.
 *
 * @example
 * expandGoTemplate('$1-${x}', /^(a)(?<x>b)$/u.exec('ab')!); // 'a-b'
 */
export function expandGoTemplate(template: string, match: RegExpExecArray): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const reference = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(rest);
    if (reference === null) {
      out += '$';
      continue;
    }
    rest = rest.slice(reference[0].length);
    out += groupText(reference[1] ?? reference[2]!, match);
  }
  return out + rest;
}

function groupText(name: string, match: RegExpExecArray): string {
  if (/^[0-9]+$/.test(name) && !(name.length > 1 && name.startsWith('0')) && name.length <= 8) return match[Number(name)] ?? '';
  return match.groups?.[name] ?? '';
}
