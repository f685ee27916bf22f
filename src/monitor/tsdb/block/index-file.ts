/**
 * A block's `index` file: a header, then three CRC-framed sections (symbols, series, postings). Series are
 * stored in label order, so a series' ordinal is also its rank, and postings are lists of ordinals. The
 * layout is in docs/format/tsdb.md.
 *
 * The reader keeps the file's bytes and decodes lazily: at open it checks the checksums, decodes the
 * symbols, and walks the series and postings sections once to learn where each entry starts.
 */
import { crc32cRange } from '../../../storage/crc32c.ts';
import { ByteReader, ByteWriter } from '../encoding.ts';
import { assert, TsdbError } from '../errors.ts';
import type { Matcher } from '../index/index.ts';
import { intersectPostings, mergePostings, subtractPostings } from '../index/index.ts';
import type { Postings } from '../index/index.ts';
import { compareStrings, Labels } from '../labels.ts';

/** "KTSI": keel time-series index. */
const indexMagic = 0x4b54_5349;
const indexFormatVersion = 1;
const indexHeaderBytes = 8;
const sectionCount = 3;

/** A chunk as the index records it: inclusive time bounds and its reference in the chunk segments. */
export interface ChunkMeta {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly reference: number;
}

export interface IndexSeriesEntry {
  readonly labels: Labels;
  /** Time-ordered, non-overlapping. */
  readonly chunks: readonly ChunkMeta[];
}

/**
 * Encodes an index for `series`, which must be sorted by labels with no duplicates.
 *
 * @example
 * const bytes = encodeIndex([{ labels, chunks: [{ minTimeMs: 0, maxTimeMs: 1_000, reference: 8 }] }]);
 */
export function encodeIndex(series: readonly IndexSeriesEntry[]): Uint8Array {
  const symbols = collectSymbols(series);
  const symbolIds = new Map<string, number>();
  symbols.forEach((symbol, id) => symbolIds.set(symbol, id));
  const writer = new ByteWriter(1024 + series.length * 64);
  writer.u32(indexMagic);
  writer.u8(indexFormatVersion);
  writer.u8(0);
  writer.u8(0);
  writer.u8(0);
  writeSection(writer, () => {
    writer.uvarint(symbols.length);
    for (const symbol of symbols) writer.string(symbol);
  });
  const postings = new Map<number, Map<number, number[]>>();
  writeSection(writer, () => writeSeries(writer, series, symbolIds, postings));
  writeSection(writer, () => writePostings(writer, postings));
  return writer.copy();
}

function collectSymbols(series: readonly IndexSeriesEntry[]): string[] {
  const set = new Set<string>();
  for (const entry of series) {
    for (const label of entry.labels) {
      set.add(label.name);
      set.add(label.value);
    }
  }
  return [...set].sort(compareStrings);
}

function writeSection(writer: ByteWriter, writePayload: () => void): void {
  const lengthOffset = writer.length;
  writer.u32(0);
  writePayload();
  const payloadBytes = writer.length - lengthOffset - 4;
  writer.patchU32(lengthOffset, payloadBytes);
  writer.u32(crc32cRange(writer.view(), lengthOffset + 4, writer.length));
}

function writeSeries(writer: ByteWriter, series: readonly IndexSeriesEntry[], symbolIds: ReadonlyMap<string, number>, postings: Map<number, Map<number, number[]>>): void {
  writer.uvarint(series.length);
  for (let ordinal = 0; ordinal < series.length; ordinal += 1) {
    const entry = series[ordinal]!;
    assert(ordinal === 0 || Labels.compare(series[ordinal - 1]!.labels, entry.labels) < 0, 'index series are sorted and distinct');
    assert(entry.chunks.length > 0, 'an indexed series has chunks');
    writer.uvarint(entry.labels.size);
    for (let index = 0; index < entry.labels.size; index += 1) {
      const nameId = symbolIds.get(entry.labels.nameAt(index))!;
      const valueId = symbolIds.get(entry.labels.valueAt(index))!;
      writer.uvarint(nameId);
      writer.uvarint(valueId);
      let values = postings.get(nameId);
      if (values === undefined) postings.set(nameId, (values = new Map()));
      let list = values.get(valueId);
      if (list === undefined) values.set(valueId, (list = []));
      list.push(ordinal);
    }
    writeChunkMetas(writer, entry.chunks);
  }
}

