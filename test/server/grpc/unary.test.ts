// Unary calls through a real node:http2 client: success, status and message trailers, trailers-only
// errors, deadlines, size limits, compression, unknown methods and client cancellation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { decodeGrpcMessage, GrpcError, Status, unary } from '../../../src/server/grpc/index.ts';
import type { CallContext } from '../../../src/server/grpc/index.ts';
import { decodeRangeResponse, encodeRangeRequest, KVService } from '../../../src/server/proto/index.ts';
import { connect, frame, fromText, gzipFrame, identity, limits, openCall, rawEncoder, startServer, text, unaryCall, waitFor } from './_client.ts';


test('unary: a generated service answers with headers, one message and an OK trailer', limits, async () => {
  const harness = await startServer((server) => {
    server.addService(KVService, {
      Range: (request) => ({ header: { clusterId: 2n ** 63n + 7n, revision: 42 }, kvs: [{ key: request.key, value: text('v'), modRevision: 3 }], count: 1 }),
    });
  });
  try {
    const result = await unaryCall(harness.session, '/etcdserverpb.KV/Range', encodeRangeRequest({ key: text('foo') }));
    assert.equal(result.httpStatus, 200);
    assert.equal(result.headers['content-type'], 'application/grpc');
    // As grpc-go's (and so etcd's): no `date` header, which node:http2 adds unless told not to.
    assert.equal(result.headers.date, undefined);
    assert.equal(result.trailersOnly, false);
    assert.equal(result.status, Status.OK);
    assert.equal(result.messages.length, 1);
    const response = decodeRangeResponse(result.messages[0]!);
    assert.equal(response.header?.clusterId, 2n ** 63n + 7n);
    assert.equal(response.header?.revision, 42);
    assert.equal(fromText(response.kvs[0]!.key), 'foo');
    assert.equal(response.count, 1);
  } finally {
    await harness.close();
  }
});

test('unary: a GrpcError becomes a trailers-only response with a percent-encoded message', limits, async () => {
  const message = 'etcdserver: requested lease not found ✓ 100%';
  const harness = await startServer((server) => {
    server.addService('test.Errors', {
      Fail: unary(identity, rawEncoder, () => {
        throw new GrpcError(Status.NOT_FOUND, message, { trailers: { 'x-detail': 'lease' } });
      }),
    });
  });
  try {
    const result = await unaryCall(harness.session, '/test.Errors/Fail', text('x'));
    assert.equal(result.trailersOnly, true, 'status arrives in the HEADERS frame');
    assert.equal(result.httpStatus, 200);
    assert.equal(result.status, Status.NOT_FOUND);
    assert.equal(result.statusMessage, 'etcdserver: requested lease not found %E2%9C%93 100%25');
    assert.equal(decodeGrpcMessage(result.statusMessage!), message);
    assert.equal(result.headers['x-detail'], 'lease');
    assert.equal(result.messages.length, 0);
  } finally {
    await harness.close();
  }
});

test('unary: a plain error becomes UNKNOWN, is reported, and the server keeps serving', limits, async () => {
  const reported: string[] = [];
  let calls = 0;
  const harness = await startServer((server) => {
    server.addService('test.Flaky', {
      Call: unary(identity, rawEncoder, async () => {
        calls++;
        if (calls === 1) throw new TypeError('boom');
        return text('fine');
      }),
    });
  }, { onError: (error) => reported.push((error as Error).message) });
  try {
    const failed = await unaryCall(harness.session, '/test.Flaky/Call', text(''));
    assert.equal(failed.status, Status.UNKNOWN);
    assert.equal(failed.statusMessage, 'boom');
    assert.deepEqual(reported, ['boom']);
    const next = await unaryCall(harness.session, '/test.Flaky/Call', text(''));
    assert.equal(next.status, Status.OK);
    assert.equal(fromText(next.messages[0]!), 'fine');
  } finally {
    await harness.close();
  }
});

test('unary: unknown services and methods answer UNIMPLEMENTED in grpc-go\'s words', limits, async () => {
  const harness = await startServer((server) => {
    server.addService(KVService, { Range: () => ({}) });
  });
  try {
    const service = await unaryCall(harness.session, '/etcdserverpb.Nope/Range', new Uint8Array(0));
    assert.equal(service.status, Status.UNIMPLEMENTED);
    assert.equal(service.statusMessage, 'unknown service etcdserverpb.Nope');
    assert.equal(service.trailersOnly, true);
    const method = await unaryCall(harness.session, '/etcdserverpb.KV/Nope', new Uint8Array(0));
    assert.equal(method.status, Status.UNIMPLEMENTED);
    assert.equal(method.statusMessage, 'unknown method Nope for service etcdserverpb.KV');
    const missing = await unaryCall(harness.session, '/etcdserverpb.KV/Put', new Uint8Array(0));
    assert.equal(missing.status, Status.UNIMPLEMENTED);
    assert.equal(missing.statusMessage, 'method Put not implemented');
  } finally {
    await harness.close();
  }
});

