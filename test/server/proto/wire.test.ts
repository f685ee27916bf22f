// Byte vectors for each wire type, computed by hand from the protobuf encoding spec
// (https://protobuf.dev/programming-guides/encoding/), checked against keel's Reader and Writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Reader, SizeCache, Writer, varintSize32, varintSizeBigInt, varintSizeNumber, varintSizeSint64Number, zigzag32 } from '../../../src/server/proto/wire.ts';
import { ProtoError } from '../../../src/server/proto/errors.ts';

function written(size: number, write: (writer: Writer) => void): number[] {
  const writer = new Writer(Buffer.alloc(size), 0, new SizeCache());
  write(writer);
  assert.equal(writer.position, size, 'writer filled the expected number of bytes');
  return [...writer.bytes];
}

function reader(bytes: number[]): Reader {
  return new Reader(Uint8Array.from(bytes));
}

const unsignedVarints: [number, number[]][] = [
  [0, [0x00]],
  [1, [0x01]],
  [127, [0x7f]],
  [128, [0x80, 0x01]],
  [150, [0x96, 0x01]],
  [300, [0xac, 0x02]],
  [2 ** 28 - 1, [0xff, 0xff, 0xff, 0x7f]],
  [2 ** 31, [0x80, 0x80, 0x80, 0x80, 0x08]],
  [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
  [2 ** 53 - 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
];

test('varint: numbers encode to the spec bytes and decode back', () => {
  for (const [value, bytes] of unsignedVarints) {
    assert.deepEqual(written(bytes.length, (writer) => writer.varintNumber(value)), bytes, `encode ${value}`);
    assert.equal(varintSizeNumber(value), bytes.length, `size of ${value}`);
    assert.equal(reader(bytes).uint64Number(), value, `decode ${value}`);
    assert.equal(reader(bytes).int64Number(), value, `decode ${value} as int64`);
  }
});

test('varint: negative int64 takes ten bytes of two\'s complement', () => {
  const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  assert.deepEqual(written(10, (writer) => writer.varintNumber(-1)), minusOne);
  assert.equal(reader(minusOne).int64Number(), -1);
  assert.equal(reader(minusOne).int64BigInt(), -1n);
  assert.equal(reader(minusOne).uint64BigInt(), 2n ** 64n - 1n);
  // -(2^53 - 1) = 0xFFE0_0000_0000_0001
  const minusSafe = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xf0, 0xff, 0x01];
  assert.deepEqual(written(10, (writer) => writer.varintNumber(-(2 ** 53 - 1))), minusSafe);
  assert.equal(reader(minusSafe).int64Number(), -(2 ** 53 - 1));
  assert.equal(varintSizeNumber(-1), 10);
});

test('varint: int32 and enums sign-extend negative values to ten bytes', () => {
  const bytes = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  assert.deepEqual(written(10, (writer) => writer.int32(-2)), bytes);
  assert.equal(reader(bytes).int32(), -2);
  // A decoder must also accept the five-byte form some encoders emit for uint32-cast values.
  assert.equal(reader([0xfe, 0xff, 0xff, 0xff, 0x0f]).int32(), -2);
  assert.equal(reader([0xff, 0xff, 0xff, 0xff, 0x0f]).uint32(), 0xffffffff);
});

test('varint: bigint fields cover all 64 bits', () => {
  const top = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
  assert.deepEqual(written(10, (writer) => writer.varintBigInt(2n ** 63n)), top);
  assert.equal(reader(top).uint64BigInt(), 2n ** 63n);
  assert.equal(reader(top).int64BigInt(), -(2n ** 63n));
  assert.equal(varintSizeBigInt(2n ** 63n), 10);
  const id = 0x8e9e05c52164694dn; // an etcd-style member ID
  const size = varintSizeBigInt(id);
  assert.equal(reader(written(size, (writer) => writer.varintBigInt(id))).uint64BigInt(), id);
  assert.equal(varintSizeBigInt(300n), 2);
});

test('varint: bigints written in turns (as response headers write the cluster and member ID) stay exact', () => {
  // The writer remembers the last two values it split; a third in between must not mix their halves up.
  const values = [0x8e9e05c52164694dn, 0xcdf818194e3a8c32n, 0x8e9e05c52164694dn, 2n ** 63n + 5n, 0xcdf818194e3a8c32n, 0x8e9e05c52164694dn, -7n, 2n ** 40n];
  for (const value of values) {
    const unsigned = BigInt.asUintN(64, value);
    const expected: number[] = [];
    for (let rest = unsigned; ; rest >>= 7n) {
      if (rest < 0x80n) {
        expected.push(Number(rest));
        break;
      }
      expected.push(Number(rest & 0x7fn) | 0x80);
    }
    assert.equal(varintSizeBigInt(value), expected.length, `size of ${value}`);
    assert.deepEqual(written(expected.length, (writer) => writer.varintBigInt(value)), expected, `bytes of ${value}`);
  }
});

test('varint: values beyond 2^53 are refused for number fields', () => {
  const twoPower53 = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
  assert.throws(() => reader(twoPower53).uint64Number(), { code: 'PROTO_INTEGER_UNSAFE' });
  assert.throws(() => reader(twoPower53).int64Number(), { code: 'PROTO_INTEGER_UNSAFE' });
  // -(2^53) = 0xFFE0_0000_0000_0000
  const minusTwoPower53 = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xf0, 0xff, 0x01];
  assert.throws(() => reader(minusTwoPower53).int64Number(), { code: 'PROTO_INTEGER_UNSAFE' });
  assert.equal(reader(twoPower53).uint64BigInt(), 2n ** 53n);
});

