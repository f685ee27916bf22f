// Unit tests for the pieces under the server: message framing, grpc-timeout, grpc-message encoding,
// status errors, the request queue and option validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  decodeGrpcMessage, encodeGrpcMessage, frameMessage, GrpcError, GrpcOptionsError, MessageDeframer,
  parseGrpcTimeout, RequestStream, Status, validateGrpcServerOptions, writeFrameHeader,
} from '../../../src/server/grpc/index.ts';

function frames(...payloads: number[][]): Buffer {
  return Buffer.concat(payloads.map((payload) => frameMessage(Uint8Array.from(payload))));
}

function collect(bytesMax = 1024): { deframer: MessageDeframer; messages: number[][] } {
  const messages: number[][] = [];
  const deframer = new MessageDeframer(bytesMax, (payload) => {
    messages.push([...payload]);
    return true;
  });
  return { deframer, messages };
}

test('frame header: compressed flag, then a big-endian 32-bit length', () => {
  assert.deepEqual([...frameMessage(Uint8Array.from([7, 8, 9]))], [0, 0, 0, 0, 3, 7, 8, 9]);
  const reserved = new Uint8Array(5 + 300);
  writeFrameHeader(reserved, true);
  assert.deepEqual([...reserved.subarray(0, 5)], [1, 0, 0, 1, 44]);
  assert.throws(() => writeFrameHeader(new Uint8Array(3), false), RangeError);
});

test('deframer: several messages in one chunk are delivered as views, in order', () => {
  const input = frames([1], [], [2, 3], [4, 5, 6]);
  const views: Uint8Array[] = [];
  const deframer = new MessageDeframer(1024, (payload) => {
    views.push(payload);
    return true;
  });
  assert.equal(deframer.push(input), true);
  assert.deepEqual(views.map((view) => [...view]), [[1], [], [2, 3], [4, 5, 6]]);
  assert.equal(views[3]!.buffer, input.buffer, 'no copy for a message inside one chunk');
  assert.equal(deframer.idle, true);
});

test('deframer: every split point of the input gives the same messages', () => {
  const input = frames([1, 2, 3, 4, 5, 6, 7], [], [9]);
  for (let first = 0; first <= input.length; first++) {
    for (let second = first; second <= input.length; second++) {
      const { deframer, messages } = collect();
      deframer.push(input.subarray(0, first));
      deframer.push(input.subarray(first, second));
      deframer.push(input.subarray(second));
      assert.deepEqual(messages, [[1, 2, 3, 4, 5, 6, 7], [], [9]], `split at ${first} and ${second}`);
      assert.equal(deframer.idle, true);
    }
  }
  const { deframer, messages } = collect();
  for (const byte of input) deframer.push(Uint8Array.of(byte));
  assert.equal(messages.length, 3, 'one byte at a time');
});

test('deframer: a partial message is not idle', () => {
  const { deframer } = collect();
  deframer.push(frames([1, 2, 3]).subarray(0, 6));
  assert.equal(deframer.idle, false);
  const other = collect();
  other.deframer.push(Uint8Array.of(0, 0));
  assert.equal(other.deframer.idle, false);
});

test('deframer: an oversize length is refused before any allocation, and a bad flag is refused', () => {
  const { deframer } = collect(16);
  assert.throws(() => deframer.push(Uint8Array.of(0, 0xff, 0xff, 0xff, 0xff)), (error: unknown) => {
    assert.ok(error instanceof GrpcError);
    assert.equal(error.status, Status.RESOURCE_EXHAUSTED);
    assert.equal(error.message, 'grpc: received message larger than max (4294967295 vs. 16)');
    return true;
  });
  assert.throws(() => collect().deframer.push(Uint8Array.of(2, 0, 0, 0, 0)), { status: Status.INTERNAL });
  const exact = collect(3);
  exact.deframer.push(frames([1, 2, 3]));
  assert.deepEqual(exact.messages, [[1, 2, 3]]);
});

test('deframer: a sink that says stop holds the rest until resume()', () => {
  const delivered: number[] = [];
  let accept = 2;
  const deframer = new MessageDeframer(1024, (payload) => {
    delivered.push(payload[0]!);
    return --accept > 0;
  });
  assert.equal(deframer.push(frames([1], [2], [3], [4])), false);
  assert.deepEqual(delivered, [1, 2]);
  assert.equal(deframer.stopped, true);
  assert.equal(deframer.push(frames([5])), false, 'input in flight is held behind the remainder');
  assert.deepEqual(delivered, [1, 2]);
  accept = 2;
  assert.equal(deframer.resume(), false);
  assert.deepEqual(delivered, [1, 2, 3, 4]);
  accept = 10;
  assert.equal(deframer.resume(), true);
  assert.deepEqual(delivered, [1, 2, 3, 4, 5]);
  assert.equal(deframer.idle, true);
});

