/**
 * Turns a parsed RE2 pattern into a fully anchored JavaScript RegExp with the same meaning, and spots the
 * shapes that need no regex engine at all: literal alternations `a|b|c`, `prefix.*`, `.*` and `.+`.
 */
import { assert, TsdbError } from '../errors.ts';
import { normalizeRanges, parseRegex } from './regex-syntax.ts';
import type { AssertionKind, CodePointRange, RegexNode } from './regex-syntax.ts';

/** Ranges wider than this are not case-folded one by one when `(?i)` covers only part of a pattern. */
const caseFoldRangeSpanMax = 0x3000;

/** How a compiled pattern decides a full match. */
export type RegexFastPath =
  /** The pattern matches exactly these strings. */
  | { readonly kind: 'set'; readonly values: ReadonlySet<string> }
  /** The pattern is `prefix.*` with `.` matching newlines. */
  | { readonly kind: 'prefix'; readonly prefix: string }
  /** `.*`: every string. */
  | { readonly kind: 'any' }
  /** `.+`: every non-empty string. */
  | { readonly kind: 'non-empty' }
  /** Anything else: run the compiled RegExp. */
  | { readonly kind: 'regex' };

export interface CompiledRegex {
  /** The original RE2 pattern. */
  readonly pattern: string;
  /** The anchored JavaScript equivalent, `^(?:...)$` with the `u` flag. */
  readonly regExp: RegExp;
  readonly fastPath: RegexFastPath;
}

/**
 * Compiles an RE2 pattern with Prometheus's semantics: anchored at both ends, `.` matching newlines.
 *
 * @example
 * const compiled = compileRegex('api|web');
 * compiled.fastPath.kind; // 'set'
 * matchesCompiledRegex(compiled, 'api'); // true
 * matchesCompiledRegex(compiled, 'apis'); // false
 */
export function compileRegex(pattern: string): CompiledRegex {
  const node = parseRegex(pattern);
  const foldUsage = collectFoldUsage(node, { folded: false, unfolded: false });
  // When (?i) covers every literal and class, JavaScript's own `i` flag does exact Unicode simple case
  // folding. Only a pattern mixing both needs the hand-written (approximate) expansion.
  const globalFold = foldUsage.folded && !foldUsage.unfolded;
  const source = `^(?:${emit(node, !globalFold)})$`;
  let regExp: RegExp;
  try {
    regExp = new RegExp(source, globalFold ? 'iu' : 'u');
  } catch (error) {
    throw new TsdbError('TSDB_INVALID_REGEX', `Regular expression ${JSON.stringify(pattern)} could not be compiled.`, { cause: error });
  }
  return { pattern, regExp, fastPath: findFastPath(node) };
}

/** Whether `value` fully matches the compiled pattern. */
export function matchesCompiledRegex(compiled: CompiledRegex, value: string): boolean {
  const fastPath = compiled.fastPath;
  switch (fastPath.kind) {
    case 'set':
      return fastPath.values.has(value);
    case 'prefix':
      return value.startsWith(fastPath.prefix);
    case 'any':
      return true;
    case 'non-empty':
      return value.length > 0;
    case 'regex':
      return compiled.regExp.test(value);
  }
}

function collectFoldUsage(node: RegexNode, usage: { folded: boolean; unfolded: boolean }): { folded: boolean; unfolded: boolean } {
  switch (node.kind) {
    case 'literal':
    case 'class':
      if (node.foldCase) usage.folded = true;
      else usage.unfolded = true;
      break;
    case 'concat':
      for (const item of node.items) collectFoldUsage(item, usage);
      break;
    case 'alternate':
      for (const branch of node.branches) collectFoldUsage(branch, usage);
      break;
    case 'repeat':
      collectFoldUsage(node.item, usage);
      break;
  }
  return usage;
}

function emit(node: RegexNode, expandFolds: boolean): string {
  switch (node.kind) {
    case 'empty':
      return '';
    case 'literal':
      return expandFolds && node.foldCase ? emitClass(foldRanges([[node.codePoint, node.codePoint]]), [], false) : escapeCodePoint(node.codePoint);
    case 'class': {
      const ranges = expandFolds && node.foldCase ? foldRanges(node.ranges) : node.ranges;
      return emitClass(ranges, node.properties.map((property) => `\\${property.negated ? 'P' : 'p'}{${property.expression}}`), node.negated);
    }
    case 'any':
      return node.matchesNewline ? '[^]' : '[^\\n]';
    case 'assertion':
      return emitAssertion(node.assertion);
    case 'concat':
      return node.items.map((item) => emit(item, expandFolds)).join('');
    case 'alternate':
      return `(?:${node.branches.map((branch) => emit(branch, expandFolds)).join('|')})`;
    case 'repeat':
      return `(?:${emit(node.item, expandFolds)})${quantifier(node.min, node.max)}`;
  }
}

