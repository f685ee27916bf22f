import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chunkSamplesMax,
  chunkSamplesTarget,
  floatHighBits,
  floatLowBits,
  staleMarkerHighBits,
  staleMarkerLowBits,
  timestampMsMax,
  timestampMsMin,
  XorChunk,
} from '../../../src/monitor/tsdb/index.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import type { Random } from '../helpers/random.ts';
import { decodeRaw } from './_helpers.ts';
import type { RawSample } from './_helpers.ts';


const startMs = 1_700_000_000_000;

function raw(timestampMs: number, value: number): RawSample {
  return { timestampMs, high: floatHighBits(value), low: floatLowBits(value) };
}

function encode(samples: readonly RawSample[]): XorChunk {
  const chunk = new XorChunk();
  for (const sample of samples) chunk.appendBits(sample.timestampMs, sample.high, sample.low);
  return chunk;
}

const decode = decodeRaw;

function assertRoundTrip(samples: readonly RawSample[], message: string): XorChunk {
  const chunk = encode(samples);
  assert.equal(chunk.sampleCount, samples.length, message);
  assert.deepEqual(decode(chunk), samples, message);
  const reopened = XorChunk.fromBytes(chunk.bytes());
  assert.deepEqual(decode(reopened), samples, `${message} (re-opened)`);
  assert.equal(reopened.byteSize, chunk.byteSize, message);
  return chunk;
}

/** Scrape-like timestamps: a fixed step with a few milliseconds of jitter. */
function jitteredTimestamps(random: Random, count: number, stepMs: number, jitterMs: number): number[] {
  const timestamps: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const jitter = jitterMs === 0 ? 0 : random.below(2 * jitterMs + 1) - jitterMs;
    timestamps.push(startMs + index * stepMs + jitter);
  }
  return timestamps;
}

test('random walks, counters and constants round-trip bit-exactly', () => {
  const seed = testSeed(1);
  const random = seededRandom(seed);
  for (let round = 0; round < 40; round += 1) {
    const timestamps = jitteredTimestamps(random, chunkSamplesTarget, random.pick([1000, 15_000, 60_000]), random.pick([0, 3, 250]));
    let gauge = random.next() * 1000;
    let counter = 0;
    const constant = random.next();
    const walk = timestamps.map((timestampMs) => raw(timestampMs, (gauge += random.next() - 0.5)));
    const counters = timestamps.map((timestampMs) => raw(timestampMs, (counter += random.below(50))));
    const constants = timestamps.map((timestampMs) => raw(timestampMs, constant));
    assertRoundTrip(walk, `random walk, seed ${seed}, round ${round}`);
    assertRoundTrip(counters, `counter, seed ${seed}, round ${round}`);
    assertRoundTrip(constants, `constant, seed ${seed}, round ${round}`);
  }
});

test('special floats keep their exact bits: NaN payloads, staleness, infinities, negative zero', () => {
  const specials: [number, number][] = [
    [staleMarkerHighBits, staleMarkerLowBits],
    [0x7ff8_0000, 0x0000_0000], // The canonical quiet NaN.
    [0xfff8_0000, 0x0000_0001], // A negative quiet NaN with a payload.
    [0x7ff0_0000, 0x0000_0001], // The smallest signalling NaN.
    [0x7fff_ffff, 0xffff_ffff], // The largest NaN payload.
    [0x7ff0_0000, 0x0000_0000], // +Inf
    [0xfff0_0000, 0x0000_0000], // -Inf
    [0x8000_0000, 0x0000_0000], // -0
    [0x0000_0000, 0x0000_0000], // +0
    [0x0000_0000, 0x0000_0001], // The smallest subnormal.
    [0x7fef_ffff, 0xffff_ffff], // The largest finite double.
  ];
  const samples: RawSample[] = [];
  for (let index = 0; index < specials.length * 3; index += 1) {
    const [high, low] = specials[(index * 7) % specials.length]!;
    samples.push({ timestampMs: startMs + index * 15_000, high, low });
  }
  assertRoundTrip(samples, 'specials');
});

