import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../src/storage/index.ts';

/** One bit at a time, straight from the definition: the reference the table-driven code must match. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test('crc32c matches the published check value and the RFC 3720 vectors', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, index) => index)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, index) => 31 - index)), 0x113fdb5c);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('crc32c agrees with a bitwise reference for every length up to 64 and odd offsets', () => {
  let seed = 12345;
  const random = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
  const buffer = Uint8Array.from({ length: 80 }, random);
  for (let start = 0; start < 8; start++) {
    for (let length = 0; start + length <= 72; length++) {
      const slice = buffer.subarray(start, start + length);
      assert.equal(crc32c(slice), crc32cBitwise(slice), `start ${start} length ${length}`);
    }
  }
});

test('crc32c continues a CRC across pieces', () => {
  const whole = Uint8Array.from({ length: 1000 }, (_, index) => (index * 31) & 0xff);
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    assert.equal(crc32c(whole.subarray(cut), crc32c(whole.subarray(0, cut))), crc32c(whole), `cut at ${cut}`);
  }
});
