/**
 * Metric families: which family each sample belongs to (a histogram `foo` owns `foo_bucket`, `foo_sum`,
 * `foo_count`), the HELP/TYPE/UNIT metadata, and the ordering rules around them.
 */
import { assert } from '../tsdb/index.ts';
import type { LineCursor } from './parse-cursor.ts';

export type ExpositionFormat = 'prometheus-text' | 'openmetrics';

/** Metric types. The text format's `untyped` is reported as `unknown`, as Prometheus does. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';

/** What an exposition said about one metric family. */
export interface MetricMetadata {
  readonly family: string;
  readonly type: MetricType;
  /** '' when the exposition gave no HELP. */
  readonly help: string;
  /** '' when the exposition gave no UNIT (always in the text format). */
  readonly unit: string;
}

/** Sample-name suffixes each type owns, per format; '' is the family name itself. */
const suffixesByFormat: Record<ExpositionFormat, Record<MetricType, readonly string[]>> = {
  'prometheus-text': {
    counter: [''],
    gauge: [''],
    histogram: ['_bucket', '_count', '_sum'],
    gaugehistogram: [],
    summary: ['', '_count', '_sum'],
    info: [],
    stateset: [],
    unknown: [''],
  },
  openmetrics: {
    // A bare counter name is not valid OpenMetrics, but `# TYPE foo_total counter` followed by
    // `foo_total 1` is a common exporter mistake that Prometheus accepts too.
    counter: ['_total', '_created', ''],
    gauge: [''],
    histogram: ['_bucket', '_count', '_sum', '_created'],
    gaugehistogram: ['_bucket', '_gcount', '_gsum'],
    summary: ['', '_count', '_sum', '_created'],
    info: ['_info'],
    stateset: [''],
    unknown: [''],
  },
};

const candidateSuffixes = ['_bucket', '_count', '_sum', '_created', '_total', '_gcount', '_gsum', '_info', ''];

export const textTypes: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ['counter', 'counter'], ['gauge', 'gauge'], ['histogram', 'histogram'], ['summary', 'summary'], ['untyped', 'unknown'],
]);

export const openMetricsTypes: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ['counter', 'counter'], ['gauge', 'gauge'], ['histogram', 'histogram'], ['gaugehistogram', 'gaugehistogram'],
  ['summary', 'summary'], ['info', 'info'], ['stateset', 'stateset'], ['unknown', 'unknown'],
]);

interface Family {
  readonly name: string;
  type: MetricType;
  help: string;
  unit: string;
  typeSeen: boolean;
  helpSeen: boolean;
  unitSeen: boolean;
  sampleCount: number;
}

export type MetadataKind = 'HELP' | 'TYPE' | 'UNIT';

/** A sample's family and the suffix its name adds to the family name. */
export interface FamilyMatch {
  readonly family: string;
  readonly type: MetricType;
  readonly suffix: string;
}

export class FamilyTracker {
  readonly #format: ExpositionFormat;
  readonly #families = new Map<string, Family>();
  /** Invariant: the family that the latest metadata line or sample belonged to. */
  #current: Family | undefined;

  constructor(format: ExpositionFormat) {
    this.#format = format;
  }

  /** Records a HELP, TYPE or UNIT line for family `name`. */
  addMetadata(cursor: LineCursor, kind: MetadataKind, name: string, apply: (family: Family) => void): void {
    const family = this.#familyForMetadata(cursor, name);
    const seen = kind === 'HELP' ? family.helpSeen : kind === 'TYPE' ? family.typeSeen : family.unitSeen;
    if (seen) cursor.failAt(cursor.position, 'SCRAPE_DUPLICATE_METADATA', `second ${kind} line for metric family ${name}`);
    // The text format lets HELP trail the samples; a TYPE there would retype samples already emitted.
    const strict = this.#format === 'openmetrics' || kind === 'TYPE';
    if (strict && family.sampleCount > 0) {
      cursor.failAt(cursor.position, 'SCRAPE_METADATA_AFTER_SAMPLES', `${kind} line for metric family ${name} after its samples`);
    }
    if (kind === 'HELP') family.helpSeen = true;
    else if (kind === 'TYPE') family.typeSeen = true;
    else family.unitSeen = true;
    apply(family);
  }

  /** Finds (or starts) the family of a sample named `name` and counts the sample in it. */
  resolveSample(cursor: LineCursor, name: string): FamilyMatch {
    let family = this.#current;
    let suffix = family === undefined ? undefined : this.#suffixWithin(family, name);
    if (family === undefined || suffix === undefined) {
      family = this.#format === 'openmetrics' ? this.#startOpenMetricsFamily(cursor, name) : this.#findTextFamily(name);
      suffix = this.#suffixWithin(family, name) ?? '';
      this.#current = family;
    }
    family.sampleCount += 1;
    assert(family.name + suffix === name, 'a sample name is its family name plus a suffix');
    return { family: family.name, type: family.type, suffix };
  }

  /** Metadata for every family seen, in order of first appearance. */
  metadata(): MetricMetadata[] {
    return [...this.#families.values()].map((family) => ({ family: family.name, type: family.type, help: family.help, unit: family.unit }));
  }

  #familyForMetadata(cursor: LineCursor, name: string): Family {
    if (this.#current?.name === name) return this.#current;
    const existing = this.#families.get(name);
    if (existing !== undefined && this.#format === 'openmetrics') {
      cursor.failAt(cursor.position, 'SCRAPE_INTERLEAVED_FAMILY', `metric family ${name} resumes after another family began`);
    }
    const family = existing ?? this.#create(name);
    this.#current = family;
    return family;
  }

  /** OpenMetrics: a sample outside the current family starts a new one, which must not have been seen. */
  #startOpenMetricsFamily(cursor: LineCursor, name: string): Family {
    if (this.#current?.name === name) {
      cursor.failAt(cursor.position, 'SCRAPE_INVALID_METRIC_NAME', `a ${this.#current.type} family has no sample named ${name} without a suffix`);
    }
    for (const suffix of candidateSuffixes) {
      if (!name.endsWith(suffix)) continue;
      const earlier = this.#families.get(name.slice(0, name.length - suffix.length));
      if (earlier !== undefined && this.#suffixWithin(earlier, name) !== undefined) {
        cursor.failAt(cursor.position, 'SCRAPE_INTERLEAVED_FAMILY', `metric family ${earlier.name} resumes after another family began`);
      }
    }
    if (this.#families.has(name)) {
      cursor.failAt(cursor.position, 'SCRAPE_INTERLEAVED_FAMILY', `metric family ${name} resumes after another family began`);
    }
    return this.#create(name);
  }

  /** Text format: families may be declared anywhere before their samples; otherwise a sample is its own. */
  #findTextFamily(name: string): Family {
    for (const suffix of candidateSuffixes) {
      if (!name.endsWith(suffix)) continue;
      const declared = this.#families.get(name.slice(0, name.length - suffix.length));
      if (declared !== undefined && this.#suffixWithin(declared, name) !== undefined) return declared;
    }
    return this.#families.get(name) ?? this.#create(name);
  }

  #suffixWithin(family: Family, name: string): string | undefined {
    if (!name.startsWith(family.name)) return undefined;
    const suffix = name.slice(family.name.length);
    return suffixesByFormat[this.#format][family.type].includes(suffix) ? suffix : undefined;
  }

  #create(name: string): Family {
    assert(!this.#families.has(name), 'a family is created once');
    const family: Family = { name, type: 'unknown', help: '', unit: '', typeSeen: false, helpSeen: false, unitSeen: false, sampleCount: 0 };
    this.#families.set(name, family);
    return family;
  }
}

export type { Family };