test('random 64-bit patterns round-trip, whatever the XOR windows', () => {
  const seed = testSeed(2);
  const random = seededRandom(seed);
  for (let round = 0; round < 20; round += 1) {
    const samples: RawSample[] = [];
    let high = random.word();
    let low = random.word();
    for (let index = 0; index < 200; index += 1) {
      // Flip a random run of bits, so windows grow, shrink and get reused.
      const flips = random.below(4);
      if (flips === 1) high = (high ^ (1 << random.below(32))) >>> 0;
      if (flips === 2) low = (low ^ random.word()) >>> 0;
      if (flips === 3) [high, low] = [random.word(), random.word()];
      samples.push({ timestampMs: startMs + index * 1000 + random.below(10), high, low });
    }
    assertRoundTrip(samples, `seed ${seed}, round ${round}`);
  }
});

test('number values round-trip through append() and at()', () => {
  const values = [0, -0, 1, -1, 0.1, Math.PI, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, 1e-300, 2 ** 53];
  const chunk = new XorChunk();
  values.forEach((value, index) => chunk.append(startMs + index, value));
  const iterator = chunk.iterator();
  for (const value of values) {
    assert.ok(iterator.next());
    assert.ok(Object.is(iterator.at().value, value), `value ${value}`);
  }
  assert.equal(iterator.next(), false);
});

test('the staleness marker is recognised by its bits, not as just any NaN', () => {
  const chunk = new XorChunk();
  chunk.appendStaleMarker(startMs);
  chunk.append(startMs + 1, NaN);
  const iterator = chunk.iterator();
  assert.ok(iterator.next());
  assert.equal(iterator.isStaleMarker(), true);
  assert.ok(Number.isNaN(iterator.value));
  assert.ok(iterator.next());
  assert.equal(iterator.isStaleMarker(), false);
});

test('delta-of-delta bucket edges and huge gaps round-trip', () => {
  // Each bucket holds [-(2^(n-1) - 1), 2^(n-1)]; probe both edges and one past them.
  const edges = [0, 1, -1, 8191, 8192, -8191, -8192, 8193, 65535, 65536, -65535, -65536, 65537, 524287, 524288,
    -524287, -524288, 524289, 2 ** 31, -(2 ** 31), 2 ** 40, -(2 ** 39)];
  for (const deltaOfDeltaMs of edges) {
    const baseDeltaMs = 2 ** 40 + 1; // Large enough that every delta stays positive.
    const timestamps = [0, baseDeltaMs, 2 * baseDeltaMs + deltaOfDeltaMs].map((offset) => offset - 2 ** 42);
    assertRoundTrip(timestamps.map((timestampMs) => raw(timestampMs, 1)), `delta of deltas ${deltaOfDeltaMs}`);
  }
});

test('timestamps at both ends of the supported range round-trip', () => {
  const samples = [raw(timestampMsMin, 1), raw(timestampMsMin + 1, 2), raw(0, 3), raw(timestampMsMax - 1, 4), raw(timestampMsMax, 5)];
  assertRoundTrip(samples, 'range ends');
});

test('appends refuse out-of-order, duplicate and out-of-range timestamps', () => {
  const chunk = new XorChunk();
  chunk.append(startMs, 1);
  assert.throws(() => chunk.append(startMs, 2), { code: 'TSDB_OUT_OF_ORDER_SAMPLE' });
  assert.throws(() => chunk.append(startMs - 1, 2), { code: 'TSDB_OUT_OF_ORDER_SAMPLE' });
  assert.throws(() => chunk.append(startMs + 0.5, 2), { code: 'TSDB_TIMESTAMP_OUT_OF_RANGE' });
  assert.throws(() => chunk.append(timestampMsMax + 1, 2), { code: 'TSDB_TIMESTAMP_OUT_OF_RANGE' });
  assert.throws(() => new XorChunk().append(timestampMsMin - 1, 2), { code: 'TSDB_TIMESTAMP_OUT_OF_RANGE' });
  assert.equal(chunk.sampleCount, 1);
});

