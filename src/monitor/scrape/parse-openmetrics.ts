/**
 * Lines of the OpenMetrics 1.0 text format. Stricter than the Prometheus text format: single spaces
 * between tokens, no blank lines, no free comments, timestamps in seconds, families never interleaved,
 * and a final `# EOF`. Exemplars are checked for syntax and then dropped.
 */
import type { LineCursor } from './parse-cursor.ts';
import { openMetricsTypes } from './parse-families.ts';
import { parseSampleValue, parseSecondsAsTimestampMs } from './parse-number.ts';
import { readLabelSet } from './parse-sample.ts';
import type { SampleCollector } from './parse-sample.ts';

/** OpenMetrics caps an exemplar's label names plus values at 128 characters. */
export const exemplarLabelCharactersMax = 128;

const space = 0x20;
const hash = 0x23;
const openingBrace = 0x7b;
const openMetricsLabelSyntax = { blanks: false, trailingComma: false } as const;
const unitPattern = /^[a-zA-Z0-9_:]*$/;

/** Parses OpenMetrics lines, remembering whether `# EOF` has been seen. */
export class OpenMetricsLineParser {
  /** The line number of `# EOF`, once seen. Invariant: no line is accepted after it. */
  eofLineNumber: number | undefined;

  parseLine(cursor: LineCursor, collector: SampleCollector): void {
    if (this.eofLineNumber !== undefined) {
      cursor.fail('SCRAPE_CONTENT_AFTER_EOF', `content after # EOF on line ${this.eofLineNumber}`);
    }
    if (cursor.atEnd()) cursor.fail('SCRAPE_EMPTY_LINE', 'OpenMetrics does not allow empty lines');
    if (cursor.peek() === hash) this.#parseDescriptor(cursor, collector);
    else parseOpenMetricsSample(cursor, collector);
  }

  #parseDescriptor(cursor: LineCursor, collector: SampleCollector): void {
    if (cursor.take('# EOF')) {
      if (!cursor.atEnd()) cursor.fail('SCRAPE_UNEXPECTED_CHARACTER', 'unexpected text after # EOF');
      this.eofLineNumber = cursor.lineNumber;
      return;
    }
    const kind = cursor.take('# HELP ') ? 'HELP' : cursor.take('# TYPE ') ? 'TYPE' : cursor.take('# UNIT ') ? 'UNIT' : undefined;
    if (kind === undefined) cursor.fail('SCRAPE_INVALID_METADATA', 'OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF lines');
    const name = cursor.readMetricName();
    if (kind === 'TYPE') parseType(cursor, collector, name);
    else if (kind === 'HELP') parseHelp(cursor, collector, name);
    else parseUnit(cursor, collector, name);
  }
}

function parseType(cursor: LineCursor, collector: SampleCollector, name: string): void {
  cursor.expect(space, 'SCRAPE_INVALID_METADATA', `expected a space and a type after # TYPE ${name}`);
  const typeOffset = cursor.position;
  const typeName = cursor.readRest();
  const type = openMetricsTypes.get(typeName);
  if (type === undefined) cursor.failAt(typeOffset, 'SCRAPE_INVALID_METADATA', `unknown metric type "${typeName}"`);
  collector.families.addMetadata(cursor, 'TYPE', name, (family) => {
    family.type = type;
  });
}

function parseHelp(cursor: LineCursor, collector: SampleCollector, name: string): void {
  let help = '';
  if (!cursor.atEnd()) {
    cursor.expect(space, 'SCRAPE_INVALID_METADATA', 'expected a space before the help text');
    const start = cursor.position;
    const raw = cursor.readRest();
    help = cursor.unescape(start, start + raw.length, { quote: true, keepUnknown: false }, 'SCRAPE_INVALID_METADATA');
  }
  collector.families.addMetadata(cursor, 'HELP', name, (family) => {
    family.help = help;
  });
}