test('grpc-timeout: each unit converts to milliseconds; malformed values are INTERNAL', () => {
  assert.equal(parseGrpcTimeout(undefined), undefined);
  assert.equal(parseGrpcTimeout('1H'), 3_600_000);
  assert.equal(parseGrpcTimeout('2M'), 120_000);
  assert.equal(parseGrpcTimeout('3S'), 3_000);
  assert.equal(parseGrpcTimeout('250m'), 250);
  assert.equal(parseGrpcTimeout('1500u'), 1.5);
  assert.equal(parseGrpcTimeout('99999999n'), 99.999999);
  for (const bad of ['', '10', 'S', '123456789S', '1.5S', '-1S', '10s ', '5X']) {
    assert.throws(() => parseGrpcTimeout(bad), { status: Status.INTERNAL }, JSON.stringify(bad));
  }
});

test('grpc-message: percent-encoding covers %, non-ASCII and control characters, and round-trips', () => {
  assert.equal(encodeGrpcMessage('plain message'), 'plain message');
  assert.equal(encodeGrpcMessage('50% done'), '50%25 done');
  assert.equal(encodeGrpcMessage('a\nb\tc'), 'a%0Ab%09c');
  assert.equal(encodeGrpcMessage('✓'), '%E2%9C%93');
  for (const message of ['', 'x', '100%', 'μ-ünïcode ✓ 𝄞', 'line\r\nbreak', '%%%', '~ DEL\u007f']) {
    assert.equal(decodeGrpcMessage(encodeGrpcMessage(message)), message);
  }
  assert.equal(decodeGrpcMessage('bad %zz and %4'), 'bad %zz and %4', 'malformed escapes are kept');
});

test('GrpcError: carries the status, a stable code string and trailers', () => {
  const error = new GrpcError(Status.FAILED_PRECONDITION, 'etcdserver: mvcc: required revision has been compacted', { trailers: { 'x-a': '1' } });
  assert.equal(error.status, 9);
  assert.equal(error.code, 'GRPC_FAILED_PRECONDITION');
  assert.deepEqual(error.trailers, { 'x-a': '1' });
  assert.ok(error instanceof Error);
  assert.throws(() => new GrpcError(17 as Status, 'x'), RangeError);
});

test('RequestStream: bounded, pauses its source when full and resumes at half', async () => {
  const events: string[] = [];
  const stream = new RequestStream<number>(4, { pause: () => events.push('pause'), resume: () => events.push('resume') });
  assert.equal(stream.push(1), true);
  assert.equal(stream.push(2), true);
  assert.equal(stream.push(3), true);
  assert.equal(stream.push(4), false, 'the fourth fills the queue');
  assert.deepEqual(events, ['pause']);
  assert.throws(() => stream.push(5), RangeError, 'pushing past the bound is a bug in the source');
  assert.equal((await stream.next()).value, 1);
  assert.deepEqual(events, ['pause'], 'three queued is above half');
  assert.equal((await stream.next()).value, 2);
  assert.deepEqual(events, ['pause', 'resume']);
  stream.end();
  const rest: number[] = [];
  for await (const value of stream) rest.push(value);
  assert.deepEqual(rest, [3, 4]);
});

test('RequestStream: a waiting reader gets the next message, and fail() rejects it', async () => {
  const stream = new RequestStream<string>(2, { pause: () => {}, resume: () => {} });
  const pending = stream.next();
  stream.push('direct');
  assert.deepEqual(await pending, { value: 'direct', done: false });
  const waiting = stream.next();
  const error = new GrpcError(Status.CANCELLED, 'gone');
  stream.fail(error);
  await assert.rejects(waiting, error);
  await assert.rejects(stream.next(), error);
});

test('options: defaults follow etcd, and bad bounds are refused with a stable code', () => {
  const defaults = validateGrpcServerOptions();
  assert.equal(defaults.receiveMessageBytesMax, 2 * 1024 * 1024, '1.5 MiB requests plus 512 KiB of overhead');
  assert.equal(defaults.keepaliveIntervalMs, 2 * 60 * 60 * 1000);
  assert.equal(validateGrpcServerOptions({ receiveMessageBytesMax: undefined }).receiveMessageBytesMax, defaults.receiveMessageBytesMax);
  const bad = [
    { receiveMessageBytesMax: -1 },
    { receiveMessageBytesMax: 1.5 },
    { concurrentStreamsMax: 0 },
    { streamWindowBytes: 2 ** 31 },
    { streamWindowBytes: 4 * 1024 * 1024, connectionWindowBytes: 1024 * 1024 },
    { keepaliveIntervalMs: 1000, keepaliveTimeoutMs: 1000 },
  ];
  for (const options of bad) assert.throws(() => validateGrpcServerOptions(options), { code: 'GRPC_INVALID_OPTIONS' }, JSON.stringify(options));
  assert.ok(new GrpcOptionsError('x') instanceof Error);
});
