import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Command, KvStateMachine, decodeCommand, encodeCommand } from '../../src/sim/kv.ts';

test('commands round-trip through their encoding', () => {
  const commands: Command[] = [
    { requestId: 1, clientId: 2, sequence: 3, input: { kind: 'get', key: 'k0' } },
    { requestId: 4, clientId: 5, sequence: 6, input: { kind: 'put', key: 'k1', value: 'v5.6' } },
    { requestId: 7, clientId: 8, sequence: 9, input: { kind: 'cas', key: 'k2', expected: null, value: 'v8.9' } },
    { requestId: 10, clientId: 8, sequence: 11, input: { kind: 'cas', key: 'k2', expected: 'v8.9', value: 'v8.11' } },
  ];
  for (const command of commands) assert.deepEqual(decodeCommand(encodeCommand(command)), command);
});

test('put, get and compare-and-set behave as registers', () => {
  const kv = new KvStateMachine();
  assert.deepEqual(kv.apply({ requestId: 1, clientId: 1, sequence: 1, input: { kind: 'get', key: 'x' } }).output, { kind: 'get', value: null });
  kv.apply({ requestId: 2, clientId: 1, sequence: 2, input: { kind: 'put', key: 'x', value: 'a' } });
  assert.deepEqual(kv.apply({ requestId: 3, clientId: 1, sequence: 3, input: { kind: 'cas', key: 'x', expected: 'b', value: 'c' } }).output, { kind: 'cas', ok: false });
  assert.deepEqual(kv.apply({ requestId: 4, clientId: 1, sequence: 4, input: { kind: 'cas', key: 'x', expected: 'a', value: 'c' } }).output, { kind: 'cas', ok: true });
  assert.equal(kv.get('x'), 'c');
});

test('a duplicate command takes effect once, and an older one never', () => {
  const kv = new KvStateMachine();
  const put = { requestId: 1, clientId: 7, sequence: 5, input: { kind: 'put', key: 'x', value: 'first' } } as const;
  assert.equal(kv.apply(put).duplicate, false);
  kv.apply({ requestId: 2, clientId: 8, sequence: 1, input: { kind: 'put', key: 'x', value: 'second' } });
  const again = kv.apply(put);
  assert.deepEqual(again, { output: { kind: 'put' }, duplicate: true });
  assert.equal(kv.get('x'), 'second', 'the duplicate did not write again');
  const older = kv.apply({ requestId: 3, clientId: 7, sequence: 4, input: { kind: 'put', key: 'x', value: 'stale' } });
  assert.deepEqual(older, { output: null, duplicate: true });
  assert.equal(kv.get('x'), 'second');
});

test('a snapshot restores values and sessions; an empty one is the empty state', () => {
  const kv = new KvStateMachine();
  kv.apply({ requestId: 1, clientId: 1, sequence: 1, input: { kind: 'put', key: 'x', value: 'a' } });
  const copy = new KvStateMachine();
  copy.restore(kv.encode());
  assert.equal(copy.get('x'), 'a');
  assert.equal(copy.apply({ requestId: 1, clientId: 1, sequence: 1, input: { kind: 'put', key: 'x', value: 'a' } }).duplicate, true);
  assert.deepEqual(copy.encode(), kv.encode());
  copy.restore(new Uint8Array(0));
  assert.equal(copy.get('x'), null);
});
