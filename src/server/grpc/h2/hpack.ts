/**
 * HPACK (RFC 7541): the header compression of HTTP/2, for the server side of the gRPC transport.
 *
 * - `HpackDecoder` decodes the header blocks a peer sends: every representation of RFC 7541 §6, the dynamic
 *   table with eviction by size (§4), bounded prefix integers (§5.1) and strings (§5.2) with a table-driven
 *   Huffman decoder (a 16-way transition table over the code tree, built once at module load).
 * - `HpackEncoder` encodes the header lists the server sends without a dynamic table (so the peer's
 *   SETTINGS_HEADER_TABLE_SIZE never matters): a full static-table match is one indexed byte, anything else a
 *   literal without indexing, with the static name index where there is one, and raw (non-Huffman) strings.
 *
 * Names and values are latin1 strings: one character per octet.
 */
import { Buffer } from 'node:buffer';

/** A malformed header block (RFC 9113 treats it as a connection error of type COMPRESSION_ERROR). */
export class HpackError extends Error {
  readonly code = 'COMPRESSION_ERROR';

  constructor(message: string) {
    super(`HPACK: ${message}`);
    this.name = 'HpackError';
  }
}

/**
 * The decoded header list is larger than `headerListBytesMax` (SETTINGS_MAX_HEADER_LIST_SIZE, RFC 9113 §6.5.2).
 * Thrown only after the whole block was decoded, so the decoder's dynamic table stays in step with the peer's
 * and the connection can refuse the stream but keep going.
 */
export class HeaderListTooLargeError extends Error {
  readonly listBytes: number;
  readonly listBytesMax: number;

  constructor(listBytes: number, listBytesMax: number) {
    super(`header list of ${listBytes} bytes exceeds the limit of ${listBytesMax}`);
    this.name = 'HeaderListTooLargeError';
    this.listBytes = listBytes;
    this.listBytesMax = listBytesMax;
  }
}

/** One header field: name and value as latin1 strings. */
export type HeaderPair = readonly [name: string, value: string];

/** The per-entry overhead of a header in table and list sizes (RFC 7541 §4.1, RFC 9113 §6.5.2). */
const entryOverheadBytes = 32;
/** Integers above this are rejected (no sane length or index comes near it). */
const integerMax = 2 ** 31;
/** Continuation octets after a full prefix; five carry 35 bits, more is padding with zeros. */
const integerContinuationMax = 5;

// ---------------------------------------------------------------------------------------------------------
// Static table (RFC 7541 Appendix A)
// ---------------------------------------------------------------------------------------------------------