function emitAssertion(assertion: AssertionKind): string {
  switch (assertion) {
    case 'text-begin':
      return '^';
    case 'text-end':
      return '$';
    case 'line-begin':
      return '(?:^|(?<=\\n))';
    case 'line-end':
      return '(?:$|(?=\\n))';
    case 'word-boundary':
      return '\\b';
    case 'not-word-boundary':
      return '\\B';
  }
}

function quantifier(minimum: number, maximum: number): string {
  assert(minimum >= 0 && maximum >= minimum, 'repeat bounds are ordered');
  if (maximum === Infinity) return minimum === 0 ? '*' : minimum === 1 ? '+' : `{${minimum},}`;
  if (minimum === 0 && maximum === 1) return '?';
  return minimum === maximum ? `{${minimum}}` : `{${minimum},${maximum}}`;
}

function emitClass(ranges: readonly CodePointRange[], properties: readonly string[], negated: boolean): string {
  const parts = ranges.map(([low, high]) => (low === high ? escapeCodePoint(low) : `${escapeCodePoint(low)}-${escapeCodePoint(high)}`));
  return `[${negated ? '^' : ''}${parts.join('')}${properties.join('')}]`;
}

/** Letters and digits stand for themselves; everything else becomes `\u{...}`, valid everywhere in `u` mode. */
function escapeCodePoint(codePoint: number): string {
  const isAlphanumeric = (codePoint >= 0x30 && codePoint <= 0x39) || (codePoint >= 0x41 && codePoint <= 0x5a) || (codePoint >= 0x61 && codePoint <= 0x7a);
  return isAlphanumeric ? String.fromCodePoint(codePoint) : `\\u{${codePoint.toString(16)}}`;
}

/**
 * Adds the case variants of every code point in `ranges`. Variants come from JavaScript's single-code-point
 * upper and lower case mappings, closed over two rounds; this misses a few Unicode fold orbits (such as
 * the Kelvin sign) that RE2 includes. Only used when `(?i)` covers part of a pattern.
 */
function foldRanges(ranges: readonly CodePointRange[]): CodePointRange[] {
  const folded: CodePointRange[] = [...ranges];
  for (const [low, high] of ranges) {
    if (high - low > caseFoldRangeSpanMax) continue;
    for (let codePoint = low; codePoint <= high; codePoint += 1) {
      for (const variant of caseVariants(codePoint)) folded.push([variant, variant]);
    }
  }
  return normalizeRanges(folded);
}

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

function findFastPath(node: RegexNode): RegexFastPath {
  const literal = literalString(node);
  if (literal !== undefined) return { kind: 'set', values: new Set([literal]) };
  if (node.kind === 'alternate') {
    const values = node.branches.map(literalString);
    if (values.every((value) => value !== undefined)) return { kind: 'set', values: new Set(values) };
  }
  if (isAnyStringRepeat(node, 0)) return { kind: 'any' };
  if (isAnyStringRepeat(node, 1)) return { kind: 'non-empty' };
  if (node.kind === 'concat' && node.items.length >= 2 && isAnyStringRepeat(node.items[node.items.length - 1]!, 0)) {
    const prefix = literalString({ kind: 'concat', items: node.items.slice(0, -1) });
    if (prefix !== undefined) return { kind: 'prefix', prefix };
  }
  return { kind: 'regex' };
}

/** The one string a node matches, when it is a plain case-sensitive literal. */
function literalString(node: RegexNode): string | undefined {
  if (node.kind === 'empty') return '';
  if (node.kind === 'literal') return node.foldCase && caseVariants(node.codePoint).length > 1 ? undefined : String.fromCodePoint(node.codePoint);
  if (node.kind !== 'concat') return undefined;
  let text = '';
  for (const item of node.items) {
    const piece = literalString(item);
    if (piece === undefined) return undefined;
    text += piece;
  }
  return text;
}

/** `.*` (minimum 0) or `.+` (minimum 1) where `.` matches every code point. */
function isAnyStringRepeat(node: RegexNode, minimum: number): boolean {
  return node.kind === 'repeat' && node.min === minimum && node.max === Infinity && node.item.kind === 'any' && node.item.matchesNewline;
}