test('a chunk takes exactly chunkSamplesMax samples', () => {
  const chunk = new XorChunk();
  for (let index = 0; index < chunkSamplesMax; index += 1) chunk.append(index * 1000, index % 7);
  assert.throws(() => chunk.append(chunkSamplesMax * 1000, 0), { code: 'TSDB_CHUNK_FULL' });
  const reopened = XorChunk.fromBytes(chunk.bytes());
  assert.equal(reopened.sampleCount, chunkSamplesMax);
  assert.equal(reopened.lastTimestampMs, (chunkSamplesMax - 1) * 1000);
});

test('a re-opened chunk continues byte-identically to one never closed', () => {
  const seed = testSeed(3);
  const random = seededRandom(seed);
  const samples = jitteredTimestamps(random, 100, 15_000, 20).map((timestampMs) => raw(timestampMs, random.below(5)));
  for (const cut of [0, 1, 2, 3, 57, 99]) {
    const whole = encode(samples);
    const reopened = XorChunk.fromBytes(encode(samples.slice(0, cut)).bytes());
    for (const sample of samples.slice(cut)) reopened.appendBits(sample.timestampMs, sample.high, sample.low);
    assert.deepEqual(reopened.bytes(), whole.bytes(), `seed ${seed}, cut ${cut}`);
  }
});

test('an iterator sees the samples present when it was made, even as the chunk grows', () => {
  const chunk = new XorChunk();
  for (let index = 0; index < 10; index += 1) chunk.append(startMs + index * 1000, index);
  const iterator = chunk.iterator();
  for (let index = 10; index < 500; index += 1) chunk.append(startMs + index * 1000, index * 1.5);
  let count = 0;
  while (iterator.next()) {
    assert.equal(iterator.value, count);
    count += 1;
  }
  assert.equal(count, 10);
  assert.equal(decode(chunk).length, 500);
});

test('at() reuses one object and seek() moves forward only', () => {
  const chunk = encode([10, 20, 30, 40].map((timestampMs) => raw(timestampMs, timestampMs / 10)));
  const iterator = chunk.iterator();
  assert.ok(iterator.seek(25));
  const sample = iterator.at();
  assert.deepEqual({ ...sample }, { timestampMs: 30, value: 3 });
  assert.ok(iterator.seek(5)); // Already past 5: stays on 30.
  assert.equal(iterator.timestampMs, 30);
  assert.ok(iterator.next());
  assert.equal(iterator.at(), sample);
  assert.equal(sample.timestampMs, 40);
  assert.equal(iterator.seek(41), false);
  assert.throws(() => iterator.at(), { code: 'TSDB_ASSERTION_FAILED' });
});

test('iterator() reuses the iterator it is given', () => {
  const first = encode([raw(1, 1)]);
  const second = encode([raw(5, 2), raw(6, 3)]);
  const iterator = first.iterator();
  assert.equal(second.iterator(iterator), iterator);
  assert.deepEqual(decode(second), [raw(5, 2), raw(6, 3)]);
  let count = 0;
  while (iterator.next()) count += 1;
  assert.equal(count, 2);
});

test('the byte layout matches docs/format/chunks.md', () => {
  const chunk = encode([raw(1000, 1), raw(2000, 1), raw(3000, 2), raw(4010, 2)]);
  const bits = [
    '00000000', '00000100', // Sample count 4, big-endian.
    '11010000', '00001111', // First timestamp 1000: zig-zag 2000 as a varint (0xd0 0x0f).
    '00111111', '11110000', '00000000', '00000000', '00000000', '00000000', '00000000', '00000000', // 1.0 raw.
    '11101000', '00000111', // Second timestamp: delta 1000 as a varint (0xe8 0x07).
    '0', // Value unchanged.
    '0', // Third timestamp: delta of deltas 0.
    '1', '1', '00001', '001011', '11111111111', // 1 XOR 2: new window, 1 leading zero, 11 meaningful bits.
    '10', '00000000001010', // Fourth timestamp: delta of deltas 10 in the 14-bit bucket.
    '0', // Value unchanged.
  ].join('');
  const padded = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
  const expected = Array.from({ length: padded.length / 8 }, (_, index) => parseInt(padded.slice(index * 8, index * 8 + 8), 2));
  assert.deepEqual([...chunk.bytes()], expected);
});

