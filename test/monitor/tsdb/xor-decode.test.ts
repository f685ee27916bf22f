import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DecodedSamples,
  decodeXorSamples,
  floatHighBits,
  floatLowBits,
  staleMarkerHighBits,
  staleMarkerLowBits,
  timestampMsMax,
  timestampMsMin,
  XorChunk,
} from '../../../src/monitor/tsdb/index.ts';
import { ChunksIterator, StoredChunk } from '../../../src/monitor/tsdb/series-iterator.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import type { Random } from '../helpers/random.ts';
import { decodeRaw } from './_helpers.ts';
import type { RawSample } from './_helpers.ts';

/** The reference: the one-sample-at-a-time iterator the appender's own tests cover. */
const referenceDecode = decodeRaw;

function fastDecode(bytes: Uint8Array, sampleCount: number, untilMs: number, out = new DecodedSamples(4)): RawSample[] {
  decodeXorSamples(bytes, bytes.length * 8, sampleCount, untilMs, out);
  const samples: RawSample[] = [];
  for (let index = 0; index < out.count; index += 1) {
    samples.push({ timestampMs: out.timestamps[index]!, high: out.highBits(index), low: out.lowBits(index) });
  }
  return samples;
}

/** A value of a random kind: repeats, small steps, wide changes, NaN payloads, infinities, stale markers. */
function randomValue(random: Random, previous: RawSample | undefined): [number, number] {
  switch (random.below(8)) {
    case 0:
      return previous === undefined ? [0, 0] : [previous.high, previous.low];
    case 1:
      return [staleMarkerHighBits, staleMarkerLowBits];
    case 2:
      return [random.word(), random.word()];
    case 3:
      return [floatHighBits(Infinity * (random.below(2) === 0 ? 1 : -1)), 0];
    case 4:
      return [0x7ff8_0000 | random.below(0x8_0000), random.word()];
    default: {
      const value = random.below(2) === 0 ? random.below(1_000) : random.next() * 10 ** random.below(20);
      return [floatHighBits(value), floatLowBits(value)];
    }
  }
}

/** Timestamp gaps that reach every delta-of-delta bucket, including the 64-bit one. */
function randomGap(random: Random): number {
  switch (random.below(6)) {
    case 0:
      return 15_000;
    case 1:
      return 15_000 + random.below(200) - 100;
    case 2:
      return 1 + random.below(60_000);
    case 3:
      return 1 + random.below(600_000);
    case 4:
      return 1 + random.below(2 ** 40);
    default:
      return 1;
  }
}

function randomChunk(random: Random, count: number): { chunk: XorChunk; samples: RawSample[] } {
  const chunk = new XorChunk();
  const samples: RawSample[] = [];
  let timestampMs = random.below(2) === 0 ? 1_700_000_000_000 : -(2 ** 40) + random.below(1_000_000);
  for (let index = 0; index < count; index += 1) {
    if (index > 0) timestampMs += randomGap(random);
    const [high, low] = randomValue(random, samples[samples.length - 1]);
    chunk.appendBits(timestampMs, high, low);
    samples.push({ timestampMs, high, low });
  }
  return { chunk, samples };
}

test('the fast decoder gives the reference decoder\'s samples, bit for bit, for random chunks', () => {
  const seed = testSeed(11);
  const random = seededRandom(seed);
  // One buffer for every chunk: reuse and growth are part of what is checked.
  const out = new DecodedSamples(2);
  for (let round = 0; round < 400; round += 1) {
    const { chunk, samples } = randomChunk(random, 1 + random.below(round < 390 ? 150 : 3_000));
    const expected = referenceDecode(chunk);
    assert.deepEqual(expected, samples, `seed ${seed} round ${round}: reference`);
    assert.deepEqual(fastDecode(chunk.bytes(), chunk.sampleCount, Infinity, out), samples, `seed ${seed} round ${round}`);
    // Through the chunk's own entry point (the open head chunk's path) as well.
    chunk.decodeInto(Infinity, out);
    assert.equal(out.count, samples.length, `seed ${seed} round ${round}: decodeInto`);
  }
});

test('decoding stops before the first sample later than untilMs', () => {
  const random = seededRandom(testSeed(12));
  const { chunk, samples } = randomChunk(random, 120);
  for (const cut of [samples[0]!.timestampMs - 1, samples[0]!.timestampMs, samples[60]!.timestampMs, samples[60]!.timestampMs + 1, samples[119]!.timestampMs]) {
    const expected = samples.filter((sample) => sample.timestampMs <= cut);
    assert.deepEqual(fastDecode(chunk.bytes(), chunk.sampleCount, cut), expected, `until ${cut}`);
  }
});

