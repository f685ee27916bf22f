// gRPC, HTTP/2 without gRPC, and HTTP/1.1 on one port; the protocol sniffer; the health service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { ClientHttp2Session } from 'node:http2';
import { Buffer } from 'node:buffer';
import { classifyPrefix, GrpcServer, HealthChecker, http2Preface, Status, unary } from '../../../src/server/grpc/index.ts';
import { sniffProtocol } from '../../../src/server/grpc/sniff.ts';
import { decodeHealthCheckResponse, encodeHealthCheckRequest, HealthCheckResponseServingStatus, HealthService } from '../../../src/server/proto/index.ts';
import { connect, deframe, fromText, identity, limits, openCall, rawEncoder, startServer, text, unaryCall, waitFor } from './_client.ts';



function httpGet(port: number, path: string, agent?: http.Agent): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    }).on('error', reject);
  });
}

function http2Get(session: ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':method': 'GET' });
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
  });
}

const onHttpRequest = (request: { url?: string; httpVersion: string }, response: { writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown }): void => {
  if (request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(`{"health":"true","via":"HTTP/${request.httpVersion}"}`);
  } else {
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found');
  }
};

test('one port: HTTP/1.1, cleartext HTTP/2 and gRPC are all served', limits, async () => {
  const harness = await startServer((server) => {
    server.addService('test.Echo', { Echo: unary(identity, rawEncoder, (request) => request) });
  }, { onHttpRequest });
  try {
    const [grpcResult, http1, http1Missing, h2c] = await Promise.all([
      unaryCall(harness.session, '/test.Echo/Echo', text('grpc')),
      httpGet(harness.port, '/health'),
      httpGet(harness.port, '/nope'),
      http2Get(harness.session, '/health'),
    ]);
    assert.equal(grpcResult.status, Status.OK);
    assert.equal(fromText(grpcResult.messages[0]!), 'grpc');
    assert.equal(http1.status, 200);
    assert.equal(http1.body, '{"health":"true","via":"HTTP/1.1"}');
    assert.equal(http1Missing.status, 404);
    assert.equal(h2c.status, 200);
    assert.equal(h2c.body, '{"health":"true","via":"HTTP/2.0"}');
    // gRPC still works on the session after a plain HTTP/2 request.
    assert.equal((await unaryCall(harness.session, '/test.Echo/Echo', text('again'))).status, Status.OK);
  } finally {
    await harness.close();
  }
});

test('one port: without an HTTP hook, plain requests get 404 and gRPC is unaffected', limits, async () => {
  const harness = await startServer(() => {});
  try {
    assert.equal((await httpGet(harness.port, '/metrics')).status, 404);
    assert.equal((await http2Get(harness.session, '/metrics')).status, 404);
    assert.equal((await unaryCall(harness.session, '/x.Y/Z', new Uint8Array(0))).status, Status.UNIMPLEMENTED);
  } finally {
    await harness.close();
  }
});

test('one port: a throwing HTTP hook answers 500 and is reported', limits, async () => {
  const reported: unknown[] = [];
  const harness = await startServer(() => {}, {
    onHttpRequest: () => {
      throw new Error('hook failed');
    },
    onError: (error) => reported.push(error),
  });
  try {
    assert.equal((await httpGet(harness.port, '/x')).status, 500);
    assert.equal(reported.length, 1);
  } finally {
    await harness.close();
  }
});

test('sniffing: the HTTP/2 preface is recognised from any prefix, anything else is HTTP/1', limits, () => {
  assert.equal(classifyPrefix(Buffer.from('GET / HTTP/1.1\r\n')), 'http1');
  assert.equal(classifyPrefix(Buffer.from('P')), undefined);
  assert.equal(classifyPrefix(Buffer.from('POST / HTTP/1.1')), 'http1');
  assert.equal(classifyPrefix(Buffer.from('PRI * HTTP/2.0\r\n')), undefined);
  assert.equal(classifyPrefix(http2Preface), 'http2');
  assert.equal(classifyPrefix(Buffer.concat([http2Preface, Buffer.from([0, 0, 0, 4])])), 'http2');
  assert.equal(classifyPrefix(new Uint8Array(0)), undefined);
});