function writeChunkMetas(writer: ByteWriter, chunks: readonly ChunkMeta[]): void {
  writer.uvarint(chunks.length);
  let previous: ChunkMeta | undefined;
  for (const chunk of chunks) {
    assert(chunk.maxTimeMs >= chunk.minTimeMs, 'a chunk ends at or after its start');
    if (previous === undefined) {
      writer.varint(chunk.minTimeMs);
      writer.uvarint(chunk.reference);
    } else {
      assert(chunk.minTimeMs > previous.maxTimeMs && chunk.reference > previous.reference, 'chunks are ordered in time and in the file');
      writer.uvarint(chunk.minTimeMs - previous.maxTimeMs);
      writer.uvarint(chunk.reference - previous.reference);
    }
    writer.uvarint(chunk.maxTimeMs - chunk.minTimeMs);
    previous = chunk;
  }
}

function writePostings(writer: ByteWriter, postings: ReadonlyMap<number, ReadonlyMap<number, number[]>>): void {
  const pairs: [number, number, number[]][] = [];
  for (const [nameId, values] of postings) {
    for (const [valueId, list] of values) pairs.push([nameId, valueId, list]);
  }
  // Symbol IDs follow symbol order, so sorting IDs sorts by name, then value.
  pairs.sort((left, right) => left[0] - right[0] || left[1] - right[1]);
  writer.uvarint(pairs.length);
  for (const [nameId, valueId, list] of pairs) {
    writer.uvarint(nameId);
    writer.uvarint(valueId);
    writer.uvarint(list.length);
    let previous = -1;
    for (const ordinal of list) {
      writer.uvarint(ordinal - previous - 1);
      previous = ordinal;
    }
  }
}

/** The values of one label name in the postings section, with where each list starts. */
interface LabelPostings {
  /** Sorted in UTF-8 order. */
  readonly values: string[];
  readonly offsets: number[];
}

/**
 * A block index read from bytes.
 *
 * @example
 * const index = BlockIndex.fromBytes(await readFile(path), path);
 * for (const ordinal of index.select([new Matcher('=', 'job', 'api')])) index.series(ordinal);
 */
export class BlockIndex {
  readonly path: string;
  readonly #bytes: Uint8Array;
  readonly #symbols: string[];
  /** Invariant: #seriesOffsets[i] is where series i's entry starts; strictly increasing. */
  readonly #seriesOffsets: Float64Array;
  /**
   * Every series' chunk metadata, decoded once at open into flat arrays (no objects for the collector):
   * series i's chunks are indices [#chunkStarts[i], #chunkStarts[i + 1]) of the three columns.
   */
  readonly #chunkStarts: Uint32Array;
  readonly #chunkMinTimes: Float64Array;
  readonly #chunkMaxTimes: Float64Array;
  readonly #chunkReferences: Float64Array;
  /** Label sets decoded so far, by ordinal: a block is immutable, so queries share them. */
  readonly #labels: (Labels | undefined)[] = [];
  readonly #postings = new Map<string, LabelPostings>();
  readonly #byteLength: number;

  private constructor(bytes: Uint8Array, path: string) {
    this.path = path;
    this.#bytes = bytes;
    this.#byteLength = bytes.length;
    const sections = splitSections(bytes, path);
    this.#symbols = readSymbols(this.#reader(sections[0]!));
    const walked = this.#walkSeries(this.#reader(sections[1]!));
    this.#seriesOffsets = walked.offsets;
    this.#chunkStarts = walked.chunkStarts;
    this.#chunkMinTimes = Float64Array.from(walked.minTimes);
    this.#chunkMaxTimes = Float64Array.from(walked.maxTimes);
    this.#chunkReferences = Float64Array.from(walked.references);
    this.#walkPostings(this.#reader(sections[2]!));
  }

