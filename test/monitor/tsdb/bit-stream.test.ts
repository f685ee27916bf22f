import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BitReader, BitWriter } from '../../../src/monitor/tsdb/index.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';

test('bits fill each byte from the most significant bit down', () => {
  const writer = new BitWriter();
  writer.writeBit(1);
  writer.writeBits(0b01, 2);
  writer.writeBits(0b11111, 5);
  writer.writeBits(0b1, 1);
  assert.deepEqual([...writer.bytes()], [0b1011_1111, 0b1000_0000]);
  assert.equal(writer.bitLength, 9);
  assert.equal(writer.byteLength, 2);
});

test('random widths read back exactly as written', () => {
  const seed = testSeed(11);
  const random = seededRandom(seed);
  const writer = new BitWriter();
  const fields: [number, number][] = [];
  for (let index = 0; index < 5000; index += 1) {
    const bitCount = random.below(33);
    const value = bitCount === 32 ? random.word() : random.word() % 2 ** bitCount;
    fields.push([value, bitCount]);
    writer.writeBits(value, bitCount);
  }
  const reader = new BitReader(writer.bytes(), 0, writer.bitLength);
  for (const [value, bitCount] of fields) assert.equal(reader.readBits(bitCount), value, `seed ${seed}`);
  assert.equal(reader.bitPosition, writer.bitLength);
});

test('reading past the end fails as a corrupt chunk', () => {
  const writer = new BitWriter();
  writer.writeBits(0b101, 3);
  const reader = new BitReader(writer.bytes(), 0, 3);
  assert.equal(reader.readBits(2), 0b10);
  assert.throws(() => reader.readBits(2), { code: 'TSDB_CHUNK_CORRUPT' });
});

test('writeBits refuses a value wider than its bit count', () => {
  const writer = new BitWriter();
  assert.throws(() => writer.writeBits(0b100, 2), { code: 'TSDB_ASSERTION_FAILED' });
  assert.throws(() => writer.writeBits(-1, 8), { code: 'TSDB_ASSERTION_FAILED' });
  assert.throws(() => writer.writeBits(0, 33), { code: 'TSDB_ASSERTION_FAILED' });
});

test('a writer continues an existing stream in place', () => {
  const first = new BitWriter();
  first.writeBits(0b110, 3);
  const continued = new BitWriter(first.bytes(), first.bitLength);
  continued.writeBits(0b01, 2);
  assert.deepEqual([...continued.bytes()], [0b1100_1000]);
});

test('a writer refuses to continue a stream whose padding is dirty', () => {
  assert.throws(() => new BitWriter(new Uint8Array([0b1111_1111]), 3), { code: 'TSDB_ASSERTION_FAILED' });
});
