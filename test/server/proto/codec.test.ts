// The generated codecs: hand-computed message vectors, a round trip of every message with every field
// set, unknown fields, malformed input, and a seeded mutation run that must only ever raise ProtoError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as proto from '../../../src/server/proto/index.ts';
import { ProtoError } from '../../../src/server/proto/index.ts';
import { loadSchema } from '../../../scripts/generate-proto.ts';
import type { FieldNode, MessageNode } from '../../../scripts/generate-proto.ts';
import { jsonName } from '../../../scripts/generate-proto.ts';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const bytesOf = (encoded: Uint8Array): number[] => [...encoded];
/** Decoders alias their input; copying into a plain Uint8Array keeps deepEqual's prototype check simple. */
const plain = (encoded: Uint8Array): Uint8Array => new Uint8Array(encoded);

type Codec = { encode: (message: unknown, reservedBytes?: number) => Uint8Array; decode: (bytes: Uint8Array) => unknown };

function codecFor(tsName: string): Codec {
  const exports = proto as unknown as Record<string, unknown>;
  const encode = exports[`encode${tsName}`];
  const decode = exports[`decode${tsName}`];
  assert.equal(typeof encode, 'function', `encode${tsName} is exported`);
  assert.equal(typeof decode, 'function', `decode${tsName} is exported`);
  return { encode: encode as Codec['encode'], decode: decode as Codec['decode'] };
}

// ---------------------------------------------------------------------------------------------------
// Hand-computed vectors
// ---------------------------------------------------------------------------------------------------

test('PutRequest encodes to the bytes the spec gives', () => {
  const encoded = proto.encodePutRequest({ key: text('foo'), value: text('bar'), lease: 1n, prevKv: true });
  assert.deepEqual(bytesOf(encoded), [0x0a, 0x03, 0x66, 0x6f, 0x6f, 0x12, 0x03, 0x62, 0x61, 0x72, 0x18, 0x01, 0x20, 0x01]);
  const decoded = proto.decodePutRequest(plain(encoded));
  assert.deepEqual(decoded, { key: text('foo'), value: text('bar'), lease: 1n, prevKv: true, ignoreValue: false, ignoreLease: false });
});

test('defaults are not written: an empty PutRequest is zero bytes', () => {
  assert.equal(proto.encodePutRequest({}).length, 0);
  assert.equal(proto.encodePutRequest({ key: new Uint8Array(0), lease: 0n, prevKv: false }).length, 0);
  assert.deepEqual(proto.decodePutRequest(new Uint8Array(0)), proto.createPutRequest());
});

test('ResponseHeader: a uint64 ID with the top bit set survives as a bigint', () => {
  const encoded = proto.encodeResponseHeader({ clusterId: 2n ** 63n, revision: 5, raftTerm: 2 });
  assert.deepEqual(bytesOf(encoded), [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x18, 0x05, 0x20, 0x02]);
  assert.deepEqual(proto.decodeResponseHeader(encoded), { clusterId: 2n ** 63n, memberId: 0n, revision: 5, raftTerm: 2 });
});

