/**
 * The server side of one HTTP/2 connection (RFC 9113), in JavaScript over a `net.Socket`, shaped for gRPC.
 *
 * Why not node:http2: per call it allocates about 12 KB and C++-backed stream objects that outlive at least
 * one scavenge, and builds, validates and encodes the same response headers on every call; under load that
 * was a third of a member's CPU and most of its GC (docs/architecture.md, "The HTTP/2 layer"). Here a
 * stream is one small object, constant header blocks are encoded once, and everything a turn of the event
 * loop writes leaves in one socket write.
 *
 * What it implements: the preface and SETTINGS exchange; HEADERS/CONTINUATION with HPACK (h2/hpack.ts);
 * DATA with padding; flow control both ways (a receive window credited as the consumer takes the data, so
 * a paused stream stops its client; send windows from the peer's SETTINGS and WINDOW_UPDATEs, with data
 * queued per stream until the window opens); PING (answered; sent for keepalive); RST_STREAM; GOAWAY both
 * ways for graceful shutdown; the concurrent-stream limit (REFUSED_STREAM beyond it). PRIORITY is read and
 * ignored, as RFC 9113 allows; the server never pushes.
 *
 * Limits: frames up to our SETTINGS_MAX_FRAME_SIZE, header blocks up to the header-list limit (plus
 * HPACK's overhead), streams up to SETTINGS_MAX_CONCURRENT_STREAMS, receive windows as advertised; a peer
 * that exceeds one gets the RFC's error. Output waiting for the socket is bounded: past
 * `outputBytesMax` the connection is closed with ENHANCE_YOUR_CALM.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { assert } from '../_assert.ts';
import { http2Preface } from '../sniff.ts';
import {
  ackFlag, ErrorCode, Flag, FrameType, Setting, frameBytesCeiling, frameBytesDefault, frameHeaderBytes, goAwayFrame, headersFrames, pingFrame,
  rstStreamFrame, settingsAckFrame, settingsFrame, windowBytesDefault, windowBytesMax, windowUpdateFrame, writeFrameHeader,
} from './frames.ts';
import { HeaderListTooLargeError, HpackDecoder, HpackEncoder, HpackError } from './hpack.ts';
import type { HeaderPair } from './hpack.ts';

export interface H2ConnectionOptions {
  readonly concurrentStreamsMax: number;
  /** Our SETTINGS_INITIAL_WINDOW_SIZE: how much a client may send on one stream before we credit it. */
  readonly streamWindowBytes: number;
  /** How much a client may send on the whole connection before we credit it. */
  readonly connectionWindowBytes: number;
  readonly headerListBytesMax: number;
  /** Bytes the connection may hold for a socket that does not drain before it gives up on the peer. */
  readonly outputBytesMax: number;
  /** A new stream (request headers decoded and checked). */
  readonly onStream: (stream: H2Stream, headers: RequestHeaders) => void;
  /** A connection-level failure worth reporting (not a peer simply going away). */
  readonly onError: (error: Error) => void;
}

/** Request headers as node's `IncomingHttpHeaders`: repeated names become arrays (cookies are joined). */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/** What a stream tells its consumer (the gRPC call, or nobody: a stream without one drops its input). */
export interface StreamConsumer {
  /** Request body bytes (a view valid only during the call). */
  onData(chunk: Uint8Array): void;
  /** The client half-closed (END_STREAM). */
  onEnd(): void;
  /** The stream is gone: both sides ended, or it was reset, or the connection died. Called once. */
  onClose(): void;
  /** Output queued on the stream fell back to zero after `write` returned false. */
  onDrain(): void;
}

const noConsumer: StreamConsumer = { onData: () => {}, onEnd: () => {}, onClose: () => {}, onDrain: () => {} };

type Segment = { readonly kind: 'data'; bytes: Uint8Array; readonly endStream: boolean } | { readonly kind: 'trailers'; readonly block: Uint8Array };

class ConnectionError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

class StreamError extends Error {
  constructor(readonly streamId: number, readonly code: ErrorCode, message: string) {
    super(message);
  }
}

/** Queued output past which `H2Stream.write` asks the writer to wait for onDrain (node's streams use 16 KiB). */
const writableHighWaterBytes = 64 * 1024;

/** Encoded header blocks for header sets that repeat (the gRPC response headers, `grpc-status: 0`). */
const encodedBlocks = new WeakMap<object, Uint8Array>();
const encoder = new HpackEncoder();

