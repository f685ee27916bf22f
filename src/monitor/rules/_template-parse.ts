/**
 * The parser of keel's Go-template subset: text, `{{ pipeline }}` actions with `{{-`/`-}}` trimming,
 * comments, variables (`$x := ...`, `$x = ...`), `if`/`else if`/`else`, `with`, `range` and `end`,
 * pipelines with `|`, parenthesised pipelines, field chains (`.Labels.job`, `$labels.job`) and string,
 * raw string, number, bool and nil literals. Everything else Go's text/template has (define, template,
 * block, break, continue, character constants, complex numbers, method calls) is refused with a
 * message saying so. Errors read like Go's: `template: NAME:LINE: message`.
 */
import { assert } from '../tsdb/index.ts';

/** Longest template text accepted, in UTF-16 units. */
export const templateCharactersMax = 64 * 1024;
/** Deepest nesting of control structures and parentheses. */
export const templateNestingMax = 64;
/** Most tokens in one template; bounds parser work. */
export const templateTokensMax = 16 * 1024;

export type Operand =
  | { readonly kind: 'dot' }
  | { readonly kind: 'field'; readonly receiver: Operand | undefined; readonly names: readonly string[] }
  | { readonly kind: 'variable'; readonly name: string; readonly names: readonly string[] }
  | { readonly kind: 'function'; readonly name: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number | bigint }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'nil' }
  | { readonly kind: 'pipeline'; readonly pipeline: Pipeline; readonly names: readonly string[] };

export interface Command {
  readonly offset: number;
  /** The command's source text, for `executing "name" at <...>` in errors. */
  readonly source: string;
  readonly operands: readonly Operand[];
}

export interface Pipeline {
  readonly offset: number;
  readonly declarations: readonly string[];
  /** `=` (assign to existing variables) rather than `:=`. */
  readonly assign: boolean;
  readonly commands: readonly Command[];
}

/** `if`, `with` or `range` with its body and optional `else` body. */
export interface BranchNode {
  readonly kind: 'if' | 'with' | 'range';
  readonly offset: number;
  readonly pipeline: Pipeline;
  readonly list: readonly TemplateNode[];
  readonly elseList: readonly TemplateNode[] | undefined;
}

export type TemplateNode =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'action'; readonly offset: number; readonly pipeline: Pipeline }
  | BranchNode;

/** A template that does not parse; the message is Go's shape. */
export class TemplateSyntaxError extends Error {
  readonly code = 'RULE_TEMPLATE_SYNTAX';

  constructor(message: string) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

type TokenType =
  | 'field' | 'dot' | 'variable' | 'identifier' | 'keyword' | 'string' | 'number' | 'bool' | 'nil'
  | 'pipe' | 'leftParen' | 'rightParen' | 'declare' | 'assign' | 'comma';

interface Token {
  readonly type: TokenType;
  readonly text: string;
  readonly offset: number;
  /** Whether whitespace came right before it (a field after a space starts a new operand). */
  readonly spaced: boolean;
}

const keywords = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);
const unsupportedKeywords = new Set(['define', 'template', 'block', 'break', 'continue']);
const identifierPattern = /^[\p{L}_][\p{L}\p{N}_]*/u;
const numberPattern = /^[+-]?(?:0[xX][0-9a-fA-F_]+(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?\d+)?|0[oObB][0-7_]+|(?:\d[\d_]*)?\.?\d*(?:[eE][+-]?\d+)?)i?/;

/** Describes what a template may call: the parser refuses unknown and unsupported functions. */
export interface FunctionCatalog {
  has(name: string): boolean;
  /** Why a known Go or Prometheus function is not available, or undefined when it is. */
  unsupportedReason(name: string): string | undefined;
}

/**
 * Parses a whole template. `name` appears in errors; `predeclared` are variables defined before the text
 * (Prometheus declares `$labels`, `$value`, ... in front of every alert template).
 */
export function parseTemplate(text: string, name: string, functions: FunctionCatalog, predeclared: readonly string[]): TemplateNode[] {
  if (text.length > templateCharactersMax) throw new TemplateSyntaxError(`template: ${name}: template is longer than ${templateCharactersMax} characters`);
  const parser = new TemplateParser(text, name, functions);
  return parser.parse(predeclared);
}

