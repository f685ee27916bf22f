// Graceful shutdown: stop accepting, GOAWAY, let calls in flight finish, cancel what outlives the grace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { Buffer } from 'node:buffer';
import { bidirectionalStream, GrpcError, GrpcServer, Status, unary } from '../../../src/server/grpc/index.ts';
import type { ServerStreamCall } from '../../../src/server/grpc/index.ts';
import { connect, fromText, identity, limits, openCall, rawEncoder, text, unaryCall, waitFor } from './_client.ts';


function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('shutdown: a call in flight finishes, new streams and connections are refused, then close resolves', limits, async () => {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let started = false;
  const server = new GrpcServer();
  server.addService('test.Slow', {
    Slow: unary(identity, rawEncoder, async (request) => {
      started = true;
      await released;
      return request;
    }),
  });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const session = await connect(port);
  session.on('error', () => {});
  let goaway = false;
  session.on('goaway', () => (goaway = true));
  const inFlight = unaryCall(session, '/test.Slow/Slow', text('in flight'));
  await waitFor(() => started, 'the call to start');

  let closed = false;
  const closing = server.close({ graceMs: 10_000 }).then(() => (closed = true));
  await waitFor(() => goaway, 'the client to receive GOAWAY');
  assert.equal(await canConnect(port), false, 'the listener no longer accepts');
  assert.equal(closed, false, 'close waits for the call in flight');
  await assert.rejects(async () => unaryCall(session, '/test.Slow/Slow', text('too late')), /GOAWAY/, 'no new stream after GOAWAY');

  release();
  const result = await inFlight;
  assert.equal(result.status, Status.OK);
  assert.equal(fromText(result.messages[0]!), 'in flight');
  await closing;
  assert.equal(server.activeCalls, 0);
  assert.equal(server.activeConnections, 0);
  session.destroy();
});

test('shutdown: a stream that outlives the grace period is cancelled with UNAVAILABLE', limits, async () => {
  let reason: unknown;
  const server = new GrpcServer();
  server.addService('test.Forever', {
    Forever: bidirectionalStream(identity, rawEncoder, async (_requests, call: ServerStreamCall<Uint8Array>) => {
      await call.send(text('hello'));
      await new Promise((resolve) => call.signal.addEventListener('abort', resolve));
      reason = call.signal.reason;
    }),
  });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const session = await connect(port);
  session.on('error', () => {});
  const call = openCall(session, '/test.Forever/Forever', { endAfter: false });
  const outcome = call.result.then((result) => result, () => undefined);
  await waitFor(() => server.activeCalls === 1, 'the stream to start');
  await server.close({ graceMs: 100 });
  assert.ok(reason instanceof GrpcError);
  assert.equal(reason.status, Status.UNAVAILABLE);
  const result = await outcome;
  // The status may or may not beat the connection's close; either way the stream is over.
  if (result?.status !== undefined) assert.equal(result.status, Status.UNAVAILABLE);
  assert.equal(server.activeCalls, 0);
  assert.equal(server.activeConnections, 0);
  session.destroy();
});

test('shutdown: idle HTTP/1.1 keep-alive connections are closed at once', limits, async () => {
  const server = new GrpcServer({ onHttpRequest: (_request, response) => response.end('ok') });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const agent = new http.Agent({ keepAlive: true });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, 'ok');
    await waitFor(() => server.activeConnections === 1, 'the kept-alive connection');
    const started = Date.now();
    await server.close({ graceMs: 10_000 });
    assert.ok(Date.now() - started < 5_000, 'close did not wait for the grace period');
    assert.equal(server.activeConnections, 0);
  } finally {
    agent.destroy();
  }
});

test('shutdown: close is idempotent and a closed server cannot listen again', limits, async () => {
  const server = new GrpcServer();
  await server.listen({ host: '127.0.0.1', port: 0 });
  await Promise.all([server.close(), server.close()]);
  await server.close();
  await assert.rejects(server.listen({ host: '127.0.0.1', port: 0 }), /cannot listen/);
});
