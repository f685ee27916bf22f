/**
 * A scan for the errors Prometheus's lexer reports (unclosed brackets, stray characters, bad escapes, bad
 * durations, unknown function names). Lezer's grammar is error-tolerant and accepts some of these, so the
 * parser runs this scan too and reports whichever error comes first, with Prometheus's wording.
 */
import { getFunction } from './functions.ts';
import { LiteralError, parseDurationMs, unquoteString } from './_literals.ts';

export interface LexicalError {
  /** Where the offending token starts; errors are ordered by it. */
  readonly position: number;
  /** Where Prometheus reports the error, when that differs from `position`. */
  readonly reportedPosition?: number;
  readonly message: string;
}

/** Words that may stand before `(` without being a function call. */
const wordsBeforeParen = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'atan2', 'start',
  'end', 'offset', 'avg', 'bottomk', 'count', 'count_values', 'group', 'max', 'min', 'quantile', 'stddev', 'stdvar',
  'sum', 'topk',
]);

const identifierPattern = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const labelNamePattern = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const numberOrDurationPattern = /(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[a-zA-Z0-9_.]*/y;
const operatorCharacters = '+-*/%^<>,:@=';

interface ScanState {
  readonly query: string;
  index: number;
  /** Open '(', '[' and '{', innermost last. */
  readonly openers: string[];
  /** The previous token, lower-cased for words. */
  previous: string;
}

/**
 * The first lexical error in `query`, or undefined.
 *
 * @example
 * findLexicalError('sum(1,'); // { position: 6, message: 'unclosed left parenthesis' }
 */
export function findLexicalError(query: string): LexicalError | undefined {
  const state: ScanState = { query, index: 0, openers: [], previous: '' };
  while (state.index < query.length) {
    const error = scanToken(state);
    if (error !== undefined) return error;
  }
  const innermost = state.openers[state.openers.length - 1];
  if (innermost === '(') return { position: query.length, message: 'unclosed left parenthesis' };
  if (innermost === '[') return { position: query.length, message: 'unclosed left bracket' };
  if (innermost === '{') return { position: query.length, message: 'unexpected end of input inside braces' };
  return undefined;
}

function scanToken(state: ScanState): LexicalError | undefined {
  const { query } = state;
  const character = query[state.index]!;
  if (/\s/.test(character)) {
    state.index += 1;
    return undefined;
  }
  if (character === '#') {
    const lineEnd = query.indexOf('\n', state.index);
    state.index = lineEnd < 0 ? query.length : lineEnd;
    return undefined;
  }
  if (character === '"' || character === "'" || character === '`') return scanString(state);
  if (state.openers[state.openers.length - 1] === '{') return scanInsideBraces(state);
  if (/[0-9.]/.test(character)) return scanNumber(state);
  identifierPattern.lastIndex = state.index;
  const word = identifierPattern.exec(query);
  if (word !== null) return scanWord(state, word[0]);
  return scanPunctuation(state);
}

function scanString(state: ScanState): LexicalError | undefined {
  const { query } = state;
  const start = state.index;
  const quote = query[start]!;
  let index = start + 1;
  while (index < query.length && query[index] !== quote) {
    if (quote !== '`' && query[index] === '\n') break;
    index += quote !== '`' && query[index] === '\\' ? 2 : 1;
  }
  state.index = Math.min(index + 1, query.length);
  state.previous = 'string';
  try {
    unquoteString(query.slice(start, Math.min(index + 1, query.length)));
  } catch (error) {
    if (error instanceof LiteralError) return { position: start, message: error.message };
    throw error;
  }
  return undefined;
}

function scanInsideBraces(state: ScanState): LexicalError | undefined {
  const { query } = state;
  const character = query[state.index]!;
  labelNamePattern.lastIndex = state.index;
  const name = labelNamePattern.exec(query);
  if (name !== null) {
    state.index += name[0].length;
    return undefined;
  }
  const pair = query.slice(state.index, state.index + 2);
  if (pair === '=~' || pair === '!=' || pair === '!~') {
    state.index += 2;
    return undefined;
  }
  if (character === '!') {
    return { position: state.index, message: `unexpected character after '!' inside braces: ${goRune(query[state.index + 1] ?? '')}` };
  }
  if (character === '=' || character === ',') {
    state.index += 1;
    return undefined;
  }
  if (character === '}') {
    state.openers.pop();
    state.index += 1;
    state.previous = '}';
    return undefined;
  }
  if (character === '{') return { position: state.index, message: `unexpected left brace ${goRune('{')}` };
  return { position: state.index, message: `unexpected character inside braces: ${goRune(character)}` };
}

function scanNumber(state: ScanState): LexicalError | undefined {
  const { query } = state;
  numberOrDurationPattern.lastIndex = state.index;
  const match = numberOrDurationPattern.exec(query);
  if (match === null) return { position: state.index, message: `unexpected character: ${goRune(query[state.index]!)}` };
  const text = match[0];
  const start = state.index;
  state.index += text.length;
  const inDurationContext = state.previous === '[' || state.previous === ':' || state.previous === 'offset' || state.previous === 'offset-';
  state.previous = 'number';
  if (inDurationContext) {
    if (/^[0-9.]+$/.test(text)) return { position: start, message: 'missing unit character in duration' };
    try {
      parseDurationMs(text);
    } catch (error) {
      if (error instanceof LiteralError) return { position: start, message: error.message };
      throw error;
    }
    return undefined;
  }
  if (/^(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$/.test(text)) return undefined;
  if (/^[0-9]+(?:y|w|d|h|m|s|ms)(?:[0-9]+(?:y|w|d|h|m|s|ms))*$/.test(text)) return { position: start, message: `unexpected duration ${JSON.stringify(text)}` };
  const numberPart = /^(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/.exec(text)![0];
  return { position: start, message: `bad number or duration syntax: ${JSON.stringify(numberPart)}` };
}

function scanWord(state: ScanState, word: string): LexicalError | undefined {
  const { query } = state;
  const start = state.index;
  state.index += word.length;
  const lower = word.toLowerCase();
  let next = state.index;
  while (next < query.length && /\s/.test(query[next]!)) next += 1;
  if (query[next] === '(' && getFunction(word) === undefined && !wordsBeforeParen.has(lower)) {
    return { position: start, message: `unknown function with name ${JSON.stringify(word)}` };
  }
  state.previous = lower;
  return undefined;
}

function scanPunctuation(state: ScanState): LexicalError | undefined {
  const { query } = state;
  const character = query[state.index]!;
  const position = state.index;
  state.index += 1;
  if (character === '(' || character === '[' || character === '{') {
    state.openers.push(character);
    state.previous = character;
    return undefined;
  }
  if (character === ')' || character === ']') {
    const opener = character === ')' ? '(' : '[';
    if (state.openers[state.openers.length - 1] !== opener) {
      // Prometheus reports a stray ')' after it and a stray ']' at it.
      if (character === ')') return { position, reportedPosition: state.index, message: `unexpected right parenthesis ${goRune(character)}` };
      return { position, message: `unexpected right bracket ${goRune(character)}` };
    }
    state.openers.pop();
    state.previous = character;
    return undefined;
  }
  if (character === '}') return { position, message: `unexpected character: ${goRune(character)}` };
  if (character === '!') {
    const next = query[state.index];
    if (next === '=') {
      state.index += 1;
      state.previous = '!=';
      return undefined;
    }
    return { position, message: `unexpected character after '!': ${goRune(next ?? '')}` };
  }
  if (operatorCharacters.includes(character)) {
    state.previous = character === '-' && state.previous === 'offset' ? 'offset-' : character;
    return undefined;
  }
  return { position, message: `unexpected character: ${goRune(character)}` };
}

/** Go's `%q` for a rune: `'x'`. */
function goRune(character: string): string {
  if (character === '') return "'\\x00'";
  if (character === "'") return "'\\''";
  if (character === '\\') return "'\\\\'";
  if (character === '\n') return "'\\n'";
  if (character === '\t') return "'\\t'";
  return `'${character}'`;
}
