/**
 * A compact, deterministic binary encoding for plain values (null, booleans, numbers, strings, bytes,
 * arrays and objects): how the member writes store requests into log entries. No JSON on the hot path, and
 * bytes stay bytes. Objects encode their keys in insertion order; `undefined` fields are skipped.
 */
export type PlainValue = null | undefined | boolean | number | string | Uint8Array | readonly PlainValue[] | { readonly [key: string]: PlainValue };

const tagNull = 0;
const tagFalse = 1;
const tagTrue = 2;
const tagFloat = 3;
const tagInteger = 4;
const tagString = 5;
const tagBytes = 6;
const tagArray = 7;
const tagObject = 8;
/** Bound on nesting (a txn nests requests), so a corrupt entry cannot exhaust the stack. */
export const valueDepthMax = 128;

export class ValueCodecError extends Error {
  readonly code = 'MEMBER_BAD_COMMAND';
  constructor(message: string) {
    super(message);
    this.name = 'ValueCodecError';
  }
}

class Writer {
  bytes = new Uint8Array(256);
  length = 0;
  readonly #encoder = new TextEncoder();

  reserve(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  varint(value: number): void {
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.bytes[this.length++] = rest;
  }

  raw(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  string(text: string): void {
    this.raw(this.#encoder.encode(text));
  }
}

export function encodeValue(value: PlainValue): Uint8Array {
  const writer = new Writer();
  write(writer, value, 0);
  return writer.bytes.slice(0, writer.length);
}

function write(writer: Writer, value: PlainValue, depth: number): void {
  if (depth > valueDepthMax) throw new ValueCodecError('value nested too deeply');
  if (value === null || value === undefined) writer.byte(tagNull);
  else if (value === false) writer.byte(tagFalse);
  else if (value === true) writer.byte(tagTrue);
  else if (typeof value === 'number') writeNumber(writer, value);
  else if (typeof value === 'string') {
    writer.byte(tagString);
    writer.string(value);
  } else if (value instanceof Uint8Array) {
    writer.byte(tagBytes);
    writer.raw(value);
  } else if (Array.isArray(value)) {
    writer.byte(tagArray);
    writer.varint(value.length);
    for (const item of value as readonly PlainValue[]) write(writer, item, depth + 1);
  } else {
    const entries = Object.entries(value as { readonly [key: string]: PlainValue }).filter(([, field]) => field !== undefined);
    writer.byte(tagObject);
    writer.varint(entries.length);
    for (const [key, field] of entries) {
      writer.string(key);
      write(writer, field, depth + 1);
    }
  }
}

function writeNumber(writer: Writer, value: number): void {
  if (Number.isSafeInteger(value)) {
    writer.byte(tagInteger);
    // Zigzag, so small negative numbers stay small.
    writer.varint(value >= 0 ? value * 2 : -value * 2 - 1);
    return;
  }
  writer.byte(tagFloat);
  writer.reserve(8);
  new DataView(writer.bytes.buffer).setFloat64(writer.length, value);
  writer.length += 8;
}

class Reader {
  offset = 0;
  readonly #view: DataView;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  byte(): number {
    if (this.offset >= this.bytes.length) throw new ValueCodecError(`truncated at byte ${this.offset}`);
    return this.bytes[this.offset++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let shift = 0; shift < 8; shift++) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new ValueCodecError(`varint too long at byte ${this.offset}`);
  }

  raw(): Uint8Array {
    const length = this.varint();
    if (this.offset + length > this.bytes.length) throw new ValueCodecError(`length ${length} past the end at byte ${this.offset}`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  float(): number {
    if (this.offset + 8 > this.bytes.length) throw new ValueCodecError(`truncated float at byte ${this.offset}`);
    const value = this.#view.getFloat64(this.offset);
    this.offset += 8;
    return value;
  }

  string(): string {
    return this.#decoder.decode(this.raw());
  }
}

/** Decodes a value; bytes come back as views into `bytes` (copy before keeping them past its life). */
export function decodeValue(bytes: Uint8Array): PlainValue {
  const reader = new Reader(bytes);
  const value = read(reader, 0);
  if (reader.offset !== bytes.length) throw new ValueCodecError(`trailing bytes after offset ${reader.offset}`);
  return value;
}

function read(reader: Reader, depth: number): PlainValue {
  if (depth > valueDepthMax) throw new ValueCodecError('value nested too deeply');
  const tag = reader.byte();
  switch (tag) {
    case tagNull: return null;
    case tagFalse: return false;
    case tagTrue: return true;
    case tagFloat: return reader.float();
    case tagInteger: {
      const zigzag = reader.varint();
      return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
    }
    case tagString: return reader.string();
    case tagBytes: return reader.raw();
    case tagArray: {
      const count = reader.varint();
      if (count > reader.bytes.length - reader.offset) throw new ValueCodecError(`array of ${count} past the end`);
      const items: PlainValue[] = [];
      for (let i = 0; i < count; i++) items.push(read(reader, depth + 1));
      return items;
    }
    case tagObject: {
      const count = reader.varint();
      if (count > reader.bytes.length - reader.offset) throw new ValueCodecError(`object of ${count} fields past the end`);
      const object: Record<string, PlainValue> = {};
      for (let i = 0; i < count; i++) {
        const key = reader.string();
        object[key] = read(reader, depth + 1);
      }
      return object;
    }
    default:
      throw new ValueCodecError(`unknown tag ${tag} at byte ${reader.offset - 1}`);
  }
}
