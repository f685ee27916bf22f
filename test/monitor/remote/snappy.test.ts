import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteWriteError } from '../../../src/monitor/remote/errors.ts';
import {
  snappyDecode, snappyDecodedLength, snappyEncode, snappyMaxEncodedBytes,
} from '../../../src/monitor/remote/snappy.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function assertCorrupt(input: Uint8Array, pattern: RegExp): void {
  assert.throws(() => snappyDecode(input), (error: unknown) => {
    assert.ok(error instanceof RemoteWriteError);
    assert.equal(error.code, 'REMOTE_SNAPPY_CORRUPT');
    assert.match(error.message, pattern);
    return true;
  });
}

/** The kinds of element in an encoded block, by walking it (a second, minimal reader). */
function elementKinds(encoded: Uint8Array): { literal: number; copy1: number; copy2: number; copy4: number } {
  const kinds = { literal: 0, copy1: 0, copy2: 0, copy4: 0 };
  let position = 0;
  while (encoded[position]! >= 0x80) position += 1;
  position += 1;
  while (position < encoded.length) {
    const tag = encoded[position]!;
    switch (tag & 3) {
      case 0: {
        kinds.literal += 1;
        const short = tag >> 2;
        const extra = short < 60 ? 0 : short - 59;
        let length = short + 1;
        if (extra > 0) {
          length = 1;
          for (let index = 0; index < extra; index += 1) length += encoded[position + 1 + index]! * 2 ** (8 * index);
        }
        position += 1 + extra + length;
        break;
      }
      case 1: kinds.copy1 += 1; position += 2; break;
      case 2: kinds.copy2 += 1; position += 3; break;
      default: kinds.copy4 += 1; position += 5; break;
    }
  }
  assert.equal(position, encoded.length, 'elements end exactly at the end of the block');
  return kinds;
}

test('snappyDecode reads every element kind: literals with 0..2 length bytes, 1-, 2- and 4-byte-offset copies', () => {
  // "abcd" literal, copy-1 (len 4, offset 4), copy-2 (len 8, offset 8), copy-4 (len 2, offset 16).
  const encoded = Uint8Array.of(18, 3 << 2, 0x61, 0x62, 0x63, 0x64, (0 << 5) | (0 << 2) | 1, 4, (7 << 2) | 2, 8, 0, (1 << 2) | 3, 16, 0, 0, 0);
  assert.equal(new TextDecoder().decode(snappyDecode(encoded)), 'abcdabcdabcdabcdab');
  // A 100-byte literal needs one length byte (tag 60), a 300-byte one two (tag 61).
  for (const [length, tag, lengthBytes] of [[100, 60, [99]], [300, 61, [299 & 0xff, 299 >> 8]]] as const) {
    const payload = new Uint8Array(length).map((_, index) => index % 251);
    const varint = length < 128 ? [length] : [(length & 0x7f) | 0x80, length >> 7];
    const block = Uint8Array.from([...varint, tag << 2, ...lengthBytes, ...payload]);
    assert.deepEqual(snappyDecode(block), payload);
  }
});

test('snappyDecode repeats a pattern when a copy overlaps its own output', () => {
  // "ab" then a copy of 7 bytes at offset 2: "ababababa".
  const encoded = Uint8Array.of(9, 1 << 2, 0x61, 0x62, (6 << 2) | 2, 2, 0);
  assert.equal(new TextDecoder().decode(snappyDecode(encoded)), 'ababababa');
});

test('snappyDecode rejects malformed blocks with the byte offset', () => {
  assertCorrupt(new Uint8Array(0), /preamble is truncated/);
  assertCorrupt(Uint8Array.of(0x80, 0x80), /preamble is truncated/);
  assertCorrupt(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), /longer than 5 bytes/);
  assertCorrupt(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x7f), /more than a uint32/);
  assertCorrupt(Uint8Array.of(5, 4 << 2, 0x61), /at byte 1: a literal of 5 bytes runs past the end/);
  assertCorrupt(Uint8Array.of(5, 61 << 2, 4), /literal length is truncated/);
  assertCorrupt(Uint8Array.of(5, 0, 0x61, (3 << 2) | 2, 0, 0), /at byte 3: a copy has offset 0/);
  assertCorrupt(Uint8Array.of(5, 0, 0x61, (3 << 2) | 2, 2, 0), /reaches 2 bytes back with only 1 bytes written/);
  assertCorrupt(Uint8Array.of(3, 0, 0x61, (3 << 2) | 2, 1, 0), /writes past the announced length of 3 bytes/);
  assertCorrupt(Uint8Array.of(4, 0, 0x61, (3 << 2) | 2, 1), /copy element is truncated/);
  assertCorrupt(Uint8Array.of(4, 0, 0x61), /decodes to 1 bytes but announces 4/);
  assertCorrupt(Uint8Array.of(4, 0, 0x61, 1), /copy element is truncated/);
});