interface OpenBlock {
  readonly kind: 'if' | 'with' | 'range';
  readonly offset: number;
  readonly pipeline: Pipeline;
  list: TemplateNode[];
  elseList: TemplateNode[] | undefined;
  /** An `else if` closes with the same `end` as its `if`: these are the outer blocks to close with it. */
  readonly chained: boolean;
  /** Variables in scope when the block began; restored at its end. */
  readonly scopeDepth: number;
  /** Variables in scope after its pipeline (which may declare some); restored at `else`. */
  readonly bodyDepth: number;
}

class TemplateParser {
  readonly #text: string;
  readonly #name: string;
  readonly #functions: FunctionCatalog;
  #position = 0;
  #tokenCount = 0;
  /** Invariant: the variables visible at the current point, innermost last. */
  #variables: string[] = [];

  constructor(text: string, name: string, functions: FunctionCatalog) {
    this.#text = text;
    this.#name = name;
    this.#functions = functions;
  }

  parse(predeclared: readonly string[]): TemplateNode[] {
    this.#variables = ['$', ...predeclared];
    const root: TemplateNode[] = [];
    const stack: OpenBlock[] = [];
    const current = (): TemplateNode[] => {
      const top = stack[stack.length - 1];
      if (top === undefined) return root;
      return top.elseList ?? top.list;
    };
    let trimNext = false;
    while (this.#position < this.#text.length) {
      const start = this.#text.indexOf('{{', this.#position);
      const end = start < 0 ? this.#text.length : start;
      let literal = this.#text.slice(this.#position, end);
      if (trimNext) literal = literal.replace(/^[ \t\r\n]+/, '');
      const trimLeft = start >= 0 && /^\{\{-[ \t\r\n]/.test(this.#text.slice(start, start + 4));
      if (trimLeft) literal = literal.replace(/[ \t\r\n]+$/, '');
      if (literal !== '') current().push({ kind: 'text', text: literal });
      if (start < 0) break;
      this.#position = start + (trimLeft ? 3 : 2);
      trimNext = this.#action(stack, current);
    }
    const open = stack[stack.length - 1];
    if (open !== undefined) this.#fail(open.offset, `unexpected EOF`);
    return root;
  }

  /** Parses one action after its `{{`; returns whether it ended with `-}}`. */
  #action(stack: OpenBlock[], current: () => TemplateNode[]): boolean {
    const actionOffset = this.#position;
    this.#skipSpace();
    if (this.#text.startsWith('/*', this.#position)) return this.#comment(actionOffset);
    const tokens = this.#actionTokens(actionOffset);
    const { list, trimRight } = tokens;
    const first = list[0];
    if (first === undefined) this.#fail(actionOffset, 'missing value for command');
    if (first.type === 'keyword') {
      this.#control(first, list.slice(1), stack, current);
    } else {
      current().push({ kind: 'action', offset: first.offset, pipeline: this.#pipeline(list, false) });
    }
    return trimRight;
  }

  #comment(actionOffset: number): boolean {
    const close = this.#text.indexOf('*/', this.#position + 2);
    if (close < 0) this.#fail(actionOffset, 'unclosed comment');
    this.#position = close + 2;
    const rest = this.#text.slice(this.#position);
    const trimRight = /^[ \t\r\n]-\}\}/.test(rest);
    if (trimRight) this.#position += 4;
    else if (rest.startsWith('}}')) this.#position += 2;
    else this.#fail(actionOffset, 'comment ends before closing delimiter');
    return trimRight;
  }

  #control(keyword: Token, rest: Token[], stack: OpenBlock[], current: () => TemplateNode[]): void {
    const word = keyword.text;
    if (unsupportedKeywords.has(word)) this.#fail(keyword.offset, `{{${word}}} is not supported by keel's template subset`);
    if (word === 'if' || word === 'with' || word === 'range') {
      if (stack.length >= templateNestingMax) this.#fail(keyword.offset, `more than ${templateNestingMax} nested blocks`);
      const scopeDepth = this.#variables.length;
      const pipeline = this.#pipeline(rest, word === 'range', `missing value for ${word}`);
      const bodyDepth = this.#variables.length;
      stack.push({ kind: word, offset: keyword.offset, pipeline, list: [], elseList: undefined, chained: false, scopeDepth, bodyDepth });
      return;
    }
    const top = stack[stack.length - 1];
    if (word === 'end') {
      if (rest.length > 0) this.#fail(rest[0]!.offset, `unexpected ${describe(rest[0]!)} in end`);
      if (top === undefined) this.#fail(keyword.offset, 'unexpected {{end}}');
      this.#closeBlock(stack, current);
      return;
    }
    assert(word === 'else', 'every keyword is handled');
    if (top === undefined || top.elseList !== undefined) this.#fail(keyword.offset, 'unexpected {{else}}');
    this.#variables.length = top.bodyDepth;
    top.elseList = [];
    if (rest[0]?.type === 'keyword' && rest[0].text === 'if' && top.kind === 'if') {
      const scopeDepth = this.#variables.length;
      const pipeline = this.#pipeline(rest.slice(1), false, 'missing value for if');
      const bodyDepth = this.#variables.length;
      stack.push({ kind: 'if', offset: rest[0].offset, pipeline, list: [], elseList: undefined, chained: true, scopeDepth, bodyDepth });
    } else if (rest.length > 0) {
      this.#fail(rest[0]!.offset, `unexpected ${describe(rest[0]!)} in else`);
    }
  }

  /** Closes the innermost block, and the blocks an `else if` chain opened with it. */
  #closeBlock(stack: OpenBlock[], current: () => TemplateNode[]): void {
    while (true) {
      const block = stack.pop()!;
      this.#variables.length = block.scopeDepth;
      current().push({ kind: block.kind, offset: block.offset, pipeline: block.pipeline, list: block.list, elseList: block.elseList });
      if (!block.chained) return;
    }
  }