test('zigzag: sint32 and sint64 map small magnitudes to small varints', () => {
  const sint32: [number, number[]][] = [[0, [0]], [-1, [1]], [1, [2]], [-2, [3]], [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]], [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]]];
  for (const [value, bytes] of sint32) {
    assert.deepEqual(written(bytes.length, (writer) => writer.varint32(zigzag32(value))), bytes, `sint32 ${value}`);
    assert.equal(reader(bytes).sint32(), value);
  }
  const sint64: [number, number[]][] = [[-1, [0x01]], [1, [0x02]], [2 ** 53 - 1, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]], [-(2 ** 53 - 1), [0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]]];
  for (const [value, bytes] of sint64) {
    assert.equal(varintSizeSint64Number(value), bytes.length, `size of sint64 ${value}`);
    assert.deepEqual(written(bytes.length, (writer) => writer.sint64Number(value)), bytes, `sint64 ${value}`);
    assert.equal(reader(bytes).sint64Number(), value);
    assert.equal(reader(bytes).sint64BigInt(), BigInt(value));
  }
});

test('fixed64 and fixed32: little-endian, including doubles and floats', () => {
  assert.deepEqual(written(8, (writer) => writer.fixed64Number(1)), [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(written(8, (writer) => writer.fixed64Number(-2)), [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.equal(reader([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).sfixed64Number(), -2);
  assert.equal(reader([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).fixed64BigInt(), 2n ** 64n - 2n);
  assert.deepEqual(written(8, (writer) => writer.fixed64BigInt(2n ** 64n - 1n)), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual(written(8, (writer) => writer.double(1)), [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  assert.equal(reader([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]).double(), 1);
  assert.deepEqual(written(4, (writer) => writer.float(1)), [0, 0, 0x80, 0x3f]);
  assert.equal(reader([0, 0, 0x80, 0x3f]).float(), 1);
  assert.deepEqual(written(4, (writer) => writer.fixed32(0xdeadbeef)), [0xef, 0xbe, 0xad, 0xde]);
  assert.equal(reader([0xef, 0xbe, 0xad, 0xde]).fixed32(), 0xdeadbeef);
  assert.equal(reader([0xff, 0xff, 0xff, 0xff]).sfixed32(), -1);
  assert.throws(() => reader([1, 2, 3]).fixed32(), { code: 'PROTO_TRUNCATED' });
  assert.throws(() => reader([1, 2, 3, 4, 5, 6, 7]).double(), { code: 'PROTO_TRUNCATED' });
});

test('length-delimited: the spec\'s "testing" string in field 2', () => {
  const bytes = [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67];
  assert.deepEqual(written(9, (writer) => {
    writer.varint32(0x12);
    writer.string('testing', 7);
  }), bytes);
  const input = reader(bytes);
  assert.equal(input.tag(), 0x12);
  assert.equal(input.string(), 'testing');
  assert.equal(input.position, 9);
});

test('length-delimited: bytes fields are views into the input, not copies', () => {
  const input = Uint8Array.from([0x0a, 0x03, 1, 2, 3]);
  const read = new Reader(input);
  read.tag();
  const field = read.bytesField();
  assert.deepEqual([...field], [1, 2, 3]);
  assert.equal(field.buffer, input.buffer, 'same backing memory');
  input[2] = 9;
  assert.equal(field[0], 9, 'a change to the input shows through the view');
});

test('strings: multi-byte UTF-8 round-trips and invalid UTF-8 is refused', () => {
  const text = 'héllo ✓ 𝄞';
  const length = Buffer.byteLength(text);
  const bytes = written(1 + length, (writer) => writer.string(text, length));
  assert.equal(reader(bytes).string(), text);
  assert.throws(() => reader([0x02, 0xc3, 0x28]).string(), { code: 'PROTO_INVALID_UTF8' });
  assert.throws(() => reader([0x01, 0xff]).string(), { code: 'PROTO_INVALID_UTF8' });
});

test('tags: field numbers 0 and above 2^29 - 1 and wire types 6 and 7 are refused', () => {
  assert.throws(() => reader([0x00]).tag(), { code: 'PROTO_INVALID_FIELD_NUMBER' });
  assert.throws(() => reader([0x80, 0x80, 0x80, 0x80, 0x10]).tag(), { code: 'PROTO_INVALID_FIELD_NUMBER' });
  assert.throws(() => reader([0x0e]).tag(), { code: 'PROTO_INVALID_WIRE_TYPE' });
  assert.throws(() => reader([0x0f]).tag(), { code: 'PROTO_INVALID_WIRE_TYPE' });
  // The largest field number is fine: (2^29 - 1) << 3 | 0.
  assert.equal(reader([0xf8, 0xff, 0xff, 0xff, 0x0f]).tag(), 0xfffffff8);
});

test('varints: truncated and over-long inputs fail with their own codes', () => {
  assert.throws(() => reader([0x80]).uint64Number(), { code: 'PROTO_TRUNCATED' });
  assert.throws(() => reader([0xff, 0xff, 0xff, 0xff, 0xff]).uint64Number(), { code: 'PROTO_TRUNCATED' });
  assert.throws(() => reader(new Array(10).fill(0xff).concat([0x01])).uint64BigInt(), { code: 'PROTO_VARINT_TOO_LONG' });
  assert.throws(() => reader([0x05, 0x01]).bytesField(), { code: 'PROTO_TRUNCATED' });
  // A length whose varint has bits above 32 cannot fit in the input.
  assert.throws(() => reader([0x80, 0x80, 0x80, 0x80, 0x10]).bytesField(), { code: 'PROTO_TRUNCATED' });
});

test('skip: every wire type, including nested groups, is skipped exactly', () => {
  // field 100 varint, 101 fixed64, 102 bytes, 103 group holding field 1 and a nested group 5, 104 fixed32.
  const unknown = [
    0xa0, 0x06, 0x96, 0x01,
    0xa9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,
    0xb2, 0x06, 0x02, 0x78, 0x79,
    0xbb, 0x06, 0x08, 0x01, 0x2b, 0x2c, 0xbc, 0x06,
    0xc5, 0x06, 1, 2, 3, 4,
  ];
  const input = reader(unknown);
  const fieldNumbers: number[] = [];
  while (input.position < input.end) {
    const tag = input.tag();
    fieldNumbers.push(tag >>> 3);
    input.skip(tag);
  }
  assert.deepEqual(fieldNumbers, [100, 101, 102, 103, 104]);
  assert.equal(input.position, unknown.length);
  assert.equal(input.depth, 0);
});

test('skip: unmatched and unterminated groups are refused', () => {
  assert.throws(() => { const input = reader([0x7c]); input.skip(input.tag()); }, { code: 'PROTO_INVALID_WIRE_TYPE' });
  assert.throws(() => { const input = reader([0xbb, 0x06, 0x08, 0x01]); input.skip(input.tag()); }, { code: 'PROTO_TRUNCATED' });
  assert.throws(() => { const input = reader([0xbb, 0x06, 0xc4, 0x06]); input.skip(input.tag()); }, { code: 'PROTO_INVALID_WIRE_TYPE' });
  const deep = [...new Array(100).fill([0x0b]).flat(), ...new Array(100).fill([0x0c]).flat()];
  assert.throws(() => { const input = reader(deep); input.skip(input.tag()); }, { code: 'PROTO_NESTING_TOO_DEEP' });
});

test('sizes: varint sizes match the bytes written at every boundary', () => {
  for (let bits = 0; bits <= 32; bits++) {
    for (const value of [2 ** bits - 1, 2 ** bits]) {
      if (value > 0xffffffff) continue;
      const size = varintSize32(value);
      assert.equal(written(size, (writer) => writer.varint32(value)).length, size);
    }
  }
  for (let bits = 0; bits <= 64; bits++) {
    for (const value of [2n ** BigInt(bits) - 1n, -(2n ** BigInt(bits))]) {
      if (value >= 2n ** 64n || value < -(2n ** 63n)) continue;
      const size = varintSizeBigInt(value);
      const bytes = written(size, (writer) => writer.varintBigInt(value));
      assert.equal(reader(bytes).int64BigInt(), BigInt.asIntN(64, value), `bigint 2^${bits}`);
    }
  }
});

test('ProtoError carries the offset of the value that failed', () => {
  try {
    const input = reader([0x08, 0x96, 0x01, 0x08, 0x80]);
    input.tag();
    input.varint64();
    input.tag();
    input.varint64();
    assert.fail('decoding should have stopped');
  } catch (error) {
    assert.ok(error instanceof ProtoError);
    assert.equal(error.code, 'PROTO_TRUNCATED');
    assert.equal(error.offset, 4, 'the truncated varint starts at byte 4');
  }
});
