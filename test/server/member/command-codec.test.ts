import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandCodecError, decodeCommand, encodeCommand } from '../../../src/server/member/_command-codec.ts';
import type { StoreCommand } from '../../../src/server/member/store-machine.ts';
import { AlarmAction, AlarmType, CompareResult, CompareTarget, SortOrder, SortTarget } from '../../../src/kv/index.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
/** Bytes as arrays (the decoder returns Buffer views, the fixtures Uint8Arrays): compare contents only. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, plain(field)]));
  return value;
}

/** Decoding fills protobuf defaults; compare what the store reads, field by field, with defaults applied. */
const commands: StoreCommand[] = [
  { kind: 'put', request: { key: bytes('k'), value: bytes('v'), lease: 2 ** 40 + 3, prevKv: true, ignoreValue: false, ignoreLease: false } },
  { kind: 'deleteRange', request: { key: bytes('a'), rangeEnd: bytes('z'), prevKv: true } },
  {
    kind: 'txn',
    request: {
      compare: [
        { result: CompareResult.Equal, target: CompareTarget.Value, key: bytes('k'), rangeEnd: new Uint8Array(0), value: bytes('v') },
        { result: CompareResult.Greater, target: CompareTarget.Lease, key: bytes('k'), rangeEnd: bytes('l'), lease: 7 },
        { result: CompareResult.Less, target: CompareTarget.Mod, key: bytes('m'), rangeEnd: new Uint8Array(0), modRevision: 9 },
      ],
      success: [
        { requestPut: { key: bytes('k'), value: bytes('w'), lease: 0, prevKv: false, ignoreValue: false, ignoreLease: false } },
        { requestRange: { key: bytes('a'), rangeEnd: bytes('b'), limit: 3, revision: 0, sortOrder: SortOrder.Descend, sortTarget: SortTarget.Mod, serializable: false, keysOnly: true, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 4 } },
      ],
      failure: [
        { requestDeleteRange: { key: bytes('k'), rangeEnd: new Uint8Array(0), prevKv: false } },
        { requestTxn: { compare: [], success: [{ requestPut: { key: bytes('n'), value: bytes(''), lease: 0, prevKv: false, ignoreValue: false, ignoreLease: false } }], failure: [] } },
      ],
    },
  },
  { kind: 'compaction', request: { revision: 42, physical: true } },
  { kind: 'leaseGrant', request: { ttl: 60, id: 12345 } },
  { kind: 'leaseRevoke', request: { id: 2 ** 52 } },
  { kind: 'alarm', request: { action: AlarmAction.Activate, memberId: 77, alarm: AlarmType.NoSpace } },
  { kind: 'leaseCheckpoint', request: { checkpoints: [{ id: 1, remainingTtl: 30 }, { id: 2, remainingTtl: 0 }] } },
  { kind: 'memberAttributes', request: { id: 9, name: 'm1', clientUrls: ['http://127.0.0.1:2379'] } },
];

test('every store command survives encode and decode, after the reserved prefix', () => {
  for (const command of commands) {
    const encoded = encodeCommand(command, 8);
    assert.equal(encoded.length, encodeCommand(command).length + 8, `${command.kind}: exactly the prefix is left for the caller`);
    encoded.fill(0xee, 0, 8); // the caller's request ID does not disturb the command
    assert.deepEqual(plain(decodeCommand(encoded.subarray(8))), plain(command), command.kind);
  }
});

test('the kind byte is part of the on-disk format', () => {
  assert.equal(encodeCommand(commands[0]!)[0], 1);
  assert.equal(encodeCommand(commands[8]!)[0], 9);
});

test('a corrupt command is refused with a clear error, never half-applied', () => {
  assert.throws(() => decodeCommand(new Uint8Array(0)), (error) => error instanceof CommandCodecError && /empty/.test(error.message));
  assert.throws(() => decodeCommand(Uint8Array.of(200, 1, 2)), (error) => error instanceof CommandCodecError && /unknown store command kind 200/.test(error.message));
  // A put whose key field claims more bytes than there are.
  assert.throws(() => decodeCommand(Uint8Array.of(1, 0x0a, 0x7f, 0x01)), (error) => error instanceof CommandCodecError && /malformed store command of kind 1/.test(error.message));
});