function parseUnit(cursor: LineCursor, collector: SampleCollector, name: string): void {
  let unit = '';
  if (!cursor.atEnd()) {
    cursor.expect(space, 'SCRAPE_INVALID_METADATA', 'expected a space before the unit');
    const unitOffset = cursor.position;
    unit = cursor.readRest();
    if (!unitPattern.test(unit)) cursor.failAt(unitOffset, 'SCRAPE_INVALID_METADATA', `unit "${unit}" has characters outside [a-zA-Z0-9_:]`);
    if (unit !== '' && !name.endsWith(`_${unit}`)) {
      cursor.failAt(unitOffset, 'SCRAPE_INVALID_METADATA', `metric family ${name} does not end with its unit _${unit}`);
    }
  }
  collector.families.addMetadata(cursor, 'UNIT', name, (family) => {
    family.unit = unit;
  });
}

/** `name[{labels}] value[ timestamp][ # exemplar]`, with exactly one space between parts. */
function parseOpenMetricsSample(cursor: LineCursor, collector: SampleCollector): void {
  const nameOffset = cursor.position;
  const name = cursor.readMetricName();
  const pairs: [string, string][] = [];
  if (cursor.peek() === openingBrace) readLabelSet(cursor, openMetricsLabelSyntax, pairs);
  cursor.expect(space, 'SCRAPE_UNEXPECTED_CHARACTER', 'expected one space before the sample value');
  const value = readValue(cursor, 'SCRAPE_INVALID_VALUE');
  let timestampMs: number | undefined;
  if (cursor.peek() === space) {
    cursor.advance();
    if (cursor.peek() !== hash) {
      timestampMs = readTimestamp(cursor, 'SCRAPE_INVALID_TIMESTAMP');
      if (cursor.peek() === space) cursor.advance();
    }
    if (cursor.peek() === hash) skipExemplar(cursor);
  }
  if (!cursor.atEnd()) cursor.fail('SCRAPE_UNEXPECTED_CHARACTER', 'unexpected text after the sample');
  collector.add(cursor, nameOffset, name, pairs, value, timestampMs);
}

/** `# {labels} value[ timestamp]`: validated, then discarded. */
function skipExemplar(cursor: LineCursor): void {
  const exemplarOffset = cursor.position;
  if (!cursor.take('# ') || cursor.peek() !== openingBrace) {
    cursor.failAt(exemplarOffset, 'SCRAPE_INVALID_EXEMPLAR', 'an exemplar starts with "# {"');
  }
  const pairs: [string, string][] = [];
  readLabelSet(cursor, openMetricsLabelSyntax, pairs);
  const labelCharacters = pairs.reduce((total, [name, value]) => total + name.length + [...value].length, 0);
  if (labelCharacters > exemplarLabelCharactersMax) {
    cursor.failAt(exemplarOffset, 'SCRAPE_INVALID_EXEMPLAR', `exemplar labels have ${labelCharacters} characters, more than ${exemplarLabelCharactersMax}`);
  }
  cursor.expect(space, 'SCRAPE_INVALID_EXEMPLAR', 'expected a space before the exemplar value');
  readValue(cursor, 'SCRAPE_INVALID_EXEMPLAR');
  if (cursor.peek() === space) {
    cursor.advance();
    readTimestamp(cursor, 'SCRAPE_INVALID_EXEMPLAR');
  }
}

function readValue(cursor: LineCursor, errorCode: 'SCRAPE_INVALID_VALUE' | 'SCRAPE_INVALID_EXEMPLAR'): number {
  const offset = cursor.position;
  const token = cursor.readToken();
  const value = parseSampleValue(token);
  if (value === undefined) cursor.failAt(offset, errorCode, token === '' ? 'expected a value' : `value "${token}" is not a number`);
  return value;
}

function readTimestamp(cursor: LineCursor, errorCode: 'SCRAPE_INVALID_TIMESTAMP' | 'SCRAPE_INVALID_EXEMPLAR'): number {
  const offset = cursor.position;
  const token = cursor.readToken();
  const timestampMs = parseSecondsAsTimestampMs(token);
  if (timestampMs === undefined) cursor.failAt(offset, errorCode, `timestamp "${token}" is not seconds in range`);
  return timestampMs;
}
