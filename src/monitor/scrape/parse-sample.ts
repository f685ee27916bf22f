/**
 * What both formats do once a sample line is tokenised: read its label set, place it in its family,
 * normalise `le` and `quantile`, enforce the sample limit, and build the store's label set.
 */
import { Labels, metricNameLabel, TsdbError } from '../tsdb/index.ts';
import type { LineCursor } from './parse-cursor.ts';
import { FamilyTracker } from './parse-families.ts';
import type { ExpositionFormat, FamilyMatch } from './parse-families.ts';
import { formatFloatLabelValue, parseSampleValue } from './parse-number.ts';

/** One sample from an exposition. */
export interface ParsedSample {
  /** The series: `__name__` plus the sample's labels (empty values dropped, `le`/`quantile` normalised). */
  readonly labels: Labels;
  readonly value: number;
  /** The exposition's own timestamp, if it gave one; the scraper uses the scrape time otherwise. */
  readonly timestampMs: number | undefined;
  /** The metric family the sample belongs to (`foo` for `foo_bucket`); a key into the metadata. */
  readonly family: string;
}

export interface LabelSyntax {
  /** Whether spaces and tabs may surround label tokens (text format) or not (OpenMetrics). */
  readonly blanks: boolean;
  /** Whether a comma may follow the last label (text format). */
  readonly trailingComma: boolean;
}

const comma = 0x2c;
const closingBrace = 0x7d;
const equalsSign = 0x3d;
const labelsCheckedBySetMin = 16;

/**
 * Reads `{name="value", ...}` at the cursor into `pairs`. Names must be unique within the sample and may
 * not repeat the metric name.
 */
export function readLabelSet(cursor: LineCursor, syntax: LabelSyntax, pairs: [string, string][]): void {
  cursor.advance(); // The caller saw the opening brace.
  if (syntax.blanks) cursor.skipBlanks();
  if (cursor.peek() === closingBrace) {
    cursor.advance();
    return;
  }
  while (true) {
    const nameOffset = cursor.position;
    const name = cursor.readLabelName();
    if (name === metricNameLabel || hasLabel(pairs, name)) {
      cursor.failAt(nameOffset, 'SCRAPE_DUPLICATE_LABEL', `label ${name} appears twice`);
    }
    if (syntax.blanks) cursor.skipBlanks();
    cursor.expect(equalsSign, 'SCRAPE_UNEXPECTED_CHARACTER', `expected = after label name ${name}`);
    if (syntax.blanks) cursor.skipBlanks();
    pairs.push([name, cursor.readQuotedValue()]);
    if (syntax.blanks) cursor.skipBlanks();
    if (cursor.peek() === closingBrace) break;
    cursor.expect(comma, 'SCRAPE_UNEXPECTED_CHARACTER', 'expected , or } after a label value');
    if (syntax.blanks) cursor.skipBlanks();
    if (syntax.trailingComma && cursor.peek() === closingBrace) break;
  }
  cursor.advance();
}

function hasLabel(pairs: readonly (readonly [string, string])[], name: string): boolean {
  if (pairs.length >= labelsCheckedBySetMin) return new Set(pairs.map((pair) => pair[0])).has(name);
  for (const pair of pairs) {
    if (pair[0] === name) return true;
  }
  return false;
}

/** Collects samples and metadata for one parse. */
export class SampleCollector {
  readonly samples: ParsedSample[] = [];
  readonly families: FamilyTracker;
  readonly #samplesMax: number;
  readonly #skipCreatedSeries: boolean;

  constructor(format: ExpositionFormat, samplesMax: number, skipCreatedSeries: boolean) {
    this.families = new FamilyTracker(format);
    this.#samplesMax = samplesMax;
    this.#skipCreatedSeries = skipCreatedSeries;
  }

  /** Adds a sample whose name starts at text offset `nameOffset`. Takes ownership of `pairs`. */
  add(cursor: LineCursor, nameOffset: number, name: string, pairs: [string, string][], value: number, timestampMs: number | undefined): void {
    const match = this.families.resolveSample(cursor, name);
    if (this.#skipCreatedSeries && match.suffix === '_created') return;
    if (this.samples.length >= this.#samplesMax) {
      cursor.failAt(nameOffset, 'SCRAPE_SAMPLE_LIMIT_EXCEEDED', `more than ${this.#samplesMax} samples`);
    }
    normalizeFloatLabel(match, pairs);
    pairs.push([metricNameLabel, name]);
    let labels: Labels;
    try {
      labels = Labels.fromPairs(pairs);
    } catch (error) {
      if (!(error instanceof TsdbError)) throw error;
      return cursor.failAt(nameOffset, error.code === 'TSDB_DUPLICATE_LABEL_NAME' ? 'SCRAPE_DUPLICATE_LABEL' : 'SCRAPE_INVALID_LABEL_VALUE', error.message);
    }
    this.samples.push({ labels, value, timestampMs, family: match.family });
  }
}

/**
 * Rewrites a bucket's `le` or a quantile's `quantile` to its canonical float spelling (Prometheus 3 does
 * the same), so `le="1"` and `le="1.0"` are one series. Like Prometheus, a missing or non-numeric value is
 * left alone rather than failing the whole scrape: the exporter's other series are still good.
 */
function normalizeFloatLabel(match: FamilyMatch, pairs: [string, string][]): void {
  const isBucket = (match.type === 'histogram' || match.type === 'gaugehistogram') && match.suffix === '_bucket';
  const isQuantile = match.type === 'summary' && match.suffix === '';
  if (!isBucket && !isQuantile) return;
  const name = isBucket ? 'le' : 'quantile';
  const pair = pairs.find((candidate) => candidate[0] === name);
  const bound = pair === undefined ? undefined : parseSampleValue(pair[1]);
  if (pair !== undefined && bound !== undefined) pair[1] = formatFloatLabelValue(bound);
}
