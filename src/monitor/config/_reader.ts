/**
 * A strict, typed walk over a parsed YAML document, in the spirit of Go's yaml.UnmarshalStrict: unknown
 * fields and wrong types are errors, and every error names the file, the line and column, and the path
 * of the offending field (`scrape_configs[0].relabel_configs[1].regex`).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import { assert } from '../tsdb/index.ts';
import { parseByteSize, parseDurationMs } from './units.ts';

/** Largest configuration file accepted, in UTF-16 code units. */
export const configCharactersMax = 16 * 1024 * 1024;
/**
 * Most YAML nodes one configuration may expand to. Aliases are followed on every use, so a chain of
 * aliases to aliases ("billion laughs") stops here instead of exhausting memory.
 */
export const configNodesMax = 1_000_000;

/** Stable codes for {@link ConfigError}. Never rename one; add new ones instead. */
export type ConfigErrorCode =
  /** The file could not be read. */
  | 'CONFIG_READ_FAILED'
  /** The file is longer than {@link configCharactersMax} or expands to more than {@link configNodesMax} nodes. */
  | 'CONFIG_TOO_LARGE'
  /** The text is not well-formed YAML (or holds several documents). */
  | 'CONFIG_YAML_SYNTAX'
  /** A field that the section does not have, as Go's yaml.UnmarshalStrict reports. */
  | 'CONFIG_UNKNOWN_FIELD'
  /** A value of the wrong YAML kind: a list where a map belongs, a word where a number belongs. */
  | 'CONFIG_WRONG_TYPE'
  /** A value of the right kind that breaks a rule (a bad duration, a timeout above its interval...). */
  | 'CONFIG_INVALID_VALUE';

/**
 * A configuration problem at a known place.
 *
 * @example
 * try {
 *   parseMonitorConfig('scrape_configs: [{job_name: a, foo: 1}]', 'prometheus.yml');
 * } catch (error) {
 *   if (error instanceof ConfigError) console.log(error.message);
 *   // prometheus.yml:1:31: scrape_configs[0].foo: field foo not found in type config.ScrapeConfig
 * }
 */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly fileName: string;
  /** 1-based; 0 when the problem has no position (an unreadable file). */
  readonly line: number;
  readonly column: number;
  /** Dotted path of the field, '' for the whole document. */
  readonly path: string;
  readonly problem: string;

  constructor(code: ConfigErrorCode, problem: string, where: { fileName: string; line: number; column: number; path: string }) {
    const position = where.line > 0 ? `:${where.line}:${where.column}` : '';
    super(`${where.fileName}${position}: ${where.path === '' ? '' : `${where.path}: `}${problem}`);
    this.name = 'ConfigError';
    this.code = code;
    this.fileName = where.fileName;
    this.line = where.line;
    this.column = where.column;
    this.path = where.path;
    this.problem = problem;
  }
}

interface ReaderContext {
  readonly fileName: string;
  readonly document: Document.Parsed;
  readonly lineCounter: LineCounter;
  nodeCount: number;
}

const trueWords = new Set(['true', 'yes', 'on', 'y']);
const falseWords = new Set(['false', 'no', 'off', 'n']);

/**
 * Parses `text` and returns the root node. Throws {@link ConfigError} on YAML syntax errors.
 *
 * @example
 * const root = readYamlDocument('global: {scrape_interval: 15s}', 'prometheus.yml');
 * root.fields('config.Config', ['global']).get('global');
 */
export function readYamlDocument(text: string, fileName: string): ConfigNode {
  const where = { fileName, line: 0, column: 0, path: '' };
  if (text.length > configCharactersMax) throw new ConfigError('CONFIG_TOO_LARGE', `configuration is longer than ${configCharactersMax} characters`, where);
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true });
  const firstError = document.errors[0];
  if (firstError !== undefined) {
    const position = lineCounter.linePos(firstError.pos[0]);
    const message = firstError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError('CONFIG_YAML_SYNTAX', `YAML: ${message}`, { fileName, line: position.line, column: position.col, path: '' });
  }
  const context: ReaderContext = { fileName, document, lineCounter, nodeCount: 0 };
  return new ConfigNode(context, document.contents, '', 0);
}

/** One node of the document with its path; absent and `null` nodes read as empty/zero values. */
export class ConfigNode {
  readonly path: string;
  readonly #context: ReaderContext;
  /** Invariant: never an alias (aliases are resolved on construction). */
  readonly #node: YamlNode | null;
  /** Offset to report when the node itself is absent (its parent's). */
  readonly #fallbackOffset: number;