  // ---- Tokens ----------------------------------------------------------------------------------------

  #skipSpace(): boolean {
    const start = this.#position;
    while (this.#position < this.#text.length && ' \t\r\n'.includes(this.#text[this.#position]!)) this.#position += 1;
    return this.#position > start;
  }

  #actionTokens(actionOffset: number): { list: Token[]; trimRight: boolean } {
    const list: Token[] = [];
    let spaced = true;
    while (true) {
      if (this.#position >= this.#text.length) this.#fail(actionOffset, 'unclosed action');
      const rest = this.#text.slice(this.#position, this.#position + 4);
      if (rest.startsWith('}}')) {
        this.#position += 2;
        return { list, trimRight: false };
      }
      if (spaced && rest.startsWith('-}}')) {
        this.#position += 3;
        return { list, trimRight: true };
      }
      this.#tokenCount += 1;
      if (this.#tokenCount > templateTokensMax) this.#fail(this.#position, `more than ${templateTokensMax} tokens`);
      list.push(this.#token(spaced));
      spaced = this.#skipSpace();
    }
  }

  #token(spaced: boolean): Token {
    const offset = this.#position;
    const text = this.#text;
    const character = text[offset]!;
    const make = (type: TokenType, length: number): Token => {
      this.#position = offset + length;
      return { type, text: text.slice(offset, offset + length), offset, spaced };
    };
    if (character === '|') return make('pipe', 1);
    if (character === '(') return make('leftParen', 1);
    if (character === ')') return make('rightParen', 1);
    if (character === ',') return make('comma', 1);
    if (text.startsWith(':=', offset)) return make('declare', 2);
    if (character === '=') return make('assign', 1);
    if (character === '"') return make('string', this.#quotedLength(offset, '"'));
    if (character === '`') return make('string', this.#quotedLength(offset, '`'));
    if (character === '\'') this.#fail(offset, 'character constants are not supported by keel\'s template subset');
    if (character === '$') {
      const identifier = identifierPattern.exec(text.slice(offset + 1))?.[0] ?? '';
      return make('variable', 1 + identifier.length);
    }
    if (character === '.') {
      const identifier = identifierPattern.exec(text.slice(offset + 1))?.[0] ?? '';
      if (identifier === '' && !/[0-9]/.test(text[offset + 1] ?? '')) return make('dot', 1);
      if (identifier !== '') return make('field', 1 + identifier.length);
    }
    if (/[0-9+\-.]/.test(character)) {
      const length = numberPattern.exec(text.slice(offset))?.[0].length ?? 0;
      if (length > 0 && !/^[+-]?$/.test(text.slice(offset, offset + length))) return make('number', length);
    }
    const identifier = identifierPattern.exec(text.slice(offset))?.[0];
    if (identifier !== undefined) {
      if (identifier === 'true' || identifier === 'false') return make('bool', identifier.length);
      if (identifier === 'nil') return make('nil', identifier.length);
      return make(keywords.has(identifier) ? 'keyword' : 'identifier', identifier.length);
    }
    this.#fail(offset, `unexpected ${JSON.stringify(character)} in command`);
  }

  #quotedLength(offset: number, quote: string): number {
    let index = offset + 1;
    while (index < this.#text.length) {
      const character = this.#text[index]!;
      if (character === quote) return index + 1 - offset;
      if (quote === '"' && character === '\\') index += 1;
      else if (quote === '"' && character === '\n') break;
      index += 1;
    }
    this.#fail(offset, quote === '"' ? 'unterminated quoted string' : 'unterminated raw quoted string');
  }

  // ---- Pipelines -------------------------------------------------------------------------------------

  #pipeline(tokens: readonly Token[], allowTwoVariables: boolean, emptyMessage = 'missing value for command'): Pipeline {
    if (tokens.length === 0) this.#fail(this.#position, emptyMessage);
    const { declarations, assign, start } = this.#declarations(tokens, allowTwoVariables);
    const commands: Command[] = [];
    let index = start;
    while (true) {
      const next = this.#command(tokens, index);
      commands.push(next.command);
      index = next.end;
      const separator = tokens[index];
      if (separator === undefined) break;
      assert(separator.type === 'pipe', 'a command ends at a pipe or the end of the action');
      index += 1;
    }
    for (const name of declarations) {
      if (assign && !this.#variables.includes(name)) this.#fail(tokens[0]!.offset, `undefined variable "${name}"`);
      if (!assign) this.#variables.push(name);
    }
    return { offset: tokens[0]!.offset, declarations, assign, commands };
  }

  #declarations(tokens: readonly Token[], allowTwoVariables: boolean): { declarations: string[]; assign: boolean; start: number } {
    const [first, second, third, fourth] = tokens;
    if (first?.type === 'variable' && (second?.type === 'declare' || second?.type === 'assign')) {
      return { declarations: [first.text], assign: second.type === 'assign', start: 2 };
    }
    if (first?.type === 'variable' && second?.type === 'comma') {
      if (!allowTwoVariables) this.#fail(second.offset, 'too many declarations in command');
      if (third?.type !== 'variable' || (fourth?.type !== 'declare' && fourth?.type !== 'assign')) this.#fail(second.offset, 'expected a variable after the comma');
      return { declarations: [first.text, third.text], assign: fourth.type === 'assign', start: 4 };
    }
    return { declarations: [], assign: false, start: 0 };
  }

  /** One command: operands up to a `|` or the end of the token list. */
  #command(tokens: readonly Token[], start: number): { command: Command; end: number } {
    const operands: Operand[] = [];
    let index = start;
    while (index < tokens.length && tokens[index]!.type !== 'pipe') {
      const token = tokens[index]!;
      if (token.type === 'rightParen') this.#fail(token.offset, 'unexpected right paren');
      const next = this.#operand(tokens, index);
      operands.push(next.operand);
      index = next.end;
    }
    const first = tokens[start];
    if (operands.length === 0 || first === undefined) this.#fail(first?.offset ?? this.#position, 'missing value for command');
    const last = tokens[index - 1]!;
    return { command: { offset: first.offset, source: this.#text.slice(first.offset, last.offset + last.text.length), operands }, end: index };
  }

  #operand(tokens: readonly Token[], start: number): { operand: Operand; end: number } {
    const token = tokens[start]!;
    let index = start + 1;
    let operand: Operand;
    switch (token.type) {
      case 'dot': operand = { kind: 'dot' }; break;
      case 'field': operand = { kind: 'field', receiver: undefined, names: [token.text.slice(1)] }; break;
      case 'variable':
        if (!this.#variables.includes(token.text)) this.#fail(token.offset, `undefined variable "${token.text}"`);
        operand = { kind: 'variable', name: token.text, names: [] };
        break;
      case 'identifier': operand = this.#functionOperand(token); break;
      case 'string': operand = { kind: 'string', value: this.#unquote(token) }; break;
      case 'number': operand = { kind: 'number', value: this.#number(token) }; break;
      case 'bool': operand = { kind: 'bool', value: token.text === 'true' }; break;
      case 'nil': operand = { kind: 'nil' }; break;
      case 'leftParen': {
        const close = matchingParen(tokens, start);
        if (close < 0) this.#fail(token.offset, 'unclosed left paren');
        operand = { kind: 'pipeline', pipeline: this.#pipeline(tokens.slice(start + 1, close), false), names: [] };
        index = close + 1;
        break;
      }
      default: this.#fail(token.offset, `unexpected ${describe(token)} in operand`);
    }
    // A field right after an operand (no space) selects from it: $x.a.b, (pipe).a
    const names: string[] = [];
    while (tokens[index]?.type === 'field' && !tokens[index]!.spaced) {
      names.push(tokens[index]!.text.slice(1));
      index += 1;
    }
    if (names.length > 0) operand = this.#chain(operand, names, token);
    return { operand, end: index };
  }

  #chain(operand: Operand, names: string[], token: Token): Operand {
    switch (operand.kind) {
      case 'field': return { ...operand, names: [...operand.names, ...names] };
      case 'variable': return { ...operand, names };
      case 'pipeline': return { ...operand, names };
      case 'dot': return { kind: 'field', receiver: undefined, names };
      default: this.#fail(token.offset, `unexpected . after term ${JSON.stringify(token.text)}`);
    }
  }

  #functionOperand(token: Token): Operand {
    const reason = this.#functions.unsupportedReason(token.text);
    if (reason !== undefined) this.#fail(token.offset, `function "${token.text}" is not supported by keel's template subset: ${reason}`);
    if (!this.#functions.has(token.text)) this.#fail(token.offset, `function "${token.text}" not defined`);
    return { kind: 'function', name: token.text };
  }

  #number(token: Token): number | bigint {
    const text = token.text.replace(/_/g, '');
    if (text.endsWith('i')) this.#fail(token.offset, 'complex numbers are not supported by keel\'s template subset');
    if (/^[+-]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|\d+)$/.test(text)) {
      const negative = text.startsWith('-');
      const digits = text.replace(/^[+-]/, '').replace(/^0([oO])/, '0o');
      const value = BigInt(/^0\d/.test(digits) ? `0o${digits.slice(1)}` : digits);
      return negative ? -value : value;
    }
    const value = Number(text);
    if (!Number.isFinite(value)) this.#fail(token.offset, `illegal number syntax: ${JSON.stringify(token.text)}`);
    return value;
  }

  #unquote(token: Token): string {
    if (token.text.startsWith('`')) return token.text.slice(1, -1).replace(/\r/g, '');
    try {
      return unquoteGoString(token.text.slice(1, -1));
    } catch (error) {
      this.#fail(token.offset, (error as Error).message);
    }
  }

  #fail(offset: number, message: string): never {
    const line = this.#text.slice(0, offset).split('\n').length;
    throw new TemplateSyntaxError(`template: ${this.#name}:${line}: ${message}`);
  }
}