/**
 * Encodes a header set given as an object (values stringified, arrays repeated). A frozen object is
 * encoded once and the bytes reused: callers keep their constant header sets frozen.
 */
export function encodeHeaderObject(headers: Readonly<Record<string, unknown>>): Uint8Array {
  const cached = encodedBlocks.get(headers);
  if (cached !== undefined) return cached;
  const pairs: HeaderPair[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(value)) for (const item of value) pairs.push([lower, String(item)]);
    else pairs.push([lower, String(value)]);
  }
  // Pseudo-headers first (RFC 9113 §8.3).
  pairs.sort((a, b) => Number(b[0].startsWith(':')) - Number(a[0].startsWith(':')));
  const block = encoder.encode(pairs);
  if (Object.isFrozen(headers)) encodedBlocks.set(headers, block);
  return block;
}

/** One request/response exchange. The consumer drives it with respond/write/end/reset. */
export class H2Stream {
  readonly id: number;
  consumer: StreamConsumer = noConsumer;
  /** The client's END_STREAM arrived. */
  readableEnded = false;
  /** Our END_STREAM has been queued (by `end` or a trailers-only response). */
  writableEnded = false;
  /** Gone: closed normally, reset by either side, or with the connection. */
  closed = false;
  /** Reset by the peer or lost with the connection before it closed normally. */
  aborted = false;
  headersSent = false;
  readonly #connection: H2Connection;
  /** Our send window for this stream. */
  sendWindow: number;
  /** Bytes the client may still send before we credit the stream. */
  receiveWindow: number;
  /** Bytes delivered to the consumer and not credited back yet. */
  #uncredited = 0;
  #paused = false;
  /** Chunks received while paused (bounded by the receive window, which is not credited meanwhile). */
  #held: Uint8Array[] | undefined;
  #heldEnd = false;
  /** Output waiting for the send windows, in order. */
  readonly queue: Segment[] = [];
  queuedBytes = 0;
  needDrain = false;
  /** In the connection's list of streams with output to send. */
  scheduled = false;
  /** Once our side has ended and flushed, reset (NO_ERROR) if the client is still sending. */
  resetWhenFlushed = false;

  constructor(connection: H2Connection, id: number, sendWindow: number, receiveWindow: number) {
    this.#connection = connection;
    this.id = id;
    this.sendWindow = sendWindow;
    this.receiveWindow = receiveWindow;
  }

  /** `host:port` of the client. */
  get peer(): string {
    return this.#connection.peer;
  }

  /** Bytes written and not yet handed to the socket (held by flow control). */
  get writableLength(): number {
    return this.queuedBytes;
  }

  get isPaused(): boolean {
    return this.#paused;
  }

  /** Sends the response headers (a pre-encoded block, see `encodeHeaderObject`); `endStream` for a headers-only response. */
  respond(block: Uint8Array, endStream: boolean): void {
    if (this.closed || this.headersSent) return;
    this.headersSent = true;
    if (endStream) this.writableEnded = true;
    this.#connection.sendHeaders(this, block, endStream);
  }

  /**
   * Queues body bytes. They leave when the connection flushes (once per event-loop turn) as far as the
   * flow-control windows allow; false once `writableHighWaterBytes` are waiting (then wait for onDrain).
   */
  write(bytes: Uint8Array): boolean {
    if (this.closed || this.writableEnded) return false;
    this.#connection.queue(this, { kind: 'data', bytes, endStream: false }, bytes.length);
    if (this.queuedBytes < writableHighWaterBytes) return true;
    this.needDrain = true;
    return false;
  }

  /** Ends our side: optional last body bytes, then trailers (a pre-encoded block), or END_STREAM on DATA. */
  end(bytes: Uint8Array | undefined, trailers: Uint8Array | undefined): void {
    if (this.closed || this.writableEnded) return;
    // Everything is queued before the stream counts as ended, so it cannot close between the last DATA
    // and the trailers.
    if (bytes !== undefined && bytes.length > 0) this.#connection.queue(this, { kind: 'data', bytes, endStream: trailers === undefined }, bytes.length);
    if (trailers !== undefined) this.#connection.queue(this, { kind: 'trailers', block: trailers }, 0);
    else if (bytes === undefined || bytes.length === 0) this.#connection.queue(this, { kind: 'data', bytes: new Uint8Array(0), endStream: true }, 0);
    this.writableEnded = true;
    this.#connection.maybeClose(this);
  }