test('RangeRequest: a negative int64 takes ten bytes', () => {
  const encoded = proto.encodeRangeRequest({ limit: -1 });
  assert.deepEqual(bytesOf(encoded), [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  assert.equal(proto.decodeRangeRequest(encoded).limit, -1);
});

test('WatchRequest: oneof with a nested message and a packed repeated enum', () => {
  const encoded = proto.encodeWatchRequest({
    requestUnion: { case: 'createRequest', value: { key: text('a'), filters: [proto.WatchCreateRequestFilterType.NOPUT, proto.WatchCreateRequestFilterType.NODELETE] } },
  });
  assert.deepEqual(bytesOf(encoded), [0x0a, 0x07, 0x0a, 0x01, 0x61, 0x2a, 0x02, 0x00, 0x01]);
  const decoded = proto.decodeWatchRequest(plain(encoded));
  assert.equal(decoded.requestUnion?.case, 'createRequest');
  assert.deepEqual(decoded.requestUnion.value.filters, [0, 1]);
  // The unpacked form of the same filters must decode the same.
  const unpacked = proto.decodeWatchRequest(Uint8Array.from([0x0a, 0x07, 0x0a, 0x01, 0x61, 0x28, 0x00, 0x28, 0x01]));
  assert.deepEqual(unpacked, decoded);
});

test('WatchRequest: an empty oneof member is still written', () => {
  const encoded = proto.encodeWatchRequest({ requestUnion: { case: 'progressRequest', value: {} } });
  assert.deepEqual(bytesOf(encoded), [0x1a, 0x00]);
  assert.deepEqual(proto.decodeWatchRequest(encoded).requestUnion, { case: 'progressRequest', value: {} });
});

test('Compare: a zero oneof operand is written, and field 64 takes a two-byte tag', () => {
  const encoded = proto.encodeCompare({ key: text('k'), targetUnion: { case: 'version', value: 0 }, rangeEnd: text('z') });
  assert.deepEqual(bytesOf(encoded), [0x1a, 0x01, 0x6b, 0x20, 0x00, 0x82, 0x04, 0x01, 0x7a]);
  const decoded = proto.decodeCompare(plain(encoded));
  assert.deepEqual(decoded.targetUnion, { case: 'version', value: 0 });
  assert.deepEqual(decoded.rangeEnd, text('z'));
});

test('strings: AuthenticateRequest carries UTF-8 names', () => {
  const encoded = proto.encodeAuthenticateRequest({ name: 'é', password: 'pw' });
  assert.deepEqual(bytesOf(encoded), [0x0a, 0x02, 0xc3, 0xa9, 0x12, 0x02, 0x70, 0x77]);
  assert.deepEqual(proto.decodeAuthenticateRequest(encoded), { name: 'é', password: 'pw' });
});

test('encoders leave reservedBytes at the front for a frame header', () => {
  const encoded = proto.encodePutRequest({ key: text('a') }, 5);
  assert.deepEqual(bytesOf(encoded.subarray(5)), [0x0a, 0x01, 0x61]);
  assert.equal(encoded.length, 8);
});

test('a singular message seen twice is merged; a scalar seen twice keeps the last value', () => {
  // header { revision: 1 } header { raft_term: 2 } more: true more: false
  const bytes = Uint8Array.from([0x0a, 0x02, 0x18, 0x01, 0x0a, 0x02, 0x20, 0x02, 0x18, 0x01, 0x18, 0x00]);
  const decoded = proto.decodeRangeResponse(bytes);
  assert.deepEqual(decoded.header, { clusterId: 0n, memberId: 0n, revision: 1, raftTerm: 2 });
  assert.equal(decoded.more, false);
});

// ---------------------------------------------------------------------------------------------------
// Every message with every field set
// ---------------------------------------------------------------------------------------------------

const schema = loadSchema(new URL('../../../proto', import.meta.url).pathname);
const messages: MessageNode[] = [];
const collect = (message: MessageNode): void => {
  messages.push(message);
  message.messages.forEach(collect);
};
for (const file of schema) file.messages.forEach(collect);

/** A deliberately awkward value of the field's type: extremes, multi-byte text, non-zero enums. */
function sampleScalar(field: FieldNode, seed: number): unknown {
  const resolved = field.resolved!;
  if (resolved.kind === 'enum') return resolved.values[resolved.values.length - 1]!.number;
  if (resolved.kind !== 'scalar') throw new Error('not a scalar');
  const asNumber = field.jsType === 'JS_NUMBER';
  switch (resolved.scalar) {
    case 'bool': return true;
    case 'string': return `é-${field.name}-${seed}`;
    case 'bytes': return Uint8Array.from([0, 255, seed & 0xff, 0x80]);
    case 'uint32': case 'fixed32': return 0xffffffff - seed;
    case 'int32': case 'sint32': case 'sfixed32': return -0x80000000 + seed;
    case 'double': return -1.5e300;
    case 'float': return 0.5;
    case 'uint64': case 'fixed64': return asNumber ? 2 ** 53 - 1 - seed : 2n ** 64n - 1n - BigInt(seed);
    default: return asNumber ? -(2 ** 53 - 1) + seed : -(2n ** 63n) + BigInt(seed);
  }
}

/** A fully populated decoded-shape message; `oneofChoice` picks which member of each oneof is set. */
function sampleMessage(message: MessageNode, depth: number, oneofChoice: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const oneof of message.oneofs) {
    const member = oneof.fields[oneofChoice % oneof.fields.length]!;
    result[jsonName(oneof.name)] = { case: jsonName(member.name), value: sampleValue(member, depth, oneofChoice) };
  }
  for (const field of message.fields) {
    if (field.oneof !== undefined) continue;
    const value = field.repeated ? [sampleValue(field, depth, oneofChoice), sampleValue(field, depth, oneofChoice + 1)] : sampleValue(field, depth, oneofChoice);
    result[jsonName(field.name)] = value;
  }
  return result;
}

function sampleValue(field: FieldNode, depth: number, seed: number): unknown {
  const resolved = field.resolved!;
  if (resolved.kind !== 'message') return sampleScalar(field, seed);
  // Transactions nest recursively; three levels cover nesting without exploding.
  if (depth >= 3) return codecFor(resolved.tsName).decode(new Uint8Array(0));
  return sampleMessage(resolved, depth + 1, seed);
}

test('every message round-trips with every field set, and re-encodes to the same bytes', () => {
  assert.ok(messages.length >= 100, `found ${messages.length} messages`);
  let checked = 0;
  for (const message of messages) {
    const codec = codecFor(message.tsName);
    const choices = Math.max(1, ...message.oneofs.map((oneof) => oneof.fields.length));
    for (let choice = 0; choice < choices; choice++) {
      const sample = sampleMessage(message, 0, choice);
      const encoded = codec.encode(sample);
      if (message.fields.length > 0) assert.ok(encoded.length > 0, `${message.fullName} encodes to some bytes`);
      const decoded = codec.decode(plain(encoded));
      assert.deepEqual(decoded, sample, `${message.fullName} (oneof choice ${choice}) round-trips`);
      assert.deepEqual(bytesOf(codec.encode(decoded)), bytesOf(encoded), `${message.fullName} re-encodes identically`);
      checked++;
    }
  }
  assert.ok(checked >= messages.length);
});

test('every message skips unknown fields of every wire type', () => {
  const unknown = [0xa0, 0x06, 0x96, 0x01, 0xa9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0xb2, 0x06, 0x02, 0x78, 0x79, 0xbb, 0x06, 0x08, 0x01, 0xbc, 0x06, 0xc5, 0x06, 1, 2, 3, 4];
  for (const message of messages) {
    const codec = codecFor(message.tsName);
    const sample = sampleMessage(message, 0, 0);
    const encoded = bytesOf(codec.encode(sample));
    const withUnknown = Uint8Array.from([...unknown, ...encoded, ...unknown]);
    assert.deepEqual(codec.decode(withUnknown), sample, `${message.fullName} ignores unknown fields`);
  }
});

test('every message refuses a known field sent with the wrong wire type', () => {
  for (const message of messages) {
    const codec = codecFor(message.tsName);
    for (const field of message.fields) {
      const resolved = field.resolved!;
      const lengthDelimited = resolved.kind === 'message' || (resolved.kind === 'scalar' && (resolved.scalar === 'string' || resolved.scalar === 'bytes'));
      // A fixed32 value is wrong for every field keel declares (none is fixed32 or float).
      const wrongWireType = lengthDelimited ? 5 : (field.repeated ? 5 : 2);
      const tag = field.number * 8 + wrongWireType;
      const tagBytes = tag < 128 ? [tag] : [(tag & 0x7f) | 0x80, tag >>> 7];
      const payload = wrongWireType === 5 ? [1, 2, 3, 4] : [0x01, 0x00];
      assert.throws(() => codec.decode(Uint8Array.from([...tagBytes, ...payload])), { code: 'PROTO_WIRE_TYPE_MISMATCH' }, `${message.fullName}.${field.name}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------------

test('malformed messages are refused with stable codes', () => {
  const cases: [string, (bytes: Uint8Array) => unknown, number[], string][] = [
    ['truncated varint', proto.decodeRangeRequest, [0x18, 0x80], 'PROTO_TRUNCATED'],
    ['varint too long', proto.decodeRangeRequest, [0x18, ...new Array(10).fill(0xff), 0x01], 'PROTO_VARINT_TOO_LONG'],
    ['length past the end', proto.decodePutRequest, [0x0a, 0x05, 0x61], 'PROTO_TRUNCATED'],
    ['nested value running past its message', proto.decodeRangeResponse, [0x0a, 0x02, 0x18, 0x85, 0x01], 'PROTO_TRUNCATED'],
    ['nested length past its parent', proto.decodeTxnRequest, [0x12, 0x04, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x00], 'PROTO_TRUNCATED'],
    ['bytes field as varint', proto.decodePutRequest, [0x08, 0x01], 'PROTO_WIRE_TYPE_MISMATCH'],
    ['message field as varint', proto.decodeRangeResponse, [0x08, 0x01], 'PROTO_WIRE_TYPE_MISMATCH'],
    ['wire type 7', proto.decodePutRequest, [0x0f], 'PROTO_INVALID_WIRE_TYPE'],
    ['wire type 6', proto.decodePutRequest, [0x76, 0x00], 'PROTO_INVALID_WIRE_TYPE'],
    ['field number 0', proto.decodePutRequest, [0x02, 0x00], 'PROTO_INVALID_FIELD_NUMBER'],
    ['unmatched end-group', proto.decodePutRequest, [0x7c], 'PROTO_INVALID_WIRE_TYPE'],
    ['revision of 2^53', proto.decodeRangeRequest, [0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], 'PROTO_INTEGER_UNSAFE'],
    ['revision of -(2^53)', proto.decodeRangeRequest, [0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xf0, 0xff, 0x01], 'PROTO_INTEGER_UNSAFE'],
    ['invalid UTF-8', proto.decodeAuthenticateRequest, [0x0a, 0x02, 0xc3, 0x28], 'PROTO_INVALID_UTF8'],
  ];
  for (const [name, decode, bytes, code] of cases) {
    assert.throws(() => decode(Uint8Array.from(bytes)), (error: unknown) => {
      assert.ok(error instanceof ProtoError, `${name}: a ProtoError`);
      assert.equal(error.code, code, name);
      return true;
    });
  }
});

test('transactions nested beyond the depth bound are refused, not a stack overflow', () => {
  let txn: proto.TxnRequestInit = { success: [{ request: { case: 'requestPut', value: { key: text('k') } } }] };
  for (let depth = 0; depth < 40; depth++) txn = { success: [{ request: { case: 'requestTxn', value: txn } }] };
  // 40 transactions are 80 nested messages: past nestingDepthMax (64).
  const encoded = proto.encodeTxnRequest(txn);
  assert.throws(() => proto.decodeTxnRequest(encoded), { code: 'PROTO_NESTING_TOO_DEEP' });
  let shallow: proto.TxnRequestInit = { success: [] };
  for (let depth = 0; depth < 20; depth++) shallow = { success: [{ request: { case: 'requestTxn', value: shallow } }] };
  assert.doesNotThrow(() => proto.decodeTxnRequest(proto.encodeTxnRequest(shallow)));
});

test('encoders refuse values their fields cannot carry', () => {
  assert.throws(() => proto.encodeRangeRequest({ limit: 1.5 }), { code: 'PROTO_INVALID_VALUE' });
  assert.throws(() => proto.encodeRangeRequest({ revision: 2 ** 53 }), { code: 'PROTO_INVALID_VALUE' });
  assert.throws(() => proto.encodeSnapshotResponse({ remainingBytes: -1 }), { code: 'PROTO_INVALID_VALUE' });
  assert.throws(() => proto.encodePutRequest({ lease: 2n ** 63n }), { code: 'PROTO_INVALID_VALUE' });
  assert.throws(() => proto.encodeResponseHeader({ clusterId: -1n }), { code: 'PROTO_INVALID_VALUE' });
  assert.throws(() => proto.encodeHashResponse({ hash: 2 ** 32 }), { code: 'PROTO_INVALID_VALUE' });
  assert.throws(() => proto.encodeEvent({ type: 2 ** 31 }), { code: 'PROTO_INVALID_VALUE' });
  // A failed encode leaves the shared size cache usable.
  assert.deepEqual(bytesOf(proto.encodeRangeRequest({ limit: 1 })), [0x18, 0x01]);
});

/** A small deterministic PRNG (mulberry32) so a failing mutation can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32;
  };
}

test('truncated and mutated messages decode or raise ProtoError, never anything else', () => {
  const seed = 20240601;
  const next = random(seed);
  const samples = ['TxnRequest', 'RangeResponse', 'WatchResponse', 'WatchRequest', 'MemberListResponse', 'StatusResponse', 'AuthRoleGetResponse']
    .map((name) => ({ codec: codecFor(name), bytes: bytesOf(codecFor(name).encode(sampleMessage(messages.find((message) => message.tsName === name)!, 0, 1))) }));
  let rejected = 0;
  const attempt = (decode: Codec['decode'], bytes: number[], what: string): void => {
    try {
      decode(Uint8Array.from(bytes));
    } catch (error) {
      assert.ok(error instanceof ProtoError, `${what} (seed ${seed}): ${String(error)}`);
      rejected++;
    }
  };
  for (const { codec, bytes } of samples) {
    for (let length = 0; length < bytes.length; length++) attempt(codec.decode, bytes.slice(0, length), `prefix of ${length} bytes`);
    for (let round = 0; round < 300; round++) {
      const mutated = [...bytes];
      for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) mutated[Math.floor(next() * mutated.length)] = Math.floor(next() * 256);
      attempt(codec.decode, mutated, `mutation round ${round}`);
    }
  }
  assert.ok(rejected > 100, 'mutations do hit the error paths');
});

// ---------------------------------------------------------------------------------------------------
// The generated files are current
// ---------------------------------------------------------------------------------------------------

test('the committed generated codecs match what the .proto files generate', async () => {
  const { generate } = await import('../../../scripts/generate-proto.ts');
  const { readFileSync } = await import('node:fs');
  const root = new URL('../../../', import.meta.url).pathname;
  const outputs = generate(root);
  assert.equal(outputs.size, 4);
  for (const [path, content] of outputs) {
    assert.equal(readFileSync(root + path, 'utf8'), content, `${path} is stale: run node --import tsx scripts/generate-proto.ts`);
  }
});

test('service descriptors carry etcd\'s paths and streaming kinds', () => {
  assert.equal(proto.KVService.methods.Range.path, '/etcdserverpb.KV/Range');
  assert.equal(proto.WatchService.methods.Watch.kind, 'bidirectional-stream');
  assert.equal(proto.LeaseService.methods.LeaseKeepAlive.kind, 'bidirectional-stream');
  assert.equal(proto.MaintenanceService.methods.Snapshot.kind, 'server-stream');
  assert.equal(proto.MaintenanceService.methods.Hash.path, '/etcdserverpb.Maintenance/Hash');
  assert.equal(proto.HealthService.methods.Check.path, '/grpc.health.v1.Health/Check');
  const names = [proto.KVService, proto.WatchService, proto.LeaseService, proto.ClusterService, proto.MaintenanceService, proto.AuthService].map((service) => service.name);
  assert.deepEqual(names, ['etcdserverpb.KV', 'etcdserverpb.Watch', 'etcdserverpb.Lease', 'etcdserverpb.Cluster', 'etcdserverpb.Maintenance', 'etcdserverpb.Auth']);
  assert.equal(Object.keys(proto.AuthService.methods).length, 16);
});
