// Streaming calls: server streams with backpressure, client streams with a bounded request queue,
// bidirectional streams, and cancellation of streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { Buffer } from 'node:buffer';
import { bidirectionalStream, clientStream, GrpcError, serverStream, Status } from '../../../src/server/grpc/index.ts';
import type { RequestStream, ServerStreamCall } from '../../../src/server/grpc/index.ts';
import { decodeWatchResponse, encodeWatchRequest, WatchService } from '../../../src/server/proto/index.ts';
import { connect, deframe, fromText, identity, limits, openCall, rawEncoder, startServer, text, waitFor } from './_client.ts';



test('server stream: every message arrives in order, then an OK trailer', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Count', {
      Count: serverStream(identity, rawEncoder, async (request, call) => {
        const count = Number(fromText(request));
        for (let index = 0; index < count; index++) await call.send(text(`message ${index}`));
      }),
    });
  });
  try {
    const result = await openCall(harness.session, '/test.Count/Count', { payloads: [text('500')] }).result;
    assert.equal(result.status, Status.OK);
    assert.equal(result.trailersOnly, false);
    assert.equal(result.messages.length, 500);
    result.messages.forEach((message, index) => assert.equal(fromText(message), `message ${index}`));
  } finally {
    await harness.close();
  }
});

test('server stream: a slow reader blocks the writer instead of growing the server\'s buffer', limits, async () => {
  const messageBytes = 8 * 1024;
  const total = 400; // 3.2 MiB, far more than the client's 64 KiB window
  let written = 0;
  let blocked = false;
  let bufferedBytesMax = 0;
  let finished = false;
  const harness = await startServer((server) => {
    server.addService('test.Flood', {
      Flood: serverStream(identity, rawEncoder, async (_request, call) => {
        for (let index = 0; index < total; index++) {
          const more = call.write(new Uint8Array(messageBytes).fill(index & 0xff));
          written++;
          bufferedBytesMax = Math.max(bufferedBytesMax, call.bufferedBytes);
          if (!more) {
            blocked = true;
            await call.drained();
            blocked = false;
          }
        }
        finished = true;
      }),
    });
  }, { responseBufferBytesMax: 256 * 1024 });
  try {
    const call = openCall(harness.session, '/test.Flood/Flood', { payloads: [new Uint8Array(0)] });
    call.stream.pause();
    await waitFor(() => blocked, 'the writer to block');
    // Nothing is read for a while: the writer must stay blocked once the client's flow-control window and
    // its stream buffer are full, not keep queueing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(blocked, true, 'still waiting for drained()');
    assert.ok(written * messageBytes < 1024 * 1024, `only about a flow-control window went out (${written} of ${total} messages)`);
    assert.ok(bufferedBytesMax <= 256 * 1024, `the server's buffer stayed bounded (${bufferedBytesMax} bytes)`);
    call.stream.resume();
    const result = await call.result;
    assert.equal(result.status, Status.OK);
    assert.equal(result.messages.length, total);
    assert.equal(result.messages[total - 1]![0], (total - 1) & 0xff);
    assert.equal(finished, true);
  } finally {
    await harness.close();
  }
});

test('server stream: writing on without waiting is refused once the buffer bound is reached', limits, async () => {
  let refusal: unknown;
  let accepted = 0;
  const harness = await startServer((server) => {
    server.addService('test.Greedy', {
      Greedy: serverStream(identity, rawEncoder, (_request, call) => {
        try {
          for (let index = 0; index < 10_000; index++) {
            call.write(new Uint8Array(16 * 1024));
            accepted++;
          }
        } catch (error) {
          refusal = error;
          throw error;
        }
      }),
    });
  }, { responseBufferBytesMax: 128 * 1024 });
  try {
    const result = await openCall(harness.session, '/test.Greedy/Greedy', { payloads: [new Uint8Array(0)] }).result;
    assert.ok(refusal instanceof GrpcError);
    assert.equal(refusal.status, Status.RESOURCE_EXHAUSTED);
    assert.ok(accepted * 16 * 1024 <= 128 * 1024 + 16 * 1024, `at most the bound was queued (${accepted} messages)`);
    assert.equal(result.status, Status.RESOURCE_EXHAUSTED);
    assert.match(result.statusMessage ?? '', /response buffer full/);
  } finally {
    await harness.close();
  }
});