test('unary: the deadline from grpc-timeout aborts the handler and answers DEADLINE_EXCEEDED', limits, async () => {
  let reason: unknown;
  let deadlineMs: number | undefined;
  const harness = await startServer((server) => {
    server.addService('test.Slow', {
      Wait: unary(identity, rawEncoder, (_request, context: CallContext) => {
        deadlineMs = context.deadlineMs;
        return new Promise<Uint8Array>((_resolve, reject) => {
          context.signal.addEventListener('abort', () => {
            reason = context.signal.reason;
            reject(context.signal.reason);
          });
        });
      }),
    });
  });
  try {
    const before = Date.now();
    const result = await unaryCall(harness.session, '/test.Slow/Wait', text('x'), { 'grpc-timeout': '50m' });
    assert.equal(result.status, Status.DEADLINE_EXCEEDED);
    assert.ok(reason instanceof GrpcError);
    assert.equal(reason.status, Status.DEADLINE_EXCEEDED);
    assert.ok(deadlineMs !== undefined && deadlineMs >= before + 50, 'the deadline is 50 ms after the call started');
    const malformed = await unaryCall(harness.session, '/test.Slow/Wait', text('x'), { 'grpc-timeout': '5 seconds' });
    assert.equal(malformed.status, Status.INTERNAL);
    assert.match(malformed.statusMessage ?? '', /malformed grpc-timeout/);
  } finally {
    await harness.close();
  }
});

test('unary: an oversize request fails with RESOURCE_EXHAUSTED before the handler runs', limits, async () => {
  let handled = 0;
  const harness = await startServer((server) => {
    server.addService('test.Echo', { Echo: unary(identity, rawEncoder, (request) => { handled++; return request; }) });
  }, { receiveMessageBytesMax: 1024 });
  try {
    const result = await unaryCall(harness.session, '/test.Echo/Echo', new Uint8Array(2000));
    assert.equal(result.status, Status.RESOURCE_EXHAUSTED);
    assert.equal(result.statusMessage, 'grpc: received message larger than max (2000 vs. 1024)');
    assert.equal(handled, 0);
    const fits = await unaryCall(harness.session, '/test.Echo/Echo', new Uint8Array(1024));
    assert.equal(fits.status, Status.OK);
    assert.equal(fits.messages[0]!.length, 1024);
  } finally {
    await harness.close();
  }
});

test('unary: an oversize response fails with RESOURCE_EXHAUSTED', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Big', { Get: unary(identity, rawEncoder, () => new Uint8Array(5000)) });
  }, { sendMessageBytesMax: 4096 });
  try {
    const result = await unaryCall(harness.session, '/test.Big/Get', new Uint8Array(0));
    assert.equal(result.status, Status.RESOURCE_EXHAUSTED);
    assert.equal(result.statusMessage, 'grpc: trying to send message larger than max (5000 vs. 4096)');
  } finally {
    await harness.close();
  }
});

test('unary: a malformed protobuf request is INTERNAL, not a crash', limits, async () => {
  const harness = await startServer((server) => {
    server.addService(KVService, { Range: () => ({}) });
  });
  try {
    const result = await unaryCall(harness.session, '/etcdserverpb.KV/Range', Uint8Array.from([0x0a, 0x05, 0x61]));
    assert.equal(result.status, Status.INTERNAL);
    assert.match(result.statusMessage ?? '', /^grpc: error unmarshalling request: length exceeds the input/);
    const empty = await unaryCall(harness.session, '/etcdserverpb.KV/Range', new Uint8Array(0));
    assert.equal(empty.status, Status.OK, 'an empty message is a valid RangeRequest');
  } finally {
    await harness.close();
  }
});

test('unary: no request message, a cut-off one, or two, is a protocol error', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Echo', { Echo: unary(identity, rawEncoder, (request) => request) });
    server.addService('test.Slow', { Echo: unary(identity, rawEncoder, (request) => new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(request), 20))) });
  });
  try {
    const none = await openCall(harness.session, '/test.Echo/Echo', { payloads: [] }).result;
    assert.equal(none.status, Status.INTERNAL);
    assert.match(none.statusMessage ?? '', /without a request message/);
    const cut = openCall(harness.session, '/test.Echo/Echo', { endAfter: false });
    cut.stream.end(frame(text('abc')).subarray(0, 6));
    const truncated = await cut.result;
    assert.equal(truncated.status, Status.INTERNAL);
    assert.match(truncated.statusMessage ?? '', /inside a message/);
    const two = await openCall(harness.session, '/test.Slow/Echo', { payloads: [text('a'), text('b')] }).result;
    assert.equal(two.status, Status.INTERNAL);
    assert.match(two.statusMessage ?? '', /second request message/);
  } finally {
    await harness.close();
  }
});