  /** Checks and opens index bytes; every defect is `TSDB_BLOCK_CORRUPT` naming the file and offset. */
  static fromBytes(bytes: Uint8Array, path: string): BlockIndex {
    return new BlockIndex(bytes, path);
  }

  get seriesCount(): number {
    return this.#seriesOffsets.length;
  }

  get byteLength(): number {
    return this.#byteLength;
  }

  /** The labels and chunk metadata of series `ordinal`. */
  series(ordinal: number): IndexSeriesEntry {
    const chunks: ChunkMeta[] = [];
    for (let index = this.chunksStart(ordinal); index < this.chunksEnd(ordinal); index += 1) {
      chunks.push({ minTimeMs: this.chunkMinTimeMs(index), maxTimeMs: this.chunkMaxTimeMs(index), reference: this.chunkReference(index) });
    }
    return { labels: this.labels(ordinal), chunks };
  }

  /** The label set of series `ordinal` (decoded once, then shared). */
  labels(ordinal: number): Labels {
    assert(Number.isInteger(ordinal) && ordinal >= 0 && ordinal < this.#seriesOffsets.length, 'series ordinal in range');
    let labels = this.#labels[ordinal];
    if (labels === undefined) {
      labels = this.#readLabels(this.#reader([this.#seriesOffsets[ordinal]!, this.#bytes.length]));
      this.#labels[ordinal] = labels;
    }
    return labels;
  }

  /** The first of series `ordinal`'s chunks, as an index for the chunk accessors below. */
  chunksStart(ordinal: number): number {
    return this.#chunkStarts[ordinal]!;
  }

  /** One past the last of series `ordinal`'s chunks. */
  chunksEnd(ordinal: number): number {
    return this.#chunkStarts[ordinal + 1]!;
  }

  chunkMinTimeMs(index: number): number {
    return this.#chunkMinTimes[index]!;
  }

  chunkMaxTimeMs(index: number): number {
    return this.#chunkMaxTimes[index]!;
  }

  chunkReference(index: number): number {
    return this.#chunkReferences[index]!;
  }

  /** Sorted label names. */
  labelNames(): string[] {
    return [...this.#postings.keys()].sort(compareStrings);
  }

  /** Sorted values of a label. */
  labelValues(name: string): string[] {
    return [...(this.#postings.get(name)?.values ?? [])];
  }

  /** Ordinals of the series matching every matcher, increasing (so in label order). No matchers select nothing. */
  select(matchers: readonly Matcher[]): number[] {
    if (matchers.length === 0) return [];
    const intersected: Postings[] = [];
    const subtracted: Postings[] = [];
    for (const matcher of matchers) {
      if (matcher.matchesEverything) continue;
      if (matcher.matchesEmpty) subtracted.push(this.#postingsForValues(matcher, false));
      else intersected.push(this.#postingsForValues(matcher, true));
    }
    const base = intersected.length > 0 ? intersectPostings(intersected) : Array.from({ length: this.seriesCount }, (_, ordinal) => ordinal);
    return subtracted.length > 0 ? subtractPostings(base, mergePostings(subtracted)) : base;
  }

  /** Ordinals of series with `name="value"`. */
  postings(name: string, value: string): number[] {
    const label = this.#postings.get(name);
    if (label === undefined) return [];
    const position = binarySearch(label.values, value);
    return position < 0 ? [] : this.#readPostingsList(label.offsets[position]!);
  }

  #postingsForValues(matcher: Matcher, accepted: boolean): number[] {
    const label = this.#postings.get(matcher.name);
    if (label === undefined) return [];
    const lists: number[][] = [];
    const literals = matcher.literalValues;
    if (literals !== undefined && matcher.isNegative !== accepted) {
      for (const literal of literals) {
        const position = binarySearch(label.values, literal);
        if (position >= 0) lists.push(this.#readPostingsList(label.offsets[position]!));
      }
    } else {
      for (let position = 0; position < label.values.length; position += 1) {
        if (matcher.matches(label.values[position]!) === accepted) lists.push(this.#readPostingsList(label.offsets[position]!));
      }
    }
    return mergePostings(lists);
  }

  #readPostingsList(offset: number): number[] {
    const reader = this.#reader([offset, this.#bytes.length]);
    const count = reader.uvarint();
    const list: number[] = new Array<number>(count);
    let previous = -1;
    for (let index = 0; index < count; index += 1) {
      previous += reader.uvarint() + 1;
      list[index] = previous;
    }
    if (previous >= this.seriesCount) throw reader.fail(`postings name series ${previous}, beyond the ${this.seriesCount} series`);
    return list;
  }

  #reader([start, end]: readonly [number, number]): ByteReader {
    return new ByteReader(this.#bytes, { start, end, report: (offset, detail) => indexCorrupt(this.path, offset, detail) });
  }

  #symbol(reader: ByteReader): string {
    const offset = reader.position;
    const id = reader.uvarint();
    const symbol = this.#symbols[id];
    if (symbol === undefined) throw reader.fail(`symbol ${id} is beyond the ${this.#symbols.length} symbols`, offset);
    return symbol;
  }

  #readLabels(reader: ByteReader): Labels {
    const offset = reader.position;
    const count = reader.uvarint();
    if (count === 0 || count > reader.remaining) throw reader.fail(`a series has ${count} labels`, offset);
    const names: string[] = [];
    const values: string[] = [];
    for (let index = 0; index < count; index += 1) {
      names.push(this.#symbol(reader));
      values.push(this.#symbol(reader));
    }
    try {
      return Labels.fromIndex(names, values);
    } catch (error) {
      throw reader.fail(`series labels are invalid: ${(error as Error).message}`, offset);
    }
  }

  #walkSeries(reader: ByteReader): { offsets: Float64Array; chunkStarts: Uint32Array; minTimes: number[]; maxTimes: number[]; references: number[] } {
    const count = reader.uvarint();
    if (count > reader.remaining) throw reader.fail(`series count ${count} exceeds the section`);
    const offsets = new Float64Array(count);
    const chunkStarts = new Uint32Array(count + 1);
    const columns = { minTimes: [] as number[], maxTimes: [] as number[], references: [] as number[] };
    for (let ordinal = 0; ordinal < count; ordinal += 1) {
      offsets[ordinal] = reader.position;
      const labelCount = reader.uvarint();
      if (labelCount === 0) throw reader.fail(`series ${ordinal} has no labels`);
      for (let index = 0; index < labelCount * 2; index += 1) {
        const offset = reader.position;
        if (reader.uvarint() >= this.#symbols.length) throw reader.fail(`series ${ordinal} names a symbol beyond the ${this.#symbols.length} symbols`, offset);
      }
      chunkStarts[ordinal] = columns.minTimes.length;
      readChunkMetas(reader, columns);
    }
    chunkStarts[count] = columns.minTimes.length;
    if (!reader.atEnd()) throw reader.fail(`${reader.remaining} bytes follow the last series`);
    return { offsets, chunkStarts, ...columns };
  }

  #walkPostings(reader: ByteReader): void {
    const count = reader.uvarint();
    let previousName = -1;
    let previousValue = -1;
    for (let pair = 0; pair < count; pair += 1) {
      const pairOffset = reader.position;
      const nameId = reader.uvarint();
      const valueId = reader.uvarint();
      if (nameId >= this.#symbols.length || valueId >= this.#symbols.length) throw reader.fail('a postings entry names an unknown symbol', pairOffset);
      if (nameId < previousName || (nameId === previousName && valueId <= previousValue)) throw reader.fail('postings entries are not sorted', pairOffset);
      previousName = nameId;
      previousValue = valueId;
      const name = this.#symbols[nameId]!;
      let label = this.#postings.get(name);
      if (label === undefined) this.#postings.set(name, (label = { values: [], offsets: [] }));
      label.values.push(this.#symbols[valueId]!);
      label.offsets.push(reader.position);
      const listLength = reader.uvarint();
      let previous = -1;
      for (let index = 0; index < listLength; index += 1) previous += reader.uvarint() + 1;
      if (previous >= this.seriesCount) throw reader.fail(`postings for ${name} name series ${previous}, beyond the ${this.seriesCount} series`, pairOffset);
    }
    if (!reader.atEnd()) throw reader.fail(`${reader.remaining} bytes follow the last postings list`);
  }
}

function readSymbols(reader: ByteReader): string[] {
  const count = reader.uvarint();
  if (count > reader.remaining) throw reader.fail(`symbol count ${count} exceeds the section`);
  const symbols: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const offset = reader.position;
    const symbol = reader.string();
    if (index > 0 && compareStrings(symbols[index - 1]!, symbol) >= 0) throw reader.fail('symbols are not sorted and distinct', offset);
    symbols.push(symbol);
  }
  if (!reader.atEnd()) throw reader.fail(`${reader.remaining} bytes follow the last symbol`);
  return symbols;
}

/** Reads one series' chunk metadata, appending each chunk's bounds and reference to the columns. */
function readChunkMetas(reader: ByteReader, columns: { minTimes: number[]; maxTimes: number[]; references: number[] }): void {
  const offset = reader.position;
  const count = reader.uvarint();
  if (count === 0 || count > reader.remaining) throw reader.fail(`a series has ${count} chunks`, offset);
  let reference = 0;
  let maxTimeMs = 0;
  for (let index = 0; index < count; index += 1) {
    let minTimeMs: number;
    if (index === 0) {
      minTimeMs = reader.varint();
      reference = reader.uvarint();
    } else {
      const gapMs = reader.uvarint();
      const step = reader.uvarint();
      if (gapMs === 0 || step === 0) throw reader.fail('chunks overlap or share a reference', offset);
      minTimeMs = maxTimeMs + gapMs;
      reference += step;
    }
    maxTimeMs = minTimeMs + reader.uvarint();
    if (!Number.isSafeInteger(maxTimeMs) || !Number.isSafeInteger(reference)) throw reader.fail('chunk bounds exceed exact integers', offset);
    columns.minTimes.push(minTimeMs);
    columns.maxTimes.push(maxTimeMs);
    columns.references.push(reference);
  }
}

/** The [start, end) payload ranges of the sections, after checking header, lengths and checksums. */
function splitSections(bytes: Uint8Array, path: string): [number, number][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < indexHeaderBytes) throw indexCorrupt(path, 0, `file has ${bytes.length} bytes, fewer than the header`);
  if (view.getUint32(0) !== indexMagic) throw indexCorrupt(path, 0, 'bad magic number (not a keel block index)');
  if (bytes[4] !== indexFormatVersion) throw indexCorrupt(path, 4, `unsupported index format version ${bytes[4]}`);
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw indexCorrupt(path, 5, 'reserved header bytes are not zero');
  const sections: [number, number][] = [];
  let offset = indexHeaderBytes;
  for (let section = 0; section < sectionCount; section += 1) {
    if (offset + 8 > bytes.length) throw indexCorrupt(path, offset, `section ${section + 1} of ${sectionCount} is missing`);
    const length = view.getUint32(offset);
    const start = offset + 4;
    const end = start + length;
    if (end + 4 > bytes.length) throw indexCorrupt(path, offset, `section of ${length} bytes runs past the end of the file`);
    if (view.getUint32(end) !== crc32cRange(bytes, start, end)) throw indexCorrupt(path, offset, `section ${section + 1} checksum does not match its content`);
    sections.push([start, end]);
    offset = end + 4;
  }
  if (offset !== bytes.length) throw indexCorrupt(path, offset, `${bytes.length - offset} bytes follow the last section`);
  return sections;
}

function binarySearch(values: readonly string[], target: string): number {
  let low = 0;
  let high = values.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const order = compareStrings(values[middle]!, target);
    if (order === 0) return middle;
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

function indexCorrupt(path: string, offset: number, detail: string): TsdbError {
  return new TsdbError('TSDB_BLOCK_CORRUPT', `Block file ${path} is corrupt at offset ${offset}: ${detail}.`);
}