  /** Resets the stream (RST_STREAM with `code`); the consumer's onClose follows. */
  reset(code: ErrorCode = ErrorCode.Cancel): void {
    if (this.closed) return;
    this.#connection.resetStream(this, code);
  }

  /**
   * After our END_STREAM the exchange is over for us, but a client that has not half-closed keeps the
   * stream open. As grpc-go does, reset it with NO_ERROR once everything queued has gone out. Not in this
   * turn: the client's END_STREAM may be in the bytes already read, behind the frame being handled.
   */
  closeWhenFlushed(): void {
    if (this.closed || this.readableEnded) return;
    setImmediate(() => {
      this.resetWhenFlushed = true;
      this.#connection.maybeClose(this);
    });
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) {
      for (let index = 0; index < held.length; index++) {
        if (this.closed) return;
        this.#deliver(held[index]!);
        if (this.#paused) {
          // The consumer paused again: keep the rest, in order.
          this.#held = held.slice(index + 1);
          return;
        }
      }
    }
    if (this.#heldEnd && !this.closed) {
      this.#heldEnd = false;
      this.consumer.onEnd();
      this.#connection.maybeClose(this);
    }
  }

  // Called by the connection ------------------------------------------------------------------------

  receiveData(chunk: Uint8Array, endStream: boolean): void {
    if (chunk.length > 0) {
      if (this.#paused) (this.#held ??= []).push(Buffer.from(chunk));
      else this.#deliver(chunk);
    }
    if (endStream) {
      this.readableEnded = true;
      if (this.#paused) {
        this.#heldEnd = true;
        return;
      }
      this.consumer.onEnd();
      this.#connection.maybeClose(this);
    }
  }

  #deliver(chunk: Uint8Array): void {
    this.consumer.onData(chunk);
    if (this.readableEnded) return;
    this.#uncredited += chunk.length;
    if (this.#uncredited >= this.#connection.streamCreditThreshold) {
      this.receiveWindow += this.#uncredited;
      this.#connection.credit(this.id, this.#uncredited);
      this.#uncredited = 0;
    }
  }

  /** Marks the stream gone and tells the consumer, once. */
  finish(aborted: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.aborted = aborted;
    this.#held = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.consumer.onClose();
  }
}

interface PendingPing {
  readonly payload: Buffer;
  readonly onAck: () => void;
}

/** Caps on work a peer can cause without sending anything useful. */
const pingsOutstandingMax = 16;
/**
 * Client resets of streams still in progress: a burst of this many, refilled at `resetsPerSecond`. Past it
 * the connection ends with ENHANCE_YOUR_CALM: opening and resetting streams in a loop ("rapid reset",
 * CVE-2023-44487) would otherwise start handlers without bound while staying under the stream limit.
 * nghttp2 limits resets the same way.
 */
const resetBurst = 1000;
const resetsPerSecond = 100;

export class H2Connection {
  readonly #socket: Socket;
  readonly #options: H2ConnectionOptions;
  readonly #decoder: HpackDecoder;
  readonly #streams = new Map<number, H2Stream>();
  /** Streams with output that may be sendable, in the order they asked. */
  #ready: H2Stream[] = [];
  #output: Uint8Array[] = [];
  #outputBytes = 0;
  #flushScheduled = false;
  #input: Buffer | undefined;
  #prefaceSeen = false;
  #settingsSeen = false;
  /** HEADERS without END_HEADERS: the stream and the block so far. */
  #continuation: { streamId: number; endStream: boolean; parts: Uint8Array[]; bytes: number } | undefined;
  #lastStreamId = 0;
  #goAwaySent = false;
  #closed = false;
  // Peer settings.
  #peerInitialWindow = windowBytesDefault;
  #peerFrameBytesMax = frameBytesDefault;
  #connectionSendWindow = windowBytesDefault;
  // Our side of flow control.
  #connectionReceiveWindow: number;
  #connectionUncredited = 0;
  readonly streamCreditThreshold: number;
  readonly #connectionCreditThreshold: number;
  #pings: PendingPing[] = [];
  #resetTokens = resetBurst;
  #resetTokensAtMs = performance.now();
  #closeListeners: (() => void)[] = [];
  readonly peer: string;

