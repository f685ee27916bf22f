import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueCodecError, decodeValue, encodeValue, type PlainValue, valueDepthMax } from '../../../src/server/member/_value-codec.ts';

test('values round trip: numbers (negative, fractional, large), strings, bytes, nesting', () => {
  const value: PlainValue = {
    kind: 'txn', key: new Uint8Array([0, 1, 255]), lease: 2 ** 52 + 1, negative: -7, half: 0.5, infinite: -Infinity,
    flags: [true, false, null], text: 'ünïcode ✓', nested: { ops: [{ put: { key: new Uint8Array(0) } }] },
  };
  const decoded = decodeValue(encodeValue(value)) as Record<string, PlainValue>;
  assert.deepEqual(decoded, { ...value, key: new Uint8Array([0, 1, 255]) });
  assert.ok(decoded['key'] instanceof Uint8Array);
});

test('undefined fields are skipped, so equal requests encode to equal bytes', () => {
  assert.deepEqual(encodeValue({ a: 1, b: undefined }), encodeValue({ a: 1 }));
});

test('corrupt input fails with MEMBER_BAD_COMMAND, never a crash or a huge allocation', () => {
  const good = encodeValue({ items: [1, 2, 3], bytes: new Uint8Array(10) });
  for (let cut = 0; cut < good.length; cut++) {
    assert.throws(() => decodeValue(good.subarray(0, cut)), ValueCodecError, `cut at ${cut}`);
  }
  assert.throws(() => decodeValue(new Uint8Array([7, 0xff, 0xff, 0xff, 0x7f])), ValueCodecError);
  assert.throws(() => decodeValue(new Uint8Array([99])), ValueCodecError);
  assert.throws(() => decodeValue(new Uint8Array([0, 0])), /trailing bytes/);
});

test('nesting is bounded on both sides', () => {
  let deep: PlainValue = 1;
  for (let i = 0; i <= valueDepthMax + 1; i++) deep = [deep];
  assert.throws(() => encodeValue(deep), /nested too deeply/);
  // Arrays of one array, deeper than the bound: [7, 1] is "an array of one item" repeated.
  const nestedArrays = Array.from({ length: 2 * (valueDepthMax + 2) }, (_, i) => (i % 2 === 0 ? 7 : 1));
  assert.throws(() => decodeValue(new Uint8Array([...nestedArrays, 0])), /nested too deeply/);
});