/** The static table; index 1 is element 0. */
const staticTable: readonly HeaderPair[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const staticTableLength = staticTable.length;

/** What the encoder knows about a name in the static table. */
interface StaticName {
  /** The lowest index with this name. */
  readonly index: number;
  /** Index of each full (name, value) entry, by value. */
  readonly values: ReadonlyMap<string, number>;
}

/** The static table by name, for the encoder. */
const staticNames: ReadonlyMap<string, StaticName> = buildStaticNames();

function buildStaticNames(): Map<string, StaticName> {
  const byName = new Map<string, { index: number; values: Map<string, number> }>();
  staticTable.forEach(([name, value], offset) => {
    const index = offset + 1;
    let entry = byName.get(name);
    if (entry === undefined) byName.set(name, (entry = { index, values: new Map() }));
    if (!entry.values.has(value)) entry.values.set(value, index);
  });
  return byName;
}

// ---------------------------------------------------------------------------------------------------------
// Huffman code (RFC 7541 Appendix B)
// ---------------------------------------------------------------------------------------------------------

/**
 * The bit length of each symbol's code, symbols 0-255 and EOS (256). The code is canonical: codes of one length
 * are consecutive in symbol order and shorter codes come first, so the lengths determine the codes.
 */
const huffmanCodeBits: readonly number[] = [
  // 0x00-0x1f: control characters
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  // 0x20-0x3f: ' ' ! " # $ % & ' ( ) * + , - . /  0-9 : ; < = > ?
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 0x40-0x5f: @ A-Z [ \ ] ^ _
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 0x60-0x7f: ` a-z { | } ~ DEL
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 0x80-0xff
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // EOS
  30,
];
const huffmanEos = 256;
/** Child slots holding this or more are leaves: the symbol plus this base. */
const huffmanLeafBase = 0x200;
const huffmanEmptySlot = 0xffff;
/** A full binary tree with 257 leaves has 256 internal nodes: the decoder's states. */
const huffmanStates = 256;

/** Transition-table entry layout: next state in bits 0-7, emitted symbol in bits 8-15, then flags. */
const huffmanEmits = 1 << 16;
const huffmanFailsOnEos = 1 << 17;
/** The state after this step may end a string: the bits since the last symbol are at most 7 ones. */
const huffmanMayEnd = 1 << 18;

/** The canonical code of every symbol from the code lengths (RFC 7541 Appendix B). */
function canonicalHuffmanCodes(lengths: readonly number[]): Uint32Array {
  const order = lengths.map((_, symbol) => symbol).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const codes = new Uint32Array(lengths.length);
  let code = 0;
  let previousLength = lengths[order[0]!]!;
  for (const symbol of order) {
    const length = lengths[symbol]!;
    code *= 2 ** (length - previousLength);
    codes[symbol] = code;
    code += 1;
    previousLength = length;
  }
  // A complete prefix code uses up the whole code space (Kraft's equality).
  if (code !== 2 ** previousLength) throw new Error('HPACK Huffman code lengths do not form a complete code');
  return codes;
}

/** The code tree as child slots (`2 * node + bit`), built from each symbol's code. */
function buildHuffmanTree(lengths: readonly number[], codes: Uint32Array): Uint16Array {
  const children = new Uint16Array(2 * huffmanStates).fill(huffmanEmptySlot);
  let nodes = 1;
  lengths.forEach((length, symbol) => {
    let node = 0;
    for (let bit = length - 1; bit > 0; bit--) {
      const slot = 2 * node + ((codes[symbol]! >>> bit) & 1);
      if (children[slot] === huffmanEmptySlot) {
        if (nodes === huffmanStates) throw new Error('HPACK Huffman tree has too many nodes');
        children[slot] = nodes++;
      }
      if (children[slot]! >= huffmanLeafBase) throw new Error('HPACK Huffman code is not prefix-free');
      node = children[slot]!;
    }
    const slot = 2 * node + (codes[symbol]! & 1);
    if (children[slot] !== huffmanEmptySlot) throw new Error('HPACK Huffman code is not prefix-free');
    children[slot] = huffmanLeafBase + symbol;
  });
  if (nodes !== huffmanStates || children.includes(huffmanEmptySlot)) throw new Error('HPACK Huffman tree is not full');
  return children;
}

/** For each internal node: the length of its path if that path is all ones (a prefix of EOS), else -1. */
function allOnesDepths(children: Uint16Array): Int8Array {
  const depths = new Int8Array(huffmanStates).fill(-1);
  for (let node = 0, depth = 0; node < huffmanLeafBase; node = children[2 * node + 1]!, depth++) depths[node] = depth;
  return depths;
}

/**
 * The decoder's transition table: entry `16 * state + nibble` says where 4 more input bits lead from the tree
 * node `state`, and which symbol they complete on the way. Codes are at least 5 bits long, so a nibble
 * completes at most one symbol.
 */
function buildHuffmanTransitions(): Uint32Array {
  const children = buildHuffmanTree(huffmanCodeBits, canonicalHuffmanCodes(huffmanCodeBits));
  const paddingDepths = allOnesDepths(children);
  const transitions = new Uint32Array(16 * huffmanStates);
  for (let state = 0; state < huffmanStates; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const child = children[2 * node + ((nibble >>> bit) & 1)]!;
        if (child < huffmanLeafBase) {
          node = child;
          continue;
        }
        const symbol = child - huffmanLeafBase;
        if (symbol === huffmanEos) {
          entry |= huffmanFailsOnEos;
          break;
        }
        if ((entry & huffmanEmits) !== 0) throw new Error('HPACK Huffman nibble completes two symbols');
        entry |= huffmanEmits | (symbol << 8);
        node = 0;
      }
      const depth = paddingDepths[node]!;
      if (depth >= 0 && depth <= 7) entry |= huffmanMayEnd;
      transitions[16 * state + nibble] = entry | node;
    }
  }
  return transitions;
}

const huffmanTransitions = buildHuffmanTransitions();

/** The most symbols `octets` octets of Huffman code can hold (the shortest code has 5 bits). */
function huffmanDecodedBytesMax(octets: number): number {
  return Math.floor((octets * 8) / 5);
}

/**
 * Decodes the Huffman code in `source[start, end)` into `target` from index 0 and returns the decoded length.
 * `target` must hold `huffmanDecodedBytesMax(end - start)` octets.
 */
function huffmanDecode(source: Uint8Array, start: number, end: number, target: Uint8Array): number {
  let state = 0;
  let entry = huffmanMayEnd;
  let length = 0;
  for (let index = start; index < end; index++) {
    const octet = source[index]!;
    entry = huffmanTransitions[(state << 4) | (octet >>> 4)]!;
    if ((entry & (huffmanEmits | huffmanFailsOnEos)) !== 0) {
      if ((entry & huffmanFailsOnEos) !== 0) throw new HpackError('Huffman string contains EOS');
      target[length++] = entry >>> 8;
    }
    state = entry & 0xff;
    entry = huffmanTransitions[(state << 4) | (octet & 0xf)]!;
    if ((entry & (huffmanEmits | huffmanFailsOnEos)) !== 0) {
      if ((entry & huffmanFailsOnEos) !== 0) throw new HpackError('Huffman string contains EOS');
      target[length++] = entry >>> 8;
    }
    state = entry & 0xff;
  }
  if ((entry & huffmanMayEnd) === 0) throw new HpackError('Huffman padding is longer than 7 bits or not all ones');
  return length;
}

// ---------------------------------------------------------------------------------------------------------
// Dynamic table (RFC 7541 §2.3.2, §4)
// ---------------------------------------------------------------------------------------------------------

/**
 * The decoder's dynamic table: a ring of entries, newest first, bounded in bytes. Entries are kept as the
 * pairs the decoder hands out, so an indexed field (most of a gRPC client's request headers after its
 * first call) decodes to the table's own pair without allocating one.
 */
class DynamicTable {
  private pairs: HeaderPair[] = new Array<HeaderPair>(16).fill(emptyPair);
  /** Slot of the newest entry. */
  private head = 0;
  private count = 0;
  private bytes = 0;
  private bytesMax: number;

  constructor(bytesMax: number) {
    this.bytesMax = bytesMax;
  }

  get length(): number {
    return this.count;
  }

  /** Entry `index` (0 is the newest); the caller checks `index < length`. */
  pairAt(index: number): HeaderPair {
    return this.pairs[(this.head + index) & (this.pairs.length - 1)]!;
  }

  /** Changes the maximum size and evicts down to it (a dynamic table size update, RFC 7541 §4.3). */
  resize(bytesMax: number): void {
    this.bytesMax = bytesMax;
    this.evictDownTo(bytesMax);
  }

  /** Adds an entry, evicting the oldest ones to make room; an entry larger than the table empties it (§4.4). */
  add(pair: HeaderPair): void {
    const size = pairBytes(pair);
    if (size > this.bytesMax) {
      this.evictDownTo(0);
      return;
    }
    this.evictDownTo(this.bytesMax - size);
    if (this.count === this.pairs.length) this.grow();
    this.head = (this.head - 1) & (this.pairs.length - 1);
    this.pairs[this.head] = pair;
    this.count++;
    this.bytes += size;
  }

  /** Evicts the oldest entries until the table holds at most `bytes`. */
  private evictDownTo(bytes: number): void {
    const mask = this.pairs.length - 1;
    while (this.bytes > bytes) {
      const slot = (this.head + this.count - 1) & mask;
      this.bytes -= pairBytes(this.pairs[slot]!);
      this.pairs[slot] = emptyPair;
      this.count--;
    }
  }

  /** Doubles the ring (its length stays a power of two), moving the entries to slots 0.. in age order. */
  private grow(): void {
    const pairs = new Array<HeaderPair>(2 * this.pairs.length).fill(emptyPair);
    for (let index = 0; index < this.count; index++) pairs[index] = this.pairAt(index);
    this.pairs = pairs;
    this.head = 0;
  }
}

const emptyPair: HeaderPair = Object.freeze(['', '']) as HeaderPair;

function pairBytes(pair: HeaderPair): number {
  return pair[0].length + pair[1].length + entryOverheadBytes;
}

// ---------------------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------------------

export interface HpackDecoderOptions {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the largest dynamic table the peer may use. Default 4096. */
  readonly tableBytesMax?: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE: name + value + 32 bytes per field, summed. Default 16 KiB. */
  readonly headerListBytesMax?: number;
}

const emptyBytes = new Uint8Array(0);
/** Strings up to this length are built with `String.fromCharCode`, longer ones by a native latin1 slice. */
const shortStringMax = 8;

/** The latin1 string of `bytes[start, end)`, for short ranges (no native call). */
function latin1String(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let index = start; index < end; index++) text += String.fromCharCode(bytes[index]!);
  return text;
}

/** Checks that an option is a non-negative safe integer. */
function checkSize(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

/**
 * Decodes the header blocks of one connection, in order (the dynamic table carries over from block to block).
 * After an `HpackError` the decoder's state is undefined: the connection must end.
 */
export class HpackDecoder {
  private readonly tableBytesMax: number;
  private readonly headerListBytesMax: number;
  private readonly table: DynamicTable;
  /** The block being decoded, and the read position in it. */
  private source: Uint8Array = emptyBytes;
  private position = 0;
  /** `source` as a Buffer, made when first needed (creating a view costs more than decoding a small block). */
  private sourceBuffer: Buffer | undefined;
  /** Scratch space for Huffman decoding; grows as needed. */
  private scratch: Buffer = Buffer.allocUnsafe(256);

  constructor(options: HpackDecoderOptions = {}) {
    this.tableBytesMax = checkSize('tableBytesMax', options.tableBytesMax ?? 4096);
    this.headerListBytesMax = checkSize('headerListBytesMax', options.headerListBytesMax ?? 16 * 1024);
    this.table = new DynamicTable(this.tableBytesMax);
  }

  /**
   * Decodes one complete header block (HEADERS + CONTINUATION payloads already joined). Names and values are
   * latin1 strings. Throws `HpackError` on a malformed block and `HeaderListTooLargeError` (after decoding the
   * whole block) when the list exceeds `headerListBytesMax`.
   */
  decode(block: Uint8Array): HeaderPair[] {
    this.source = block;
    this.sourceBuffer = Buffer.isBuffer(block) ? block : undefined;
    this.position = 0;
    try {
      return this.decodeFields();
    } finally {
      this.source = emptyBytes;
      this.sourceBuffer = undefined;
    }
  }

  /** Decodes the fields of `source` from the start. */
  private decodeFields(): HeaderPair[] {
    const source = this.source;
    const end = source.length;
    const headers: HeaderPair[] = [];
    let listBytes = 0;
    let fieldSeen = false;
    while (this.position < end) {
      const first = source[this.position]!;
      let header: HeaderPair;
      if (first >= 0x80) {
        header = this.readIndexedField();
      } else if (first >= 0x40) {
        header = this.readLiteralField(6);
        this.table.add(header);
      } else if (first >= 0x20) {
        if (fieldSeen) throw new HpackError('dynamic table size update after a header field');
        this.readTableSizeUpdate();
        continue;
      } else {
        // Literal without indexing (0000xxxx) or never indexed (0001xxxx): both carry a 4-bit prefix.
        header = this.readLiteralField(4);
      }
      fieldSeen = true;
      const withinLimit = listBytes <= this.headerListBytesMax;
      listBytes += header[0].length + header[1].length + entryOverheadBytes;
      if (listBytes <= this.headerListBytesMax) headers.push(header);
      else if (withinLimit) headers.length = 0; // Stop collecting; keep decoding for the dynamic table.
    }
    if (listBytes > this.headerListBytesMax) throw new HeaderListTooLargeError(listBytes, this.headerListBytesMax);
    return headers;
  }

  /** An indexed header field (RFC 7541 §6.1). */
  private readIndexedField(): HeaderPair {
    return this.pairAt(this.readInteger(7));
  }

  /** A literal header field whose name index has a `prefixBits`-bit prefix (RFC 7541 §6.2). */
  private readLiteralField(prefixBits: number): HeaderPair {
    const nameIndex = this.readInteger(prefixBits);
    const name = nameIndex === 0 ? this.readString() : this.nameAt(nameIndex);
    return [name, this.readString()];
  }

  /** A dynamic table size update (RFC 7541 §6.3). */
  private readTableSizeUpdate(): void {
    const bytesMax = this.readInteger(5);
    if (bytesMax > this.tableBytesMax) {
      throw new HpackError(`dynamic table size update to ${bytesMax} exceeds the limit of ${this.tableBytesMax}`);
    }
    this.table.resize(bytesMax);
  }

  /** The name at a static (1-61) or dynamic (62+) index. */
  private nameAt(index: number): string {
    return this.pairAt(index)[0];
  }

  /** The entry at a static (1-61) or dynamic (62+) index. */
  private pairAt(index: number): HeaderPair {
    return index <= staticTableLength ? this.staticEntry(index) : this.table.pairAt(this.dynamicOffset(index));
  }

  /** The static entry at `index` (1-61), rejecting index 0. */
  private staticEntry(index: number): HeaderPair {
    if (index === 0) throw new HpackError('index 0');
    return staticTable[index - 1]!;
  }

  /** The dynamic table offset of `index` (62+), rejecting an index past the table's end. */
  private dynamicOffset(index: number): number {
    const offset = index - staticTableLength - 1;
    if (offset >= this.table.length) throw new HpackError(`index ${index} is beyond the table (${staticTableLength + this.table.length} entries)`);
    return offset;
  }

  /** A prefix integer (RFC 7541 §5.1) whose prefix is the low `prefixBits` bits of the current octet. */
  private readInteger(prefixBits: number): number {
    const source = this.source;
    let position = this.position;
    if (position >= source.length) throw new HpackError('truncated integer');
    const prefixMax = (1 << prefixBits) - 1;
    let value = source[position++]! & prefixMax;
    if (value === prefixMax) {
      let multiplier = 1;
      for (let continuation = 0; ; continuation++) {
        if (position >= source.length) throw new HpackError('truncated integer');
        if (continuation === integerContinuationMax) throw new HpackError('integer encoding is too long');
        const octet = source[position++]!;
        value += (octet & 0x7f) * multiplier;
        if (value > integerMax) throw new HpackError('integer is too large');
        if (octet < 0x80) break;
        multiplier *= 128;
      }
    }
    this.position = position;
    return value;
  }

  /** A string literal (RFC 7541 §5.2): raw octets or Huffman code, as a latin1 string. */
  private readString(): string {
    const source = this.source;
    if (this.position >= source.length) throw new HpackError('truncated string');
    const huffman = source[this.position]! >= 0x80;
    const length = this.readInteger(7);
    const start = this.position;
    const end = start + length;
    if (end > source.length) throw new HpackError(`string of ${length} octets runs past the block's end`);
    this.position = end;
    if (!huffman) {
      if (length <= shortStringMax) return latin1String(source, start, end);
      this.sourceBuffer ??= Buffer.from(source.buffer, source.byteOffset, source.byteLength);
      return this.sourceBuffer.toString('latin1', start, end);
    }
    const decodedMax = huffmanDecodedBytesMax(length);
    if (this.scratch.length < decodedMax) this.scratch = Buffer.allocUnsafe(Math.max(decodedMax, 2 * this.scratch.length));
    const decoded = huffmanDecode(source, start, end, this.scratch);
    return decoded <= shortStringMax ? latin1String(this.scratch, 0, decoded) : this.scratch.toString('latin1', 0, decoded);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------------------

/** The number of octets of a prefix integer `value` with a `prefixBits`-bit prefix. */
function integerBytes(value: number, prefixBits: number): number {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) return 1;
  let bytes = 2;
  for (let rest = value - prefixMax; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

/** Writes a prefix integer at `offset`, OR-ing `flags` into the first octet; returns the new offset. */
function writeInteger(out: Uint8Array, offset: number, value: number, prefixBits: number, flags: number): number {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) {
    out[offset++] = flags | value;
    return offset;
  }
  out[offset++] = flags | prefixMax;
  let rest = value - prefixMax;
  while (rest >= 0x80) {
    out[offset++] = 0x80 | (rest & 0x7f);
    rest = Math.floor(rest / 0x80);
  }
  out[offset++] = rest;
  return offset;
}

/** Writes a raw string literal (length, then latin1 octets); returns the new offset. */
function writeString(out: Uint8Array, offset: number, text: string): number {
  offset = writeInteger(out, offset, text.length, 7, 0);
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code > 0xff) throw new TypeError(`header text holds a character beyond latin1 (U+${code.toString(16).padStart(4, '0')})`);
    out[offset++] = code;
  }
  return offset;
}