  constructor(socket: Socket, options: H2ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#decoder = new HpackDecoder({ tableBytesMax: 4096, headerListBytesMax: options.headerListBytesMax });
    this.#connectionReceiveWindow = options.connectionWindowBytes;
    this.streamCreditThreshold = Math.max(1, options.streamWindowBytes >>> 1);
    this.#connectionCreditThreshold = Math.max(1, options.connectionWindowBytes >>> 1);
    this.#send(settingsFrame([
      [Setting.EnablePush, 0],
      [Setting.MaxConcurrentStreams, options.concurrentStreamsMax],
      [Setting.InitialWindowSize, options.streamWindowBytes],
      [Setting.MaxHeaderListSize, options.headerListBytesMax],
    ]));
    if (options.connectionWindowBytes > windowBytesDefault) this.#send(windowUpdateFrame(0, options.connectionWindowBytes - windowBytesDefault));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.#onSocketClose());
    socket.resume();
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#closeListeners.push(listener);
  }

  /** Graceful close: GOAWAY (no new streams), then the socket ends once the open streams have. */
  close(): void {
    if (this.#closed) return;
    if (!this.#goAwaySent) {
      this.#goAwaySent = true;
      this.#send(goAwayFrame(this.#lastStreamId, ErrorCode.NoError));
    }
    this.#endIfIdle();
  }

  /** Closes at once: every open stream is aborted (their consumers hear of it before this returns). */
  destroy(): void {
    this.#socket.destroy();
    this.#onSocketClose();
  }

  /** Sends a PING; `onAck` runs when the peer answers. False if too many are already outstanding. */
  ping(onAck: () => void): boolean {
    if (this.#closed || this.#pings.length >= pingsOutstandingMax) return false;
    const payload = Buffer.allocUnsafe(8);
    payload.writeDoubleBE(performance.now());
    this.#pings.push({ payload, onAck });
    this.#send(pingFrame(payload, false));
    return true;
  }

  // Used by streams ----------------------------------------------------------------------------------

  sendHeaders(stream: H2Stream, block: Uint8Array, endStream: boolean): void {
    assert(stream.queue.length === 0, 'response headers go before any body');
    this.#send(headersFrames(stream.id, block, endStream, this.#peerFrameBytesMax));
    if (endStream) this.maybeClose(stream);
  }

  /** Queues a stream's output; it is framed at the next flush, so a turn's writes share one socket write. */
  queue(stream: H2Stream, segment: Segment, bytes: number): void {
    stream.queue.push(segment);
    stream.queuedBytes += bytes;
    if (!stream.scheduled) {
      stream.scheduled = true;
      this.#ready.push(stream);
    }
    this.#scheduleFlush();
  }

  resetStream(stream: H2Stream, code: ErrorCode): void {
    this.#send(rstStreamFrame(stream.id, code));
    this.#removeStream(stream, false);
  }

  /** Credits `bytes` back to the client on a stream (the connection is credited as data arrives). */
  credit(streamId: number, bytes: number): void {
    this.#send(windowUpdateFrame(streamId, bytes));
  }

  /** Closes the stream if both sides have ended and everything queued has gone out. */
  maybeClose(stream: H2Stream): void {
    if (!stream.writableEnded || stream.queue.length > 0 || stream.closed) return;
    if (stream.readableEnded) this.#removeStream(stream, false);
    else if (stream.resetWhenFlushed) this.resetStream(stream, ErrorCode.NoError);
  }

  // Input --------------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    const input = this.#input === undefined ? chunk : Buffer.concat([this.#input, chunk]);
    this.#input = undefined;
    try {
      let offset = 0;
      if (!this.#prefaceSeen) {
        if (input.length < http2Preface.length) {
          this.#input = input;
          return;
        }
        if (!input.subarray(0, http2Preface.length).equals(http2Preface)) throw new ConnectionError(ErrorCode.ProtocolError, 'bad connection preface');
        this.#prefaceSeen = true;
        offset = http2Preface.length;
      }
      while (input.length - offset >= frameHeaderBytes) {
        const length = (input[offset]! << 16) | (input[offset + 1]! << 8) | input[offset + 2]!;
        if (length > frameBytesDefault) throw new ConnectionError(ErrorCode.FrameSizeError, `frame of ${length} bytes over SETTINGS_MAX_FRAME_SIZE`);
        if (input.length - offset < frameHeaderBytes + length) break;
        const type = input[offset + 3]!;
        const flags = input[offset + 4]!;
        const streamId = input.readUInt32BE(offset + 5) & windowBytesMax;
        const payload = input.subarray(offset + frameHeaderBytes, offset + frameHeaderBytes + length);
        offset += frameHeaderBytes + length;
        try {
          this.#onFrame(type, flags, streamId, payload);
        } catch (error) {
          if (!(error instanceof StreamError)) throw error;
          this.#streamError(error);
        }
        if (this.#closed) return;
      }
      if (offset < input.length) this.#input = Buffer.from(input.subarray(offset));
    } catch (error) {
      this.#connectionError(error);
    }
  }

  #onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.#continuation !== undefined && type !== FrameType.Continuation) {
      throw new ConnectionError(ErrorCode.ProtocolError, 'a header block was interrupted by another frame');
    }
    if (!this.#settingsSeen && type !== FrameType.Settings) throw new ConnectionError(ErrorCode.ProtocolError, 'the first frame must be SETTINGS');
    switch (type) {
      case FrameType.Data: return this.#onDataFrame(flags, streamId, payload);
      case FrameType.Headers: return this.#onHeadersFrame(flags, streamId, payload);
      case FrameType.Continuation: return this.#onContinuation(flags, streamId, payload);
      case FrameType.Priority:
        if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, 'PRIORITY on stream 0');
        if (payload.length !== 5) throw new StreamError(streamId, ErrorCode.FrameSizeError, 'PRIORITY of the wrong size');
        return;
      case FrameType.RstStream: return this.#onRstStream(streamId, payload);
      case FrameType.Settings: return this.#onSettings(flags, streamId, payload);
      case FrameType.PushPromise: throw new ConnectionError(ErrorCode.ProtocolError, 'a client sent PUSH_PROMISE');
      case FrameType.Ping: return this.#onPing(flags, streamId, payload);
      case FrameType.GoAway:
        if (streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, 'GOAWAY on a stream');
        // The client will open no more streams; ours finish, then the connection ends.
        this.#goAwaySent = true;
        this.#endIfIdle();
        return;
      case FrameType.WindowUpdate: return this.#onWindowUpdate(streamId, payload);
      default:
        return; // Unknown frame types are ignored (RFC 9113 §4.1).
    }
  }

  #onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, 'DATA on stream 0');
    const body = this.#unpad(flags, payload);
    // Flow control counts the whole frame, padding included, whatever becomes of the stream.
    this.#connectionReceiveWindow -= payload.length;
    if (this.#connectionReceiveWindow < 0) throw new ConnectionError(ErrorCode.FlowControlError, 'the client overran the connection window');
    this.#creditConnection(payload.length);
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      if (streamId > this.#lastStreamId) throw new ConnectionError(ErrorCode.ProtocolError, 'DATA on an idle stream');
      return; // A stream we closed or reset: frames already in flight are dropped.
    }
    if (stream.readableEnded) throw new StreamError(streamId, ErrorCode.StreamClosed, 'DATA after END_STREAM');
    stream.receiveWindow -= payload.length;
    if (stream.receiveWindow < 0) throw new StreamError(streamId, ErrorCode.FlowControlError, 'the client overran the stream window');
    stream.receiveData(body, (flags & Flag.EndStream) !== 0);
  }

  #creditConnection(bytes: number): void {
    this.#connectionUncredited += bytes;
    if (this.#connectionUncredited >= this.#connectionCreditThreshold) {
      this.#connectionReceiveWindow += this.#connectionUncredited;
      this.#send(windowUpdateFrame(0, this.#connectionUncredited));
      this.#connectionUncredited = 0;
    }
  }

  #onHeadersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, 'HEADERS on stream 0');
    let fragment = this.#unpad(flags, payload);
    if ((flags & Flag.Priority) !== 0) {
      if (fragment.length < 5) throw new ConnectionError(ErrorCode.FrameSizeError, 'HEADERS too short for its priority');
      fragment = fragment.subarray(5);
    }
    const endStream = (flags & Flag.EndStream) !== 0;
    if ((flags & Flag.EndHeaders) === 0) {
      this.#continuation = { streamId, endStream, parts: [Buffer.from(fragment)], bytes: fragment.length };
      this.#checkBlockSize(fragment.length);
      return;
    }
    this.#onHeaderBlock(streamId, fragment, endStream);
  }

  #onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const pending = this.#continuation;
    if (pending === undefined || pending.streamId !== streamId) throw new ConnectionError(ErrorCode.ProtocolError, 'CONTINUATION without a header block in progress');
    pending.parts.push(Buffer.from(payload));
    pending.bytes += payload.length;
    this.#checkBlockSize(pending.bytes);
    if ((flags & Flag.EndHeaders) === 0) return;
    this.#continuation = undefined;
    this.#onHeaderBlock(streamId, Buffer.concat(pending.parts, pending.bytes), pending.endStream);
  }

  /** A compressed block can hardly be larger than the decoded list it encodes; bound what we collect. */
  #checkBlockSize(bytes: number): void {
    if (bytes > this.#options.headerListBytesMax + 16_384) throw new ConnectionError(ErrorCode.EnhanceYourCalm, 'header block too large');
  }

  #onHeaderBlock(streamId: number, block: Uint8Array, endStream: boolean): void {
    // The block is decoded whatever happens to the stream: the HPACK tables must stay in step.
    let pairs: HeaderPair[] | undefined;
    let tooLarge = false;
    try {
      pairs = this.#decoder.decode(block);
    } catch (error) {
      if (error instanceof HeaderListTooLargeError) tooLarge = true;
      else if (error instanceof HpackError) throw new ConnectionError(ErrorCode.CompressionError, error.message);
      else throw error;
    }
    const existing = this.#streams.get(streamId);
    if (existing !== undefined) {
      // Trailers from the client: they must end the stream; their content means nothing to gRPC.
      if (!endStream || existing.readableEnded) throw new StreamError(streamId, ErrorCode.ProtocolError, 'HEADERS in the middle of a stream');
      existing.receiveData(new Uint8Array(0), true);
      return;
    }
    if (streamId % 2 === 0 || streamId <= this.#lastStreamId) throw new ConnectionError(ErrorCode.ProtocolError, `stream ${streamId} cannot be opened by the client now`);
    this.#lastStreamId = streamId;
    if (this.#goAwaySent) return; // Refused by our GOAWAY: the client retries elsewhere.
    if (tooLarge) {
      // RFC 9113 §8.2.3 suggests 431; a gRPC client understands a stream error better.
      this.#send(rstStreamFrame(streamId, ErrorCode.RefusedStream));
      return;
    }
    if (this.#streams.size >= this.#options.concurrentStreamsMax) {
      this.#send(rstStreamFrame(streamId, ErrorCode.RefusedStream));
      return;
    }
    const headers = requestHeaders(streamId, pairs!);
    const stream = new H2Stream(this, streamId, this.#peerInitialWindow, this.#options.streamWindowBytes);
    this.#streams.set(streamId, stream);
    if (endStream) stream.readableEnded = true;
    this.#options.onStream(stream, headers);
    if (endStream && !stream.closed) {
      stream.consumer.onEnd();
      this.maybeClose(stream);
    }
  }

  #onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, 'RST_STREAM on stream 0');
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FrameSizeError, 'RST_STREAM of the wrong size');
    if (streamId > this.#lastStreamId) throw new ConnectionError(ErrorCode.ProtocolError, 'RST_STREAM on an idle stream');
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return;
    if (!stream.writableEnded) this.#spendResetToken();
    this.#removeStream(stream, true);
  }

  #spendResetToken(): void {
    const now = performance.now();
    this.#resetTokens = Math.min(resetBurst, this.#resetTokens + ((now - this.#resetTokensAtMs) * resetsPerSecond) / 1000);
    this.#resetTokensAtMs = now;
    if (this.#resetTokens < 1) throw new ConnectionError(ErrorCode.EnhanceYourCalm, 'too many streams reset by the client');
    this.#resetTokens -= 1;
  }

  #onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, 'SETTINGS on a stream');
    if ((flags & ackFlag) !== 0) {
      if (payload.length !== 0) throw new ConnectionError(ErrorCode.FrameSizeError, 'SETTINGS ack with a payload');
      return;
    }
    if (payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FrameSizeError, 'SETTINGS of the wrong size');
    this.#settingsSeen = true;
    for (let offset = 0; offset < payload.length; offset += 6) {
      const id = payload.readUInt16BE(offset);
      const value = payload.readUInt32BE(offset + 2);
      switch (id) {
        case Setting.EnablePush:
          if (value > 1) throw new ConnectionError(ErrorCode.ProtocolError, 'SETTINGS_ENABLE_PUSH must be 0 or 1');
          break;
        case Setting.InitialWindowSize: {
          if (value > windowBytesMax) throw new ConnectionError(ErrorCode.FlowControlError, 'SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1');
          const delta = value - this.#peerInitialWindow;
          this.#peerInitialWindow = value;
          for (const stream of this.#streams.values()) {
            stream.sendWindow += delta;
            if (stream.sendWindow > windowBytesMax) throw new ConnectionError(ErrorCode.FlowControlError, 'a stream window over 2^31-1');
          }
          break;
        }
        case Setting.MaxFrameSize:
          if (value < frameBytesDefault || value > frameBytesCeiling) throw new ConnectionError(ErrorCode.ProtocolError, 'SETTINGS_MAX_FRAME_SIZE out of range');
          this.#peerFrameBytesMax = value;
          break;
        default:
          // HEADER_TABLE_SIZE (our encoder uses no dynamic table), MAX_CONCURRENT_STREAMS (we open none),
          // MAX_HEADER_LIST_SIZE (our headers are small) and unknown settings need nothing.
          break;
      }
    }
    this.#send(settingsAckFrame);
    this.#pump();
  }

  #onPing(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, 'PING on a stream');
    if (payload.length !== 8) throw new ConnectionError(ErrorCode.FrameSizeError, 'PING of the wrong size');
    if ((flags & ackFlag) === 0) {
      this.#send(pingFrame(payload, true));
      return;
    }
    const index = this.#pings.findIndex((ping) => ping.payload.equals(payload));
    if (index < 0) return;
    const [ping] = this.#pings.splice(index, 1);
    ping!.onAck();
  }

  #onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FrameSizeError, 'WINDOW_UPDATE of the wrong size');
    const increment = payload.readUInt32BE(0) & windowBytesMax;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
      this.#connectionSendWindow += increment;
      if (this.#connectionSendWindow > windowBytesMax) throw new ConnectionError(ErrorCode.FlowControlError, 'the connection window over 2^31-1');
      this.#pump();
      return;
    }
    const stream = this.#streams.get(streamId);
    if (increment === 0) throw new StreamError(streamId, ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
    if (stream === undefined) return; // Closed streams may still be credited; idle ones are harmless to ignore.
    stream.sendWindow += increment;
    if (stream.sendWindow > windowBytesMax) throw new StreamError(streamId, ErrorCode.FlowControlError, 'a stream window over 2^31-1');
    this.#pumpStream(stream);
  }

  #unpad(flags: number, payload: Buffer): Buffer {
    if ((flags & Flag.Padded) === 0) return payload;
    if (payload.length < 1) throw new ConnectionError(ErrorCode.FrameSizeError, 'padded frame without a pad length');
    const padding = payload[0]!;
    if (padding >= payload.length) throw new ConnectionError(ErrorCode.ProtocolError, 'padding longer than the frame');
    return payload.subarray(1, payload.length - padding);
  }

  // Output -------------------------------------------------------------------------------------------

  /** Sends what the windows allow for every stream waiting on them. */
  #pump(): void {
    if (this.#ready.length === 0) return;
    const waiting = this.#ready;
    this.#ready = [];
    for (const stream of waiting) {
      stream.scheduled = false;
      if (stream.closed) continue;
      this.#pumpStream(stream);
      if (stream.queue.length > 0) {
        stream.scheduled = true;
        this.#ready.push(stream);
      }
    }
  }

  /** Moves a stream's queued output into DATA (and trailer) frames as far as the windows allow. */
  #pumpStream(stream: H2Stream): void {
    const queue = stream.queue;
    while (queue.length > 0 && !stream.closed) {
      const segment = queue[0]!;
      if (segment.kind === 'trailers') {
        queue.shift();
        this.#send(headersFrames(stream.id, segment.block, true, this.#peerFrameBytesMax));
        continue;
      }
      const bytes = segment.bytes;
      if (bytes.length === 0) {
        queue.shift();
        if (segment.endStream) this.#send(dataFrame(stream.id, bytes, true));
        continue;
      }
      const allowed = Math.min(bytes.length, stream.sendWindow, this.#connectionSendWindow, this.#peerFrameBytesMax);
      if (allowed <= 0) break;
      const last = allowed === bytes.length;
      this.#send(dataFrame(stream.id, last ? bytes : bytes.subarray(0, allowed), last && segment.endStream));
      stream.sendWindow -= allowed;
      this.#connectionSendWindow -= allowed;
      stream.queuedBytes -= allowed;
      if (last) queue.shift();
      else segment.bytes = bytes.subarray(allowed);
    }
    if (queue.length === 0) {
      if (stream.needDrain) {
        stream.needDrain = false;
        stream.consumer.onDrain();
      }
      this.maybeClose(stream);
    }
  }

  #send(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#output.push(frame);
    this.#outputBytes += frame.length;
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  /** Frames the streams' queued output, then everything of this turn leaves in one socket write. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    this.#pump();
    if (this.#output.length === 0) return;
    const output = this.#output;
    const bytes = this.#outputBytes;
    this.#output = [];
    this.#outputBytes = 0;
    this.#socket.write(output.length === 1 ? output[0]! : Buffer.concat(output, bytes));
    if (this.#socket.writableLength > this.#options.outputBytesMax) {
      this.#options.onError(new Error(`http2: the peer does not read (${this.#socket.writableLength} bytes waiting); closing`));
      this.#socket.destroy();
    }
  }

  // Errors and closing -------------------------------------------------------------------------------

  #streamError(error: StreamError): void {
    this.#send(rstStreamFrame(error.streamId, error.code));
    const stream = this.#streams.get(error.streamId);
    if (stream !== undefined) this.#removeStream(stream, true);
  }

  #connectionError(error: unknown): void {
    const code = error instanceof ConnectionError ? error.code : ErrorCode.InternalError;
    if (!(error instanceof ConnectionError)) this.#options.onError(error instanceof Error ? error : new Error(String(error)));
    this.#goAwaySent = true;
    this.#send(goAwayFrame(this.#lastStreamId, code, error instanceof Error ? error.message : ''));
    this.#flush();
    this.#socket.end();
    this.#socket.destroySoon();
    for (const stream of [...this.#streams.values()]) this.#removeStream(stream, true);
  }

  #removeStream(stream: H2Stream, aborted: boolean): void {
    if (!this.#streams.delete(stream.id)) return;
    stream.finish(aborted);
    this.#endIfIdle();
  }

  #endIfIdle(): void {
    if (this.#goAwaySent && this.#streams.size === 0 && !this.#closed) {
      // Let the GOAWAY and the last responses out first.
      setImmediate(() => {
        if (this.#streams.size !== 0 || this.#closed) return;
        this.#flush();
        this.#socket.end();
      });
    }
  }

  #onSocketClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#output = [];
    this.#outputBytes = 0;
    for (const stream of [...this.#streams.values()]) {
      this.#streams.delete(stream.id);
      stream.finish(true);
    }
    this.#pings = [];
    for (const listener of this.#closeListeners.splice(0)) listener();
  }
}

function dataFrame(streamId: number, bytes: Uint8Array, endStream: boolean): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderBytes + bytes.length);
  writeFrameHeader(frame, 0, bytes.length, FrameType.Data, endStream ? Flag.EndStream : 0, streamId);
  frame.set(bytes, frameHeaderBytes);
  return frame;
}

/** Request headers as an object, checked as RFC 9113 §8.3 asks of a server. */
function requestHeaders(streamId: number, pairs: readonly HeaderPair[]): RequestHeaders {
  const headers: RequestHeaders = {};
  let regularSeen = false;
  for (const [name, value] of pairs) {
    if (name.startsWith(':')) {
      if (regularSeen) throw new StreamError(streamId, ErrorCode.ProtocolError, 'a pseudo-header after a regular header');
      if (name !== ':method' && name !== ':path' && name !== ':scheme' && name !== ':authority' && name !== ':protocol') {
        throw new StreamError(streamId, ErrorCode.ProtocolError, `unknown pseudo-header ${name}`);
      }
      if (headers[name] !== undefined) throw new StreamError(streamId, ErrorCode.ProtocolError, `repeated ${name}`);
      headers[name] = value;
      continue;
    }
    regularSeen = true;
    if (name !== name.toLowerCase() || name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding' || name === 'upgrade') {
      throw new StreamError(streamId, ErrorCode.ProtocolError, `header ${name} is not allowed in HTTP/2`);
    }
    if (name === 'te' && value !== 'trailers') throw new StreamError(streamId, ErrorCode.ProtocolError, 'te other than trailers');
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else if (name === 'cookie') headers[name] = `${previous as string}; ${value}`;
    else headers[name] = Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  if (headers[':method'] === undefined || (headers[':method'] !== 'CONNECT' && (headers[':path'] === undefined || headers[':scheme'] === undefined))) {
    throw new StreamError(streamId, ErrorCode.ProtocolError, 'a request without :method, :path or :scheme');
  }
  return headers;
}