  constructor(context: ReaderContext, node: unknown, path: string, fallbackOffset: number) {
    context.nodeCount += 1;
    this.#context = context;
    this.path = path;
    this.#fallbackOffset = fallbackOffset;
    if (context.nodeCount > configNodesMax) this.fail('CONFIG_TOO_LARGE', `configuration expands to more than ${configNodesMax} YAML nodes`);
    const resolved = isAlias(node) ? node.resolve(context.document) : node;
    this.#node = resolved === undefined || resolved === null ? null : (resolved as YamlNode);
    assert(!isAlias(this.#node), 'aliases of aliases are resolved by the YAML parser');
  }

  /** Whether the field is missing or explicitly `null`/`~`. */
  get isNull(): boolean {
    return this.#node === null || (isScalar(this.#node) && this.#node.value === null);
  }

  /** Throws a {@link ConfigError} located at this node. */
  fail(code: ConfigErrorCode, problem: string): never {
    const offset = this.#node?.range?.[0] ?? this.#fallbackOffset;
    const position = this.#context.lineCounter.linePos(offset);
    throw new ConfigError(code, problem, { fileName: this.#context.fileName, line: position.line, column: position.col, path: this.path });
  }

  /**
   * The fields of a map, each checked against `allowed`. An unknown field fails with Go's wording:
   * `field foo not found in type config.ScrapeConfig`, unless `describeUnknown` gives a better message.
   * `allowed` 'any' accepts every name (a free-form map such as `params`). Null reads as an empty map.
   */
  fields(typeName: string, allowed: readonly string[] | 'any', describeUnknown?: (name: string) => string | undefined): Map<string, ConfigNode> {
    const result = new Map<string, ConfigNode>();
    if (this.isNull) return result;
    if (!isMap(this.#node)) this.fail('CONFIG_WRONG_TYPE', `expected a map of ${typeName} fields, got ${this.#kindName()}`);
    const merged: Pair[] = [];
    for (const pair of this.#node.items) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      if (typeof key === 'symbol') {
        merged.push(pair);
        continue;
      }
      const name = key === undefined || key === null ? '' : String(key);
      const keyOffset = (pair.key as YamlNode | null)?.range?.[0] ?? this.#node.range?.[0] ?? 0;
      const child = new ConfigNode(this.#context, pair.value, this.#childPath(name), keyOffset);
      if (allowed !== 'any' && !allowed.includes(name)) {
        const problem = describeUnknown?.(name) ?? `field ${name} not found in type ${typeName}`;
        new ConfigNode(this.#context, pair.key, this.#childPath(name), keyOffset).fail('CONFIG_UNKNOWN_FIELD', problem);
      }
      result.set(name, child);
    }
    for (const pair of merged) this.#mergeInto(result, new ConfigNode(this.#context, pair.value, this.path, this.#offset()), typeName, allowed, describeUnknown);
    return result;
  }

  /** The items of a sequence; null reads as an empty list. */
  items(): ConfigNode[] {
    if (this.isNull) return [];
    if (!isSeq(this.#node)) this.fail('CONFIG_WRONG_TYPE', `expected a list, got ${this.#kindName()}`);
    return this.#node.items.map((item, index) => new ConfigNode(this.#context, item, `${this.path}[${index}]`, this.#offset()));
  }

  /** A scalar as text: a number or boolean keeps its source spelling, as Go's YAML decoder does. Null is ''. */
  string(): string {
    if (this.isNull) return '';
    if (!isScalar(this.#node)) this.fail('CONFIG_WRONG_TYPE', `expected a string, got ${this.#kindName()}`);
    const value = this.#node.value;
    if (typeof value === 'string') return value;
    return this.#node.source ?? String(value);
  }

  /** A boolean; YAML 1.1's yes/no/on/off are accepted as Go's YAML decoder does. */
  boolean(): boolean {
    if (this.isNull) return false;
    if (!isScalar(this.#node)) this.fail('CONFIG_WRONG_TYPE', `expected true or false, got ${this.#kindName()}`);
    const value = this.#node.value;
    if (typeof value === 'boolean') return value;
    const word = typeof value === 'string' ? value.toLowerCase() : '';
    if (trueWords.has(word)) return true;
    if (falseWords.has(word)) return false;
    return this.fail('CONFIG_WRONG_TYPE', `expected true or false, got ${JSON.stringify(this.string())}`);
  }

  /** One of `choices`; `fallback` when absent. `describe` words the error for anything else. */
  choice<T extends string>(choices: readonly T[], fallback: T, describe: (value: string) => string): T {
    if (this.isNull) return fallback;
    const text = this.string();
    const chosen = choices.find((candidate) => candidate === text);
    return chosen ?? this.fail('CONFIG_INVALID_VALUE', describe(text));
  }

  /** A non-negative integer no larger than `maximum` (Go's uint fields). */
  unsignedInteger(maximum = Number.MAX_SAFE_INTEGER): number {
    if (this.isNull) return 0;
    const text = this.string();
    const value = /^\+?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 0) this.fail('CONFIG_WRONG_TYPE', `expected a non-negative integer, got ${JSON.stringify(text)}`);
    if (value > maximum) this.fail('CONFIG_INVALID_VALUE', `${value} is larger than the maximum ${maximum}`);
    return value;
  }

  /** A non-negative integer of up to 64 bits (Go's uint64, as `modulus`). */
  unsigned64(): bigint {
    if (this.isNull) return 0n;
    const text = this.string();
    if (!/^\+?\d+$/.test(text)) this.fail('CONFIG_WRONG_TYPE', `expected a non-negative integer, got ${JSON.stringify(text)}`);
    const value = BigInt(text.replace('+', ''));
    if (value >= 2n ** 64n) this.fail('CONFIG_INVALID_VALUE', `${text} does not fit in 64 bits`);
    return value;
  }

  /** A Prometheus duration in milliseconds. */
  durationMs(): number {
    if (this.isNull) return 0;
    const text = this.string();
    try {
      return parseDurationMs(text);
    } catch (error) {
      return this.fail('CONFIG_INVALID_VALUE', (error as Error).message);
    }
  }

  /** A base-2 byte size (`10MB`). */
  byteSize(): number {
    if (this.isNull) return 0;
    const text = this.string();
    try {
      return parseByteSize(text);
    } catch (error) {
      return this.fail('CONFIG_INVALID_VALUE', (error as Error).message);
    }
  }

  /** A list of strings; null reads as empty. */
  stringList(): string[] {
    return this.items().map((item) => item.string());
  }

  /** A map of string to string, in document order; null reads as empty. */
  stringMap(): Map<string, string> {
    const result = new Map<string, string>();
    if (this.isNull) return result;
    if (!isMap(this.#node)) this.fail('CONFIG_WRONG_TYPE', `expected a map of strings, got ${this.#kindName()}`);
    for (const pair of this.#node.items) {
      const keyNode = new ConfigNode(this.#context, pair.key, this.path, this.#offset());
      const name = keyNode.string();
      result.set(name, new ConfigNode(this.#context, pair.value, this.#childPath(name), this.#offset()).string());
    }
    return result;
  }

  /** The child at `name` of a map read by {@link fields}, or an absent node when missing. */
  static absent(parent: ConfigNode, name: string): ConfigNode {
    return new ConfigNode(parent.#context, null, parent.#childPath(name), parent.#offset());
  }

  #mergeInto(result: Map<string, ConfigNode>, source: ConfigNode, typeName: string, allowed: readonly string[] | 'any', describeUnknown?: (name: string) => string | undefined): void {
    const sources = isSeq(source.#node) ? source.items() : [source];
    for (const item of sources) {
      for (const [name, child] of item.fields(typeName, allowed, describeUnknown)) {
        if (!result.has(name)) result.set(name, new ConfigNode(this.#context, child.#node, this.#childPath(name), child.#offset()));
      }
    }
  }

  #childPath(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`;
  }

  #offset(): number {
    return this.#node?.range?.[0] ?? this.#fallbackOffset;
  }

  #kindName(): string {
    if (isMap(this.#node)) return 'a map';
    if (isSeq(this.#node)) return 'a list';
    if (isScalar(this.#node)) return JSON.stringify(this.string());
    return 'nothing';
  }
}

/** Reads `name` from fields returned by {@link ConfigNode.fields}, or an absent node under `parent`. */
export function field(parent: ConfigNode, fields: ReadonlyMap<string, ConfigNode>, name: string): ConfigNode {
  return fields.get(name) ?? ConfigNode.absent(parent, name);
}