test('server stream: an error after some messages arrives in the trailers', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Partial', {
      Partial: serverStream(identity, rawEncoder, async (_request, call) => {
        await call.send(text('first'));
        throw new GrpcError(Status.DATA_LOSS, 'snapshot truncated', { trailers: { 'x-offset': '1' } });
      }),
    });
  });
  try {
    const result = await openCall(harness.session, '/test.Partial/Partial', { payloads: [new Uint8Array(0)] }).result;
    assert.equal(result.trailersOnly, false);
    assert.equal(result.messages.length, 1);
    assert.equal(result.status, Status.DATA_LOSS);
    assert.equal(result.statusMessage, 'snapshot truncated');
    assert.equal(result.trailers['x-offset'], '1');
  } finally {
    await harness.close();
  }
});

test('client stream: requests are summed after the client half-closes', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Sum', {
      Sum: clientStream(identity, rawEncoder, async (requests: RequestStream<Uint8Array>) => {
        let sum = 0;
        for await (const request of requests) sum += Number(fromText(request));
        return text(String(sum));
      }),
    });
  });
  try {
    const payloads = Array.from({ length: 100 }, (_, index) => text(String(index)));
    const result = await openCall(harness.session, '/test.Sum/Sum', { payloads }).result;
    assert.equal(result.status, Status.OK);
    assert.equal(fromText(result.messages[0]!), String((99 * 100) / 2));
  } finally {
    await harness.close();
  }
});

test('client stream: a handler that does not read holds at most the queue bound, then catches up', limits, async () => {
  const queueMax = 8;
  let requests: RequestStream<Uint8Array> | undefined;
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let queuedMax = 0;
  const harness = await startServer((server) => {
    server.addService('test.Lazy', {
      Lazy: clientStream(identity, rawEncoder, async (stream: RequestStream<Uint8Array>) => {
        requests = stream;
        await released;
        let count = 0;
        for await (const _request of stream) {
          queuedMax = Math.max(queuedMax, stream.queued);
          count++;
        }
        return text(String(count));
      }),
    });
  }, { requestQueueMessagesMax: queueMax, streamWindowBytes: 256 * 1024 });
  try {
    const call = openCall(harness.session, '/test.Lazy/Lazy', { endAfter: false });
    const total = 2000;
    let sent = 0;
    const sender = (async () => {
      while (sent < total) {
        if (!call.send(new Uint8Array(1024).fill(sent & 0xff))) await new Promise((resolve) => call.stream.once('drain', resolve));
        sent++;
      }
      call.end();
    })();
    await waitFor(() => requests !== undefined && requests.paused, 'the request queue to fill and pause the stream');
    assert.equal(requests!.queued, queueMax, 'the queue holds exactly its bound');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(requests!.queued, queueMax, 'and no more while the handler is not reading');
    // The paused stream stops consuming, so the 256 KiB stream window (plus a few stream buffers) caps
    // what the client can get out; without the pause it would send all 2 MB.
    assert.ok(sent * 1024 < 512 * 1024, `the client was held back by flow control (${sent} of ${total} sent)`);
    release();
    await sender;
    const result = await call.result;
    assert.equal(result.status, Status.OK);
    assert.equal(fromText(result.messages[0]!), String(total));
    assert.ok(queuedMax <= queueMax);
  } finally {
    await harness.close();
  }
});

test('bidirectional: each request is answered before the next is sent (a real Watch stream)', limits, async () => {
  const harness = await startServer((server) => {
    server.addService(WatchService, {
      Watch: async (requests, call) => {
        let nextId = 1;
        for await (const request of requests) {
          if (request.requestUnion?.case === 'createRequest') {
            await call.send({ watchId: nextId++, created: true, header: { revision: request.requestUnion.value.startRevision } });
          } else if (request.requestUnion?.case === 'cancelRequest') {
            await call.send({ watchId: request.requestUnion.value.watchId, canceled: true, cancelReason: 'client asked' });
          }
        }
      },
    });
  });
  try {
    const call = openCall(harness.session, '/etcdserverpb.Watch/Watch', { endAfter: false });
    const responses: Buffer[] = [];
    call.stream.on('data', (chunk: Buffer) => responses.push(chunk));
    const received = (): number => deframe(Buffer.concat(responses)).length;
    for (let round = 1; round <= 5; round++) {
      call.send(encodeWatchRequest({ requestUnion: { case: 'createRequest', value: { key: text(`k${round}`), startRevision: round * 10 } } }));
      await waitFor(() => received() === round, `response ${round}`);
    }
    call.send(encodeWatchRequest({ requestUnion: { case: 'cancelRequest', value: { watchId: 3 } } }));
    await waitFor(() => received() === 6, 'the cancel response');
    call.end();
    const result = await call.result;
    assert.equal(result.status, Status.OK);
    const decoded = deframe(Buffer.concat(responses)).map((bytes) => decodeWatchResponse(bytes));
    assert.deepEqual(decoded.slice(0, 5).map((response) => [response.watchId, response.created, response.header?.revision]), [[1, true, 10], [2, true, 20], [3, true, 30], [4, true, 40], [5, true, 50]]);
    assert.equal(decoded[5]!.canceled, true);
    assert.equal(decoded[5]!.cancelReason, 'client asked');
  } finally {
    await harness.close();
  }
});