test('snappyDecode refuses a block announcing more than decodedBytesMax, before allocating it', () => {
  const announced = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f); // 2^32 - 1 bytes
  assert.equal(snappyDecodedLength(announced), 2 ** 32 - 1);
  assert.throws(() => snappyDecode(announced), { code: 'REMOTE_SNAPPY_TOO_LARGE' });
  const small = snappyEncode(new Uint8Array(1000));
  assert.throws(() => snappyDecode(small, { decodedBytesMax: 999 }), { code: 'REMOTE_SNAPPY_TOO_LARGE', message: /1000 bytes, more than the limit of 999/ });
  assert.equal(snappyDecode(small, { decodedBytesMax: 1000 }).length, 1000);
  assert.throws(() => snappyDecode(small, { decodedBytesMax: -1 }), { code: 'REMOTE_INVALID_OPTIONS' });
});

test('snappyEncode writes the length preamble and round-trips the empty and tiny inputs', () => {
  assert.deepEqual(snappyEncode(new Uint8Array(0)), Uint8Array.of(0));
  assert.deepEqual(snappyEncode(bytes('abc')), Uint8Array.of(3, 2 << 2, 0x61, 0x62, 0x63));
  const zeros = snappyEncode(new Uint8Array(100));
  assert.deepEqual(zeros, Uint8Array.of(100, 0, 0, (63 << 2) | 2, 1, 0, (34 << 2) | 2, 1, 0));
  assert.deepEqual(snappyDecode(zeros), new Uint8Array(100));
  const large = snappyEncode(new Uint8Array(300));
  assert.deepEqual([...large.subarray(0, 2)], [0xac, 0x02], '300 as a two-byte varint');
});

test('snappyEncode round-trips random data of many sizes, within the worst-case size', () => {
  const seed = testSeed(0x5eed_0001);
  const random = seededRandom(seed);
  for (const size of [1, 15, 16, 17, 18, 63, 64, 65, 1000, 65_535, 65_536, 65_537, 200_000]) {
    const input = new Uint8Array(size).map(() => random.below(256));
    const encoded = snappyEncode(input);
    assert.ok(encoded.length <= snappyMaxEncodedBytes(size), `seed ${seed} size ${size}: ${encoded.length} bytes`);
    assert.deepEqual(snappyDecode(encoded), input, `seed ${seed} size ${size}`);
  }
});

test('snappyEncode round-trips repetitive data and compresses it, using 1- and 2-byte-offset copies', () => {
  const seed = testSeed(0x5eed_0002);
  const random = seededRandom(seed);
  for (let round = 0; round < 40; round += 1) {
    // Text drawn from a small vocabulary, some runs, and pieces repeated from far back (up to 64 KiB).
    const parts: number[] = [];
    const vocabulary = ['__name__', 'keel_raft_term', 'instance', '127.0.0.1:2379', 'job', 'node', 'le', '0.005', '+Inf'].map(bytes);
    const size = 1 + random.below(150_000);
    while (parts.length < size) {
      const choice = random.below(4);
      if (choice === 0) parts.push(...random.pick(vocabulary));
      else if (choice === 1) parts.push(...new Array<number>(1 + random.below(200)).fill(random.below(256)));
      else if (choice === 2 && parts.length > 10) {
        const start = random.below(parts.length);
        parts.push(...parts.slice(start, start + 1 + random.below(300)));
      } else parts.push(random.below(256));
    }
    const input = Uint8Array.from(parts.slice(0, size));
    const encoded = snappyEncode(input);
    assert.deepEqual(snappyDecode(encoded), input, `seed ${seed} round ${round}`);
    if (size > 10_000) assert.ok(encoded.length < size / 2, `seed ${seed} round ${round}: ${encoded.length} of ${size} bytes`);
  }
  const kinds = elementKinds(snappyEncode(bytes('keel_raft_term{instance="a"} '.repeat(50) + 'x'.repeat(5000) + 'keel_raft_term{instance="a"} ')));
  assert.ok(kinds.copy1 > 0 && kinds.copy2 > 0 && kinds.literal > 0, JSON.stringify(kinds));
  assert.equal(kinds.copy4, 0, 'blocks are 64 KiB, so offsets always fit two bytes');
});

test('snappyEncode keeps matches inside 64 KiB blocks: a repeat 70 KiB back is not a copy across blocks', () => {
  const random = seededRandom(testSeed(0x5eed_0003));
  const chunk = new Uint8Array(70_000).map(() => random.below(256));
  const input = new Uint8Array(140_000);
  input.set(chunk, 0);
  input.set(chunk, 70_000);
  const encoded = snappyEncode(input);
  assert.deepEqual(snappyDecode(encoded), input);
  // The second copy of the chunk starts inside the second block, 70,000 bytes back: too far for any block.
  assert.ok(encoded.length > 130_000, `${encoded.length} bytes`);
});