test('corrupt bytes are refused with TSDB_CHUNK_CORRUPT', () => {
  const chunk = encode([1, 2, 3, 4, 5].map((index) => raw(startMs + index * 15_000 + (index % 2), index * 0.5)));
  const bytes = chunk.bytes();
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['truncated', bytes.slice(0, bytes.length - 1)],
    ['trailing byte', Uint8Array.from([...bytes, 0])],
    // A count one too high can decode an extra sample from zero padding bits: only the CRC of the
    // containing file catches that (docs/format/chunks.md). A count far too high runs out of bits.
    ['count too high', Uint8Array.from([0, 50, ...bytes.slice(2)])],
    ['count too low', Uint8Array.from([0, 3, ...bytes.slice(2)])],
    ['dirty padding', Uint8Array.from([...bytes.slice(0, -1), bytes[bytes.length - 1]! | 1])],
  ];
  for (const [name, corrupt] of cases) {
    assert.throws(() => XorChunk.fromBytes(corrupt), { code: 'TSDB_CHUNK_CORRUPT' }, name);
  }
  assert.equal(XorChunk.fromBytes(new Uint8Array([0, 0])).sampleCount, 0);
});

/** Events in one interval of a Poisson process: Knuth's method, or a rounded normal for large means. */
function poisson(random: Random, mean: number): number {
  if (mean > 50) {
    const normal = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  const limit = Math.exp(-mean);
  let count = -1;
  let product = 1;
  do {
    count += 1;
    product *= random.next();
  } while (product > limit);
  return count;
}

test('15 s counters compress below 2 bytes per sample', () => {
  const seed = testSeed(4);
  const random = seededRandom(seed);
  let totalBytes = 0;
  let totalSamples = 0;
  for (let round = 0; round < 60; round += 1) {
    // As on a typical /metrics page, counter rates spread over decades: from one event every
    // 100 s to ten per second. Scrape timestamps sit on the schedule (Prometheus aligns them);
    // one in twenty is a few milliseconds off.
    const eventsPerSecond = 10 ** (random.next() * 3 - 2);
    let counter = random.below(100_000);
    const chunk = new XorChunk();
    for (let index = 0; index < chunkSamplesTarget; index += 1) {
      const timestampMs = startMs + index * 15_000 + (random.next() < 0.05 ? random.below(5) - 2 : 0);
      counter += poisson(random, eventsPerSecond * 15);
      chunk.append(timestampMs, counter);
    }
    totalBytes += chunk.byteSize;
    totalSamples += chunk.sampleCount;
  }
  const bytesPerSample = totalBytes / totalSamples;
  assert.ok(bytesPerSample < 2, `seed ${seed}: ${bytesPerSample.toFixed(3)} bytes/sample`);
  assert.ok(bytesPerSample > 0.5, `seed ${seed}: ${bytesPerSample.toFixed(3)} bytes/sample is implausibly small`);
});

/** Bytes of the base-128 varint of a non-negative integer. */
function varintBytes(value: number): number {
  return Math.max(1, Math.ceil(Math.log2(value + 1) / 7));
}

test('a constant series on a perfect schedule costs two bits per sample after the second', () => {
  const chunk = encode(jitteredTimestamps(seededRandom(5), chunkSamplesTarget, 15_000, 0).map((timestampMs) => raw(timestampMs, 1)));
  const headBytes = 2 + varintBytes(2 * startMs) + 8 + varintBytes(15_000);
  // Then one bit for the second value ("unchanged"), and per later sample one for "same delta" and one
  // for "same value".
  assert.equal(chunk.byteSize, headBytes + Math.ceil((1 + 2 * (chunkSamplesTarget - 2)) / 8));
});
