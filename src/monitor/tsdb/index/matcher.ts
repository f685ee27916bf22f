/**
 * Label matchers with Prometheus's semantics. A matcher tests one label's value, and a missing label has
 * the value '' — so `{foo=""}`, `{foo!="bar"}` and `{foo=~".*"}` all match series without `foo`.
 */
import { TsdbError } from '../errors.ts';
import { isValidLabelName, quoteLabelValue } from '../labels.ts';
import { compileRegex, matchesCompiledRegex } from './regex-compile.ts';
import type { CompiledRegex } from './regex-compile.ts';

export type MatchType = '=' | '!=' | '=~' | '!~';

const matchTypes: ReadonlySet<string> = new Set<MatchType>(['=', '!=', '=~', '!~']);

/**
 * One label matcher.
 *
 * @example
 * const matcher = new Matcher('=~', 'job', 'api|web');
 * matcher.matches('api'); // true
 * matcher.matches(''); // false: series without `job` do not match
 * new Matcher('!=', 'env', 'prod').matchesEmpty; // true
 */
export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** Whether a series lacking the label (value '') matches. */
  readonly matchesEmpty: boolean;
  /** Set for `=~` and `!~`. */
  readonly #regex: CompiledRegex | undefined;
  readonly #literalValues: ReadonlySet<string> | undefined;

  constructor(type: MatchType, name: string, value: string) {
    if (!matchTypes.has(type)) throw new TsdbError('TSDB_INVALID_MATCHER', `Matcher type ${JSON.stringify(type)} is not one of =, !=, =~, !~.`);
    if (!isValidLabelName(name)) {
      throw new TsdbError('TSDB_INVALID_LABEL_NAME', `Matcher label name "${name}" does not match [a-zA-Z_][a-zA-Z0-9_]*.`);
    }
    this.type = type;
    this.name = name;
    this.value = value;
    this.#regex = type === '=~' || type === '!~' ? compileRegex(value) : undefined;
    const fastPath = this.#regex?.fastPath;
    this.#literalValues = fastPath === undefined ? new Set([value]) : fastPath.kind === 'set' ? fastPath.values : undefined;
    this.matchesEmpty = this.matches('');
  }

  /** Whether the label value `labelValue` ('' for a missing label) satisfies the matcher. */
  matches(labelValue: string): boolean {
    switch (this.type) {
      case '=':
        return labelValue === this.value;
      case '!=':
        return labelValue !== this.value;
      case '=~':
        return matchesCompiledRegex(this.#regex!, labelValue);
      case '!~':
        return !matchesCompiledRegex(this.#regex!, labelValue);
    }
  }

  /** Whether the matcher accepts every value, missing label included (`=~".*"`): it filters nothing. */
  get matchesEverything(): boolean {
    return this.type === '=~' && this.#regex!.fastPath.kind === 'any';
  }

  /**
   * The finite set of values the positive form accepts (`=` and `!=`, or `=~`/`!~` with a literal
   * alternation). The index looks these up directly instead of scanning every value of the label.
   */
  get literalValues(): ReadonlySet<string> | undefined {
    return this.#literalValues;
  }

  /** Whether the matcher negates its positive form (`!=`, `!~`). */
  get isNegative(): boolean {
    return this.type === '!=' || this.type === '!~';
  }

  /** The PromQL form, e.g. `job=~"api|web"`. */
  toString(): string {
    return `${this.name}${this.type}${quoteLabelValue(this.value)}`;
  }
}
