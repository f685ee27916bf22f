import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvStore } from '../../../src/kv/index.ts';
import { MemberRegistry, StoreMachine } from '../../../src/server/member/store-machine.ts';
import { encodeValue } from '../../../src/server/member/_value-codec.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

function machineWith(values: number): StoreMachine {
  const members = new MemberRegistry();
  members.seed(7, { name: 'm7', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'] });
  members.seed(9, { name: 'm9', peerUrls: ['http://127.0.0.1:2480'], clientUrls: [] });
  const machine = new StoreMachine(new KvStore({ clock: { now: () => 0 } }), members);
  for (let index = 0; index < values; index++) machine.store.put({ key: bytes(`key${index % 7}`), value: bytes(`value${index}`) });
  return machine;
}

function emptyMachine(): StoreMachine {
  return new StoreMachine(new KvStore({ clock: { now: () => 0 } }), new MemberRegistry());
}

test('a member snapshot restores the store and the membership, encoded in one slice or many', () => {
  const source = machineWith(40);
  const whole = source.snapshot();
  const capture = source.captureSnapshot();
  let slices = 0;
  while (!capture.encodeSome(3)) slices++;
  assert.ok(slices >= 10, 'forty records in slices of three');
  assert.deepEqual(capture.finish(), whole);
  const copy = emptyMachine();
  copy.restore(whole);
  assert.equal(copy.store.hash().hash, source.store.hash().hash);
  assert.deepEqual(copy.members.list(), source.members.list());
});

test('a snapshot in the earlier form (the value codec\'s {store, members}) still restores', () => {
  const source = machineWith(12);
  const earlier = encodeValue({ store: source.store.snapshot(), members: source.members.toPlain() });
  const copy = emptyMachine();
  copy.restore(earlier);
  assert.equal(copy.store.hash().hash, source.store.hash().hash);
  assert.deepEqual(copy.members.list(), source.members.list());
});

test('a truncated member snapshot is refused', () => {
  const whole = machineWith(5).snapshot();
  assert.throws(() => emptyMachine().restore(whole.subarray(0, 3)), /shorter than its head/);
  assert.throws(() => emptyMachine().restore(whole.subarray(0, 12)), /truncated in its membership/);
  assert.throws(() => emptyMachine().restore(whole.subarray(0, whole.length - 1)));
});