function matchingParen(tokens: readonly Token[], start: number): number {
  let depth = 0;
  for (let index = start; index < tokens.length; index += 1) {
    const type = tokens[index]!.type;
    if (type === 'leftParen') depth += 1;
    if (type === 'rightParen') depth -= 1;
    if (depth === 0) return index;
    if (depth > templateNestingMax) return -1;
  }
  return -1;
}

function describe(token: Token): string {
  return `${JSON.stringify(token.text)}`;
}

const simpleEscapes: Readonly<Record<string, string>> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };

/** Go's strconv.Unquote of a double-quoted literal's body. */
function unquoteGoString(body: string): string {
  let result = '';
  for (let index = 0; index < body.length; index += 1) {
    const character = body[index]!;
    if (character !== '\\') {
      result += character;
      continue;
    }
    const escape = body[index + 1] ?? '';
    const simple = simpleEscapes[escape];
    if (simple !== undefined) {
      result += simple;
      index += 1;
      continue;
    }
    const widths: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };
    const width = widths[escape];
    if (width !== undefined) {
      const hex = body.slice(index + 2, index + 2 + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) throw new Error('invalid syntax');
      const code = Number.parseInt(hex, 16);
      result += escape === 'x' ? String.fromCharCode(code) : String.fromCodePoint(code);
      index += 1 + width;
      continue;
    }
    const octal = body.slice(index + 1, index + 4);
    if (/^[0-7]{3}$/.test(octal)) {
      result += String.fromCharCode(Number.parseInt(octal, 8));
      index += 3;
      continue;
    }
    throw new Error('invalid syntax');
  }
  return result;
}