test('unary: gzip and deflate requests are decompressed; unknown encodings are refused', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Echo', { Echo: unary(identity, rawEncoder, (request) => request) });
  }, { receiveMessageBytesMax: 64 * 1024 });
  try {
    const payload = text('compressed hello '.repeat(20));
    const gzipped = await openCall(harness.session, '/test.Echo/Echo', { headers: { 'grpc-encoding': 'gzip' }, endAfter: false });
    gzipped.stream.end(gzipFrame(payload));
    const gzipResult = await gzipped.result;
    assert.equal(gzipResult.status, Status.OK);
    assert.equal(fromText(gzipResult.messages[0]!), fromText(payload));

    const deflated = openCall(harness.session, '/test.Echo/Echo', { headers: { 'grpc-encoding': 'deflate' }, endAfter: false });
    deflated.stream.end(frame(zlib.deflateSync(payload), true));
    assert.equal((await deflated.result).status, Status.OK);

    const flagWithoutEncoding = openCall(harness.session, '/test.Echo/Echo', { endAfter: false });
    flagWithoutEncoding.stream.end(gzipFrame(payload));
    const flagResult = await flagWithoutEncoding.result;
    assert.equal(flagResult.status, Status.INTERNAL);
    assert.match(flagResult.statusMessage ?? '', /compressed flag set with identity/);

    const snappy = await unaryCall(harness.session, '/test.Echo/Echo', payload, { 'grpc-encoding': 'snappy' });
    assert.equal(snappy.status, Status.UNIMPLEMENTED);
    assert.equal(snappy.headers['grpc-accept-encoding'], 'identity,gzip,deflate');

    const bomb = openCall(harness.session, '/test.Echo/Echo', { headers: { 'grpc-encoding': 'gzip' }, endAfter: false });
    bomb.stream.end(gzipFrame(new Uint8Array(1024 * 1024)));
    const bombResult = await bomb.result;
    assert.equal(bombResult.status, Status.RESOURCE_EXHAUSTED);
    assert.match(bombResult.statusMessage ?? '', /after decompression larger than max/);
  } finally {
    await harness.close();
  }
});

test('unary: metadata in, headers and trailers out', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Meta', {
      Get: unary(identity, rawEncoder, (_request, context) => {
        context.setHeader('x-served-by', 'keel');
        context.setTrailer('x-revision', '7');
        return text(`${context.metadataValue('token')}|${context.path}|${context.peer.startsWith('127.0.0.1:')}`);
      }),
    });
  });
  try {
    const result = await unaryCall(harness.session, '/test.Meta/Get', new Uint8Array(0), { token: 'secret' });
    assert.equal(fromText(result.messages[0]!), 'secret|/test.Meta/Get|true');
    assert.equal(result.headers['x-served-by'], 'keel');
    assert.equal(result.trailers['x-revision'], '7');
    assert.equal(result.status, Status.OK);
  } finally {
    await harness.close();
  }
});

test('unary: a client reset aborts the handler with CANCELLED and frees the call', limits, async () => {
  let started = false;
  let reason: unknown;
  const harness = await startServer((server) => {
    server.addService('test.Hang', {
      Hang: unary(identity, rawEncoder, (_request, context) => {
        started = true;
        return new Promise<Uint8Array>((_resolve, reject) => {
          context.signal.addEventListener('abort', () => {
            reason = context.signal.reason;
            reject(new Error('aborted'));
          });
        });
      }),
    });
  });
  try {
    const call = openCall(harness.session, '/test.Hang/Hang', { payloads: [text('x')] });
    call.result.catch(() => {});
    await waitFor(() => started, 'the handler to start');
    assert.equal(harness.server.activeCalls, 1);
    call.stream.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => reason !== undefined, 'the handler to be aborted');
    assert.ok(reason instanceof GrpcError);
    assert.equal(reason.status, Status.CANCELLED);
    await waitFor(() => harness.server.activeCalls === 0, 'the call to be released');
  } finally {
    await harness.close();
  }
});

test('unary: hundreds of concurrent calls share one connection', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Echo', { Echo: unary(identity, rawEncoder, async (request) => request) });
  });
  try {
    const results = await Promise.all(Array.from({ length: 300 }, (_, index) => unaryCall(harness.session, '/test.Echo/Echo', text(`call ${index}`))));
    results.forEach((result, index) => {
      assert.equal(result.status, Status.OK);
      assert.equal(fromText(result.messages[0]!), `call ${index}`);
    });
    assert.equal(harness.server.activeConnections, 1);
  } finally {
    await harness.close();
  }
});

test('unary: a message split into many small DATA frames is reassembled', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Echo', { Echo: unary(identity, rawEncoder, (request) => request) });
  });
  try {
    const payload = text('split across frames');
    const framed = frame(payload);
    const call = openCall(harness.session, '/test.Echo/Echo', { endAfter: false });
    for (let offset = 0; offset < framed.length; offset += 3) {
      call.stream.write(framed.subarray(offset, offset + 3));
      await new Promise((resolve) => setImmediate(resolve));
    }
    call.end();
    const result = await call.result;
    assert.equal(result.status, Status.OK);
    assert.equal(fromText(result.messages[0]!), 'split across frames');
  } finally {
    await harness.close();
  }
});

test('unary: connect() reaches a server that listens on 127.0.0.1 port 0', limits, async () => {
  const harness = await startServer(() => {});
  try {
    const second = await connect(harness.port);
    const result = await unaryCall(second, '/x.Y/Z', new Uint8Array(0));
    assert.equal(result.status, Status.UNIMPLEMENTED);
    second.destroy();
  } finally {
    await harness.close();
  }
});