test('sniffing: bytes that trickle in are gathered, routed and put back intact', limits, async () => {
  const routed: { protocol: string; bytes: Buffer }[] = [];
  const server = net.createServer((socket) => {
    sniffProtocol(socket, 5_000, (protocol) => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => routed.push({ protocol, bytes: Buffer.concat(chunks) }));
      socket.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const send = async (pieces: Buffer[]): Promise<void> => {
    const client = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    for (const piece of pieces) {
      client.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    client.end();
  };
  try {
    const frameBytes = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    await send([http2Preface.subarray(0, 3), http2Preface.subarray(3, 20), Buffer.concat([http2Preface.subarray(20), frameBytes])]);
    await send([Buffer.from('PU'), Buffer.from('T /x HTTP/1.1\r\n\r\n')]);
    await waitFor(() => routed.length === 2, 'both connections to be routed');
    const byProtocol = new Map(routed.map((entry) => [entry.protocol, entry.bytes]));
    assert.deepEqual(byProtocol.get('http2'), Buffer.concat([http2Preface, frameBytes]));
    assert.equal(byProtocol.get('http1')?.toString(), 'PUT /x HTTP/1.1\r\n\r\n');
  } finally {
    server.close();
  }
});

test('sniffing: a connection that stays silent is dropped after the sniff timeout', limits, async () => {
  const server = new GrpcServer({ protocolSniffTimeoutMs: 50 });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  try {
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => {});
    let clientClosed = false;
    client.once('close', () => (clientClosed = true));
    await new Promise((resolve) => client.once('connect', resolve));
    await waitFor(() => server.activeConnections === 1, 'the connection to be accepted');
    await waitFor(() => clientClosed, 'the server to drop the silent connection');
    await waitFor(() => server.activeConnections === 0, 'the server to forget the connection');
  } finally {
    await server.close({ graceMs: 100 });
  }
});

test('health: Check answers per service and NOT_FOUND for unknown ones; Watch streams changes', limits, async () => {
  const health = new HealthChecker();
  const harness = await startServer((server) => {
    server.addService(HealthService, health.implementation);
  });
  try {
    const overall = await unaryCall(harness.session, '/grpc.health.v1.Health/Check', encodeHealthCheckRequest({}));
    assert.equal(overall.status, Status.OK);
    assert.equal(decodeHealthCheckResponse(overall.messages[0]!).status, HealthCheckResponseServingStatus.SERVING);
    const unknown = await unaryCall(harness.session, '/grpc.health.v1.Health/Check', encodeHealthCheckRequest({ service: 'etcdserverpb.KV' }));
    assert.equal(unknown.status, Status.NOT_FOUND);

    const watch = openCall(harness.session, '/grpc.health.v1.Health/Watch', { payloads: [encodeHealthCheckRequest({ service: 'etcdserverpb.KV' })] });
    const chunks: Buffer[] = [];
    watch.stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const statuses = (): number[] => deframe(Buffer.concat(chunks)).map((bytes) => decodeHealthCheckResponse(bytes).status);
    await waitFor(() => statuses().length === 1, 'the first status');
    health.setStatus('etcdserverpb.KV', HealthCheckResponseServingStatus.SERVING);
    await waitFor(() => statuses().length === 2, 'the change');
    health.setStatus('etcdserverpb.KV', HealthCheckResponseServingStatus.SERVING);
    health.shutdown();
    await waitFor(() => statuses().length === 3, 'the shutdown');
    assert.deepEqual(statuses(), [HealthCheckResponseServingStatus.SERVICE_UNKNOWN, HealthCheckResponseServingStatus.SERVING, HealthCheckResponseServingStatus.NOT_SERVING]);
    const known = await unaryCall(harness.session, '/grpc.health.v1.Health/Check', encodeHealthCheckRequest({ service: 'etcdserverpb.KV' }));
    assert.equal(decodeHealthCheckResponse(known.messages[0]!).status, HealthCheckResponseServingStatus.NOT_SERVING);
    watch.stream.close();
    await waitFor(() => harness.server.activeCalls === 0, 'the watch to end');
  } finally {
    await harness.close();
  }
});

test('http2: settings suit many concurrent streams and large messages', limits, async () => {
  const harness = await startServer(() => {}, { concurrentStreamsMax: 2048, streamWindowBytes: 2 * 1024 * 1024, connectionWindowBytes: 16 * 1024 * 1024 });
  try {
    await waitFor(() => harness.session.remoteSettings.maxConcurrentStreams === 2048, 'the server SETTINGS');
    assert.equal(harness.session.remoteSettings.initialWindowSize, 2 * 1024 * 1024);
    assert.equal(harness.session.remoteSettings.enablePush, false);
    await waitFor(() => harness.session.state.remoteWindowSize === 16 * 1024 * 1024, 'the connection window update');
  } finally {
    await harness.close();
  }
});

test('keepalive: a client that answers pings stays connected; one that does not is dropped', limits, async () => {
  const server = new GrpcServer({ keepaliveIntervalMs: 40, keepaliveTimeoutMs: 30 });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  try {
    const session = await connect(port);
    let pings = 0;
    session.on('ping', () => pings++);
    await waitFor(() => pings >= 3, 'a few server pings');
    assert.equal(session.closed || session.destroyed, false, 'an answering client is kept');
    session.destroy();

    // A raw peer that sends the preface and SETTINGS but never acknowledges anything.
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => {});
    silent.on('data', () => {});
    let silentClosed = false;
    silent.once('close', () => (silentClosed = true));
    silent.write(Buffer.concat([http2Preface, Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    await waitFor(() => silentClosed, 'the silent peer to be dropped');
  } finally {
    await server.close({ graceMs: 100 });
  }
});