/** The octets of a raw string literal. */
function stringBytes(text: string): number {
  return integerBytes(text.length, 7) + text.length;
}

/** Encodes header lists without a dynamic table; it holds no state, so one encoder can serve every connection. */
export class HpackEncoder {
  /** Encodes a header list into a new array. */
  encode(headers: readonly HeaderPair[]): Uint8Array {
    const out = new Uint8Array(HpackEncoder.maxEncodedBytes(headers));
    return out.subarray(0, this.encodeInto(headers, out, 0));
  }

  /**
   * Encodes a header list into `out` from `offset` and returns the offset after it. Throws `RangeError` if it
   * does not fit (`out` may then hold part of the output) and `TypeError` for a character beyond latin1.
   */
  encodeInto(headers: readonly HeaderPair[], out: Uint8Array, offset: number): number {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > out.length) throw new RangeError(`offset ${offset} is outside the output (${out.length} bytes)`);
    for (const [name, value] of headers) {
      const staticName = staticNames.get(name);
      const fullIndex = staticName?.values.get(value);
      if (fullIndex !== undefined) {
        // Indexed header field (§6.1); static indexes are below 127, so one octet.
        if (offset >= out.length) throw new RangeError('the header block does not fit the output');
        out[offset++] = 0x80 | fullIndex;
        continue;
      }
      // Literal header field without indexing (§6.2.2), name by static index (4-bit prefix) or literal.
      const nameIndex = staticName?.index ?? 0;
      const need = integerBytes(nameIndex, 4) + (nameIndex === 0 ? stringBytes(name) : 0) + stringBytes(value);
      if (offset + need > out.length) throw new RangeError('the header block does not fit the output');
      offset = writeInteger(out, offset, nameIndex, 4, 0x00);
      if (nameIndex === 0) offset = writeString(out, offset, name);
      offset = writeString(out, offset, value);
    }
    return offset;
  }

  /** An upper bound of `encodeInto`'s output for these headers. */
  static maxEncodedBytes(headers: readonly HeaderPair[]): number {
    let bytes = 0;
    // A literal name takes at least 2 octets, as many as the most an indexed name takes (an index of 15-61 needs 2).
    for (const [name, value] of headers) bytes += 1 + stringBytes(name) + stringBytes(value);
    return bytes;
  }
}