test('extreme timestamps decode exactly', () => {
  const chunk = new XorChunk();
  chunk.append(timestampMsMin, 1);
  chunk.append(timestampMsMin + 1, 2);
  chunk.append(timestampMsMax - 1, 3);
  chunk.append(timestampMsMax, 4);
  assert.deepEqual(fastDecode(chunk.bytes(), 4, Infinity).map((sample) => sample.timestampMs), [timestampMsMin, timestampMsMin + 1, timestampMsMax - 1, timestampMsMax]);
});

test('every truncation and a corrupted window are refused with TSDB_CHUNK_CORRUPT, as the reference refuses them', () => {
  const random = seededRandom(testSeed(13));
  const { chunk, samples } = randomChunk(random, 40);
  const bytes = chunk.bytes();
  const fullBits = bytes.length * 8;
  let refused = 0;
  for (let bitLength = 16; bitLength < fullBits; bitLength += 1) {
    let referenceFailed = false;
    try {
      const iterator = chunk.iterator();
      iterator.reset(bytes, bitLength, samples.length);
      while (iterator.next());
    } catch {
      referenceFailed = true;
    }
    let fastFailed = false;
    try {
      decodeXorSamples(bytes, bitLength, samples.length, Infinity, new DecodedSamples());
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'TSDB_CHUNK_CORRUPT', `bit length ${bitLength}`);
      fastFailed = true;
    }
    assert.equal(fastFailed, referenceFailed, `bit length ${bitLength} of ${fullBits}`);
    if (fastFailed) refused += 1;
  }
  assert.ok(refused > 0, 'short streams are refused');
  // A second sample whose value reuses an XOR window before any was set: control bits 10 right after the delta.
  const twoSamples = new XorChunk();
  twoSamples.append(10, 1);
  twoSamples.append(15, 1);
  const forged = twoSamples.bytes();
  // Header 16 bits, varint timestamp (1 byte: 20 zig-zagged), 64 value bits, varint delta (1 byte), then the value's control bits.
  const controlBit = 16 + 8 + 64 + 8;
  forged[controlBit >>> 3] = forged[controlBit >>> 3]! | (0x80 >>> (controlBit & 7));
  const padded = Uint8Array.from([...forged, 0, 0]);
  assert.throws(() => decodeXorSamples(padded, padded.length * 8, 2, Infinity, new DecodedSamples()), /reuses a window before any was set/);
});

test('the chunk iterator steps and seeks across decoded chunks, clamped to its range', () => {
  const random = seededRandom(testSeed(14));
  const chunks: StoredChunk[] = [];
  const all: RawSample[] = [];
  let timestampMs = 1_700_000_000_000;
  for (let index = 0; index < 5; index += 1) {
    const chunk = new XorChunk();
    for (let sample = 0; sample < 50; sample += 1) {
      timestampMs += 1 + random.below(30_000);
      const value = random.below(100);
      chunk.append(timestampMs, value);
      all.push({ timestampMs, high: floatHighBits(value), low: floatLowBits(value) });
    }
    chunks.push(new StoredChunk(chunk.bytes(), chunk.firstTimestampMs!, chunk.lastTimestampMs!, chunk.sampleCount));
  }
  for (let round = 0; round < 50; round += 1) {
    const minMs = all[random.below(all.length)]!.timestampMs - random.below(2);
    const maxMs = minMs + random.below(3_000_000);
    const iterator = new ChunksIterator(chunks, minMs, maxMs);
    const seeking = round % 2 === 1;
    const seen: number[] = [];
    while (iterator.next()) {
      seen.push(iterator.timestampMs);
      if (seeking && random.below(10) === 0) {
        const before = iterator.timestampMs;
        const target = before + random.below(200_000);
        if (!iterator.seek(target)) break;
        assert.ok(iterator.timestampMs >= target, 'seek lands at or after its target');
        if (iterator.timestampMs !== before) seen.push(iterator.timestampMs);
      }
    }
    const inRange = all.map((sample) => sample.timestampMs).filter((value) => value >= minMs && value <= maxMs);
    if (!seeking) assert.deepEqual(seen, inRange, `round ${round}: every sample in range`);
    for (const value of seen) assert.ok(inRange.includes(value), `round ${round}: ${value} is a sample in range`);
    assert.ok(seen.every((value, index) => index === 0 || value > seen[index - 1]!), `round ${round}: increasing`);
    assert.equal(iterator.next(), false);
  }
  const whole = new ChunksIterator(chunks, -Infinity, Infinity);
  const values: number[] = [];
  while (whole.next()) values.push(whole.timestampMs);
  assert.deepEqual(values, all.map((sample) => sample.timestampMs));
});
