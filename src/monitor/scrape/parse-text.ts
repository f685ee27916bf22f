/**
 * Lines of the Prometheus text exposition format 0.0.4: `# HELP`, `# TYPE`, other comments, blank lines
 * and samples `name{labels} value [timestamp_ms]`. Blanks (spaces, tabs) may separate and surround tokens.
 */
import type { LineCursor } from './parse-cursor.ts';
import { textTypes } from './parse-families.ts';
import { parseSampleValue, parseTimestampMs } from './parse-number.ts';
import { readLabelSet } from './parse-sample.ts';
import type { SampleCollector } from './parse-sample.ts';

const hash = 0x23;
const openingBrace = 0x7b;
const textLabelSyntax = { blanks: true, trailingComma: true } as const;

/** Parses one line of the text format into `collector`. */
export function parseTextLine(cursor: LineCursor, collector: SampleCollector): void {
  cursor.skipBlanks();
  if (cursor.atEnd()) return;
  if (cursor.peek() === hash) parseTextComment(cursor, collector);
  else parseTextSample(cursor, collector);
}

function parseTextComment(cursor: LineCursor, collector: SampleCollector): void {
  cursor.advance();
  cursor.skipBlanks();
  const keyword = cursor.readToken();
  if (keyword !== 'HELP' && keyword !== 'TYPE') return; // Any other comment is ignored.
  if (cursor.skipBlanks() === 0) cursor.fail('SCRAPE_INVALID_METADATA', `expected a metric name after # ${keyword}`);
  const name = cursor.readMetricName();
  if (keyword === 'HELP') {
    parseTextHelp(cursor, collector, name);
    return;
  }
  const typeOffset = cursor.position;
  if (cursor.skipBlanks() === 0) cursor.fail('SCRAPE_INVALID_METADATA', `expected a type after # TYPE ${name}`);
  const typeName = cursor.readToken();
  const type = textTypes.get(typeName);
  if (type === undefined) {
    cursor.failAt(typeOffset + 1, 'SCRAPE_INVALID_METADATA', `unknown metric type "${typeName}" (expected counter, gauge, histogram, summary or untyped)`);
  }
  cursor.skipBlanks();
  if (!cursor.atEnd()) cursor.fail('SCRAPE_UNEXPECTED_CHARACTER', 'unexpected text after the metric type');
  collector.families.addMetadata(cursor, 'TYPE', name, (family) => {
    family.type = type;
  });
}

/** The docstring is the rest of the line after the blanks following the name; `\\` and `\n` are escapes. */
function parseTextHelp(cursor: LineCursor, collector: SampleCollector, name: string): void {
  if (!cursor.atEnd() && cursor.skipBlanks() === 0) cursor.fail('SCRAPE_INVALID_METADATA', 'expected a blank after the metric name');
  const start = cursor.position;
  const raw = cursor.readRest();
  const help = cursor.unescape(start, start + raw.length, { quote: false, keepUnknown: true }, 'SCRAPE_INVALID_METADATA');
  collector.families.addMetadata(cursor, 'HELP', name, (family) => {
    family.help = help;
  });
}

function parseTextSample(cursor: LineCursor, collector: SampleCollector): void {
  const nameOffset = cursor.position;
  const name = cursor.readMetricName();
  const pairs: [string, string][] = [];
  const separated = cursor.skipBlanks() > 0;
  const braced = cursor.peek() === openingBrace;
  if (braced) {
    readLabelSet(cursor, textLabelSyntax, pairs);
    cursor.skipBlanks();
  }
  if (!separated && !braced && !cursor.atEnd()) {
    cursor.fail('SCRAPE_UNEXPECTED_CHARACTER', `unexpected character after metric name ${name}`);
  }
  const valueOffset = cursor.position;
  const valueToken = cursor.readToken();
  const value = parseSampleValue(valueToken);
  if (value === undefined) {
    cursor.failAt(valueOffset, 'SCRAPE_INVALID_VALUE', valueToken === '' ? 'expected a sample value' : `sample value "${valueToken}" is not a number`);
  }
  let timestampMs: number | undefined;
  if (cursor.skipBlanks() > 0 && !cursor.atEnd()) {
    const timestampOffset = cursor.position;
    const timestampToken = cursor.readToken();
    timestampMs = parseTimestampMs(timestampToken);
    if (timestampMs === undefined) {
      cursor.failAt(timestampOffset, 'SCRAPE_INVALID_TIMESTAMP', `timestamp "${timestampToken}" is not integer milliseconds in range`);
    }
    cursor.skipBlanks();
  }
  if (!cursor.atEnd()) cursor.fail('SCRAPE_UNEXPECTED_CHARACTER', 'unexpected text after the sample');
  collector.add(cursor, nameOffset, name, pairs, value, timestampMs);
}
