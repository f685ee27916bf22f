// keel's HTTP/2 layer seen from a raw client that writes frames by hand: flow control, padding,
// CONTINUATION, the stream limit, PING, and the connection errors RFC 9113 asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Buffer } from 'node:buffer';
import { GrpcServer, http2Preface, unary } from '../../../../src/server/grpc/index.ts';
import type { GrpcServerOptions } from '../../../../src/server/grpc/index.ts';
import { ackFlag, ErrorCode, Flag, FrameType, Setting, frameHeaderBytes, writeFrameHeader } from '../../../../src/server/grpc/h2/frames.ts';
import { HpackDecoder, HpackEncoder } from '../../../../src/server/grpc/h2/hpack.ts';
import { frame as grpcFrame, identity, limits, rawEncoder, waitFor } from '../_client.ts';

interface Frame { readonly type: number; readonly flags: number; readonly streamId: number; readonly payload: Buffer }

function encodeFrame(type: FrameType, flags: number, streamId: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(frameHeaderBytes + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  out.set(payload, frameHeaderBytes);
  return out;
}

function settingsPayload(settings: readonly (readonly [Setting, number])[]): Buffer {
  const out = Buffer.alloc(6 * settings.length);
  settings.forEach(([id, value], index) => {
    out.writeUInt16BE(id, 6 * index);
    out.writeUInt32BE(value, 6 * index + 2);
  });
  return out;
}

function word(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** A client that speaks raw frames and records every frame the server sends. */
class RawClient {
  readonly frames: Frame[] = [];
  readonly decoder = new HpackDecoder();
  readonly encoder = new HpackEncoder();
  closed = false;
  #pending = Buffer.alloc(0);

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#pending = Buffer.concat([this.#pending, chunk]);
      while (this.#pending.length >= frameHeaderBytes) {
        const length = this.#pending.readUIntBE(0, 3);
        if (this.#pending.length < frameHeaderBytes + length) break;
        this.frames.push({
          type: this.#pending[3]!, flags: this.#pending[4]!, streamId: this.#pending.readUInt32BE(5) & 0x7fffffff,
          payload: Buffer.from(this.#pending.subarray(frameHeaderBytes, frameHeaderBytes + length)),
        });
        this.#pending = this.#pending.subarray(frameHeaderBytes + length);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  static async open(port: number, settings: readonly (readonly [Setting, number])[] = [], preface: Buffer = http2Preface): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawClient(socket);
    socket.write(Buffer.concat([preface, encodeFrame(FrameType.Settings, 0, 0, settingsPayload(settings))]));
    return client;
  }

  send(type: FrameType, flags: number, streamId: number, payload?: Uint8Array): void {
    this.socket.write(encodeFrame(type, flags, streamId, payload));
  }

  headerBlock(path: string): Uint8Array {
    return this.encoder.encode([[':method', 'POST'], [':scheme', 'http'], [':path', path], [':authority', 'keel'], ['content-type', 'application/grpc'], ['te', 'trailers']]);
  }

  /** HEADERS then one DATA frame with END_STREAM: a whole unary call. */
  call(streamId: number, path: string, message: Uint8Array): void {
    this.send(FrameType.Headers, Flag.EndHeaders, streamId, this.headerBlock(path));
    this.send(FrameType.Data, Flag.EndStream, streamId, grpcFrame(message));
  }

  on(streamId: number, type: FrameType): Frame[] {
    return this.frames.filter((frame) => frame.streamId === streamId && frame.type === type);
  }

  dataBytes(streamId: number): number {
    return this.on(streamId, FrameType.Data).reduce((sum, frame) => sum + frame.payload.length, 0);
  }

  /** The status trailer of a stream, once its trailers arrived (decoding every HEADERS block in order). */
  #decoded = new Map<Frame, [string, string][]>();
  headersOf(streamId: number): [string, string][][] {
    for (const frame of this.frames) {
      if (frame.type === FrameType.Headers && !this.#decoded.has(frame)) this.#decoded.set(frame, this.decoder.decode(frame.payload).map(([name, value]) => [name, value]));
    }
    return this.on(streamId, FrameType.Headers).map((frame) => this.#decoded.get(frame)!);
  }

  goAway(): { lastStreamId: number; code: number } | undefined {
    const frame = this.frames.find((candidate) => candidate.type === FrameType.GoAway);
    return frame === undefined ? undefined : { lastStreamId: frame.payload.readUInt32BE(0), code: frame.payload.readUInt32BE(4) };
  }

  close(): void {
    this.socket.destroy();
  }
}

async function echoServer(options: GrpcServerOptions = {}): Promise<{ server: GrpcServer; port: number }> {
  const server = new GrpcServer(options);
  server.addService('test.Echo', { Echo: unary(identity, rawEncoder, (request) => request) });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port };
}

test('h2: a response larger than the client\'s stream window waits for WINDOW_UPDATE', limits, async () => {
  const { server, port } = await echoServer();
  const client = await RawClient.open(port, [[Setting.InitialWindowSize, 100]]);
  try {
    client.call(1, '/test.Echo/Echo', Buffer.alloc(1000, 7));
    await waitFor(() => client.dataBytes(1) === 100, 'the first 100 bytes (the window)');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(client.dataBytes(1), 100, 'nothing beyond the window');
    assert.equal(client.headersOf(1).length, 1, 'no trailers while data is held back');
    client.send(FrameType.WindowUpdate, 0, 1, word(2000));
    await waitFor(() => client.headersOf(1).length === 2, 'the trailers');
    assert.equal(client.dataBytes(1), 1005, 'the whole message (5-byte gRPC prefix and 1000 bytes)');
    assert.deepEqual(client.headersOf(1)[1], [['grpc-status', '0']]);
  } finally {
    client.close();
    await server.close({ graceMs: 100 });
  }
});

test('h2: padded DATA and a header block split over CONTINUATION frames are understood', limits, async () => {
  const { server, port } = await echoServer();
  const client = await RawClient.open(port);
  try {
    const block = client.headerBlock('/test.Echo/Echo');
    const cut = Math.floor(block.length / 2);
    client.send(FrameType.Headers, 0, 1, block.subarray(0, cut));
    client.send(FrameType.Continuation, Flag.EndHeaders, 1, block.subarray(cut));
    const message = grpcFrame(Buffer.from('padded'));
    const padding = 10;
    client.send(FrameType.Data, Flag.Padded | Flag.EndStream, 1, Buffer.concat([Buffer.from([padding]), message, Buffer.alloc(padding)]));
    await waitFor(() => client.headersOf(1).length === 2, 'the response');
    const data = Buffer.concat(client.on(1, FrameType.Data).map((frame) => frame.payload));
    assert.equal(data.subarray(5).toString(), 'padded');
    assert.deepEqual(client.headersOf(1)[1], [['grpc-status', '0']]);
  } finally {
    client.close();
    await server.close({ graceMs: 100 });
  }
});

test('h2: streams beyond SETTINGS_MAX_CONCURRENT_STREAMS are refused, the connection carries on', limits, async () => {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = new GrpcServer({ concurrentStreamsMax: 1 });
  server.addService('test.Slow', { Slow: unary(identity, rawEncoder, async (request) => { await released; return request; }) });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const client = await RawClient.open(port);
  try {
    client.call(1, '/test.Slow/Slow', Buffer.from('first'));
    client.call(3, '/test.Slow/Slow', Buffer.from('second'));
    await waitFor(() => client.on(3, FrameType.RstStream).length === 1, 'the second stream to be refused');
    assert.equal(client.on(3, FrameType.RstStream)[0]!.payload.readUInt32BE(0), ErrorCode.RefusedStream);
    release();
    await waitFor(() => client.headersOf(1).length === 2, 'the first call to finish');
    assert.deepEqual(client.headersOf(1)[1], [['grpc-status', '0']]);
    client.call(5, '/test.Slow/Slow', Buffer.from('third'));
    await waitFor(() => client.headersOf(5).length === 2, 'a later stream to be served');
  } finally {
    client.close();
    await server.close({ graceMs: 100 });
  }
});

test('h2: PING is answered with the same payload', limits, async () => {
  const { server, port } = await echoServer();
  const client = await RawClient.open(port);
  try {
    const payload = Buffer.from('keel-png');
    client.send(FrameType.Ping, 0, 0, payload);
    await waitFor(() => client.frames.some((frame) => frame.type === FrameType.Ping && (frame.flags & ackFlag) !== 0), 'the PING ack');
    const ack = client.frames.find((frame) => frame.type === FrameType.Ping)!;
    assert.deepEqual(ack.payload, payload);
  } finally {
    client.close();
    await server.close({ graceMs: 100 });
  }
});

test('h2: a header list over the limit refuses that stream only', limits, async () => {
  const { server, port } = await echoServer({ headerListBytesMax: 1024 });
  const client = await RawClient.open(port);
  try {
    const big = client.encoder.encode([[':method', 'POST'], [':scheme', 'http'], [':path', '/test.Echo/Echo'], ['content-type', 'application/grpc'], ['x-big', 'x'.repeat(2000)]]);
    client.send(FrameType.Headers, Flag.EndHeaders, 1, big);
    await waitFor(() => client.on(1, FrameType.RstStream).length === 1, 'the refusal');
    assert.equal(client.on(1, FrameType.RstStream)[0]!.payload.readUInt32BE(0), ErrorCode.RefusedStream);
    client.call(3, '/test.Echo/Echo', Buffer.from('after'));
    await waitFor(() => client.headersOf(3).length === 2, 'the next call');
    assert.deepEqual(client.headersOf(3)[1], [['grpc-status', '0']]);
  } finally {
    client.close();
    await server.close({ graceMs: 100 });
  }
});

test('h2: protocol violations end the connection with GOAWAY and the RFC\'s error code', limits, async () => {
  const { server, port } = await echoServer();
  const cases: { name: string; act: (client: RawClient) => void; code: ErrorCode }[] = [
    { name: 'DATA on stream 0', act: (client) => client.send(FrameType.Data, 0, 0, Buffer.from('x')), code: ErrorCode.ProtocolError },
    { name: 'a frame over SETTINGS_MAX_FRAME_SIZE', act: (client) => client.send(FrameType.Data, 0, 1, Buffer.alloc(20_000)), code: ErrorCode.FrameSizeError },
    { name: 'a client-initiated even stream', act: (client) => client.send(FrameType.Headers, Flag.EndHeaders, 2, client.headerBlock('/test.Echo/Echo')), code: ErrorCode.ProtocolError },
    { name: 'a bad HPACK block', act: (client) => client.send(FrameType.Headers, Flag.EndHeaders, 1, Buffer.from([0x80])), code: ErrorCode.CompressionError },
    { name: 'a WINDOW_UPDATE of 0 on the connection', act: (client) => client.send(FrameType.WindowUpdate, 0, 0, word(0)), code: ErrorCode.ProtocolError },
    { name: 'PUSH_PROMISE from a client', act: (client) => client.send(FrameType.PushPromise, Flag.EndHeaders, 1, word(2)), code: ErrorCode.ProtocolError },
  ];
  try {
    for (const { name, act, code } of cases) {
      const client = await RawClient.open(port);
      act(client);
      await waitFor(() => client.goAway() !== undefined && client.closed, `GOAWAY and close after ${name}`);
      assert.equal(client.goAway()!.code, code, name);
    }
    const badPreface = await RawClient.open(port, [], Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'));
    await waitFor(() => badPreface.closed, 'a bad preface to be dropped');
  } finally {
    await server.close({ graceMs: 100 });
  }
});

test('h2: a client that opens and resets streams in a loop (rapid reset) is cut off', limits, async () => {
  let started = 0;
  const server = new GrpcServer();
  server.addService('test.Slow', { Slow: unary(identity, rawEncoder, async (request, call) => {
    started++;
    await new Promise((resolve) => call.signal.addEventListener('abort', resolve));
    return request;
  }) });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const client = await RawClient.open(port);
  try {
    // Well-behaved use first: a few resets are normal (cancelled calls).
    for (let id = 1; id <= 19; id += 2) {
      client.call(id, '/test.Slow/Slow', Buffer.from('x'));
      client.send(FrameType.RstStream, 0, id, word(ErrorCode.Cancel));
    }
    await waitFor(() => started === 10, 'ten calls started');
    assert.equal(client.goAway(), undefined, 'ten resets are fine');
    for (let id = 21; id < 21 + 2 * 1200; id += 2) {
      client.call(id, '/test.Slow/Slow', Buffer.from('x'));
      client.send(FrameType.RstStream, 0, id, word(ErrorCode.Cancel));
    }
    await waitFor(() => client.goAway() !== undefined, 'GOAWAY');
    assert.equal(client.goAway()!.code, ErrorCode.EnhanceYourCalm);
    assert.ok(started < 1100, `handlers started are bounded by the reset budget (${started})`);
  } finally {
    client.close();
    await server.close({ graceMs: 100 });
  }
});
