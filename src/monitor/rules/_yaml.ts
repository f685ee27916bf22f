/**
 * A strict walk over a rule file's YAML, like Go's yaml.v3 decoder with KnownFields: unknown fields and
 * wrong kinds are errors at a line and column. Aliases are followed, with a bound on the nodes visited so
 * an alias bomb cannot exhaust memory.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';

/** Most YAML nodes one rule file may expand to (aliases count on every use). */
export const ruleFileNodesMax = 1_000_000;

/** A problem at a place in the file; the caller turns it into a RuleFileError. */
export class YamlProblem extends Error {
  readonly line: number;
  readonly column: number;

  constructor(message: string, line: number, column: number) {
    super(message);
    this.name = 'YamlProblem';
    this.line = line;
    this.column = column;
  }
}

interface ReaderState {
  /** Undefined for an empty file (then no node is ever an alias). */
  readonly document: Document.Parsed | undefined;
  readonly lineCounter: LineCounter;
  nodeCount: number;
}

/** Parses the text; an empty text (or only comments) is a null root. Throws a YamlProblem. */
export function readYaml(text: string): RuleYamlNode {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  if (documents.length > 1) {
    const position = lineCounter.linePos(documents[1]!.range[0]);
    throw new YamlProblem('a rule file holds one YAML document', position.line, position.col);
  }
  const document = documents[0] as Document.Parsed | undefined;
  if (document === undefined) return new RuleYamlNode({ document: undefined, lineCounter, nodeCount: 0 }, null, 0);
  const firstError = document.errors[0];
  if (firstError !== undefined) {
    const position = lineCounter.linePos(firstError.pos[0]);
    throw new YamlProblem(`yaml: ${firstError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`, position.line, position.col);
  }
  return new RuleYamlNode({ document, lineCounter, nodeCount: 0 }, document.contents, 0);
}

export class RuleYamlNode {
  readonly #state: ReaderState;
  /** Invariant: never an alias. */
  readonly #node: YamlNode | null;
  readonly #fallbackOffset: number;

  constructor(state: ReaderState, node: unknown, fallbackOffset: number) {
    state.nodeCount += 1;
    this.#state = state;
    this.#fallbackOffset = fallbackOffset;
    const resolved = isAlias(node) && state.document !== undefined ? node.resolve(state.document) : node;
    this.#node = resolved === undefined || resolved === null ? null : (resolved as YamlNode);
    if (state.nodeCount > ruleFileNodesMax) this.fail(`the file expands to more than ${ruleFileNodesMax} YAML nodes`);
  }

  get isNull(): boolean {
    return this.#node === null || (isScalar(this.#node) && this.#node.value === null);
  }

  /** 1-based line and column of the node (its parent's key when the value is absent). */
  position(): { line: number; column: number } {
    const position = this.#state.lineCounter.linePos(this.#node?.range?.[0] ?? this.#fallbackOffset);
    return { line: position.line, column: position.col };
  }

  fail(message: string): never {
    const { line, column } = this.position();
    throw new YamlProblem(message, line, column);
  }

  /** The fields of a map; an unknown one fails with yaml.v3's wording. Null reads as no fields. */
  fields(typeName: string, allowed: readonly string[] | 'any'): Map<string, RuleYamlNode> {
    return new Map(this.pairs(typeName, allowed).map((pair) => [pair.name, pair.value]));
  }

  /** The entries of a map with their key nodes, in file order. */
  pairs(typeName: string, allowed: readonly string[] | 'any'): { name: string; key: RuleYamlNode; value: RuleYamlNode }[] {
    if (this.isNull) return [];
    if (!isMap(this.#node)) this.fail(`cannot unmarshal ${this.#kind()} into ${typeName}`);
    return this.#node.items.map((pair) => {
      const key = new RuleYamlNode(this.#state, pair.key, this.#offset());
      const name = key.scalar(`${typeName} field name`);
      if (allowed !== 'any' && !allowed.includes(name)) key.fail(`field ${name} not found in type ${typeName}`);
      return { name, key, value: new RuleYamlNode(this.#state, pair.value, key.#offset()) };
    });
  }

  /** The items of a sequence; null reads as an empty list. */
  items(what: string): RuleYamlNode[] {
    if (this.isNull) return [];
    if (!isSeq(this.#node)) this.fail(`cannot unmarshal ${this.#kind()} into ${what}`);
    return this.#node.items.map((item) => new RuleYamlNode(this.#state, item, this.#offset()));
  }

  /** A scalar as text (numbers and booleans keep their source spelling, as Go decodes them into a string). */
  scalar(what: string): string {
    if (this.isNull) return '';
    if (!isScalar(this.#node)) this.fail(`cannot unmarshal ${this.#kind()} into ${what}`);
    const value = this.#node.value;
    if (typeof value === 'string') return value;
    return this.#node.source ?? String(value);
  }

  /** A whole number. */
  integer(what: string): number {
    if (this.isNull) return 0;
    const text = this.scalar(what);
    if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) this.fail(`cannot unmarshal !!str \`${text}\` into ${what}`);
    return Number(text);
  }

  #offset(): number {
    return this.#node?.range?.[0] ?? this.#fallbackOffset;
  }

  #kind(): string {
    if (isMap(this.#node)) return '!!map';
    if (isSeq(this.#node)) return '!!seq';
    if (isScalar(this.#node)) return typeof this.#node.value === 'number' ? '!!int' : typeof this.#node.value === 'boolean' ? '!!bool' : '!!str';
    return '!!null';
  }
}