test('bidirectional: a client reset aborts the handler\'s signal with CANCELLED', limits, async () => {
  let signalReason: unknown;
  let received = 0;
  const harness = await startServer((server) => {
    server.addService('test.Chat', {
      Chat: bidirectionalStream(identity, rawEncoder, async (requests: RequestStream<Uint8Array>, call: ServerStreamCall<Uint8Array>) => {
        for await (const request of requests) {
          received++;
          await call.send(request);
        }
        // Like a Watch, keep serving after the client half-closes, until the call is cancelled.
        await new Promise((resolve) => call.signal.addEventListener('abort', resolve));
        signalReason = call.signal.reason;
      }),
    });
  });
  try {
    const call = openCall(harness.session, '/test.Chat/Chat', { endAfter: false });
    call.result.catch(() => {});
    call.send(text('hello'));
    await waitFor(() => received === 1, 'the first message');
    // Node's client half-closes, then sends RST_STREAM(CANCEL).
    call.stream.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => signalReason !== undefined, 'the signal to abort');
    assert.ok(signalReason instanceof GrpcError);
    assert.equal(signalReason.status, Status.CANCELLED);
    await waitFor(() => harness.server.activeCalls === 0, 'the call to be released');
  } finally {
    await harness.close();
  }
});

test('bidirectional: a dropped connection ends iteration with CANCELLED', limits, async () => {
  let iterationError: unknown;
  let received = 0;
  const harness = await startServer((server) => {
    server.addService('test.Chat', {
      Chat: bidirectionalStream(identity, rawEncoder, async (requests: RequestStream<Uint8Array>, call: ServerStreamCall<Uint8Array>) => {
        try {
          for await (const request of requests) {
            received++;
            await call.send(request);
          }
        } catch (error) {
          iterationError = error;
        }
      }),
    });
  });
  try {
    const session = await connect(harness.port);
    session.on('error', () => {});
    const call = openCall(session, '/test.Chat/Chat', { endAfter: false });
    call.result.catch(() => {});
    call.send(text('hello'));
    await waitFor(() => received === 1, 'the first message');
    session.destroy();
    await waitFor(() => iterationError !== undefined, 'iteration to fail');
    assert.ok(iterationError instanceof GrpcError);
    assert.equal(iterationError.status, Status.CANCELLED);
    await waitFor(() => harness.server.activeCalls === 0, 'the call to be released');
  } finally {
    await harness.close();
  }
});

test('bidirectional: the handler may finish while the client is still sending', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.First', {
      First: bidirectionalStream(identity, rawEncoder, async (requests: RequestStream<Uint8Array>, call: ServerStreamCall<Uint8Array>) => {
        for await (const request of requests) {
          await call.send(request);
          return;
        }
      }),
    });
  }, { requestQueueMessagesMax: 2 });
  try {
    const call = openCall(harness.session, '/test.First/First', { endAfter: false });
    for (let index = 0; index < 50; index++) call.send(text(`m${index}`));
    const result = await call.result;
    assert.equal(result.status, Status.OK);
    assert.deepEqual(result.messages.map(fromText), ['m0']);
    await waitFor(() => harness.server.activeCalls === 0, 'the call to be released');
  } finally {
    await harness.close();
  }
});

test('bidirectional: a write after the client went away throws the cancellation', limits, async () => {
  let writeError: unknown;
  let gone: () => void = () => {};
  const clientGone = new Promise<void>((resolve) => (gone = resolve));
  const harness = await startServer((server) => {
    server.addService('test.Late', {
      Late: bidirectionalStream(identity, rawEncoder, async (_requests, call: ServerStreamCall<Uint8Array>) => {
        call.signal.addEventListener('abort', () => gone());
        await clientGone;
        try {
          call.write(text('too late'));
        } catch (error) {
          writeError = error;
        }
      }),
    });
  });
  try {
    const call = openCall(harness.session, '/test.Late/Late', { endAfter: false });
    call.result.catch(() => {});
    call.send(text('x'));
    await waitFor(() => harness.server.activeCalls === 1, 'the call to start');
    call.stream.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => writeError !== undefined, 'the late write');
    assert.ok(writeError instanceof GrpcError);
    assert.equal(writeError.status, Status.CANCELLED);
  } finally {
    await harness.close();
  }
});
