/**
 * One gRPC call on one HTTP/2 stream (h2/connection.ts): reads request messages, runs the handler, writes
 * response messages with backpressure, and ends the stream with a status exactly once.
 *
 * Status is sent as trailers after the response headers, or as a trailers-only response (one HEADERS
 * frame with END_STREAM) when nothing was sent yet, per PROTOCOL-HTTP2.md.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { encodeHeaderObject, type H2Stream, type StreamConsumer } from './h2/connection.ts';
import { ProtoError } from '../proto/errors.ts';
import { decompress, frameHeaderBytes, MessageDeframer, writeFrameHeader } from './framing.ts';
import type { MessageEncoding } from './framing.ts';
import type { GrpcCallRecorder } from './options.ts';
import type { Cancellation, MethodHandler, ServerStreamCall } from './handlers.ts';
import { RequestStream } from './request-stream.ts';
import { assert } from './_assert.ts';
import { encodeGrpcMessage, GrpcError, Status } from './status.ts';

/** The limits a call enforces, taken from the server's options. */
export interface CallLimits {
  readonly receiveMessageBytesMax: number;
  readonly sendMessageBytesMax: number;
  readonly requestQueueMessagesMax: number;
  readonly responseBufferBytesMax: number;
}

/** What a call needs from its server. */
export interface CallOwner {
  readonly limits: CallLimits;
  /** The stream has closed; the call holds no resources any more. */
  callClosed(call: ServerCall): void;
  /** An error that is not the client's fault (a handler bug, an encoder failure). */
  reportError(error: unknown, call: ServerCall): void;
}

const contentType = 'application/grpc';
const acceptEncodingHeader = 'grpc-accept-encoding';
/** The timer API takes at most a signed 32-bit delay; longer deadlines are kept but not timed. */
const timerDelayMsMax = 0x7fffffff;
/** Waits a handler has open on its call at once (a unary handler has one or two). */
const abortListenersMax = 1_000;

/** Frozen, so each is HPACK-encoded once (h2/connection.ts `encodeHeaderObject`) and reused by every call. */
const defaultResponseHeaders: OutgoingHttpHeaders = Object.freeze({
  ':status': 200,
  'content-type': contentType,
  [acceptEncodingHeader]: 'identity,gzip,deflate',
});
const okTrailers: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' });

export interface ServerCallOptions {
  readonly headers: IncomingHttpHeaders;
  readonly handler: MethodHandler;
  readonly encoding: MessageEncoding;
  /** From `grpc-timeout`; undefined for no deadline. */
  readonly timeoutMs: number | undefined;
  /** Told how the call ended (metrics); undefined when the server has none. */
  readonly recorder?: GrpcCallRecorder | undefined;
}

/**
 * The server side of one call. Implements the handler-facing {@link ServerStreamCall} (and so
 * CallContext) itself, so that a call costs one object.
 */
export class ServerCall implements ServerStreamCall<unknown>, StreamConsumer {
  readonly #owner: CallOwner;
  readonly #stream: H2Stream;
  readonly #handler: MethodHandler;
  readonly #headers: IncomingHttpHeaders;
  readonly #encoding: MessageEncoding;
  readonly #deframer: MessageDeframer;
  readonly deadlineMs: number | undefined;
  readonly #recorder: GrpcCallRecorder | undefined;
  readonly #startedAtMs: number;
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** Requests received; unary and server-stream methods take exactly one. */
  #requestCount = 0;
  #requests: RequestStream<unknown> | undefined;
  #headersSent = false;
  /** Invariant: once true, never false again, and no message is written after it. */
  #ended = false;
  #closed = false;
  #abortController: AbortController | undefined;
  #abortReason: GrpcError | undefined;
  /** Invariant: empty once aborted (listeners run once). Bounded: one per wait a handler has open. */
  #abortListeners: (() => void)[] | undefined;
  #requestBytes = 0;
  #responseHeaders: OutgoingHttpHeaders | undefined;
  #extraTrailers: Record<string, string> | undefined;
  #drainWaiters: { resolve: () => void; reject: (error: Error) => void }[] | undefined;
  /** The client half-closed while requests were held back by flow control; end once they are delivered. */
  #pendingEnd = false;

  constructor(owner: CallOwner, stream: H2Stream, options: ServerCallOptions) {
    const handler = options.handler;
    this.#owner = owner;
    this.#stream = stream;
    this.#headers = options.headers;
    this.#handler = handler;
    this.#recorder = options.recorder;
    this.#startedAtMs = options.recorder === undefined ? 0 : performance.now();
    this.#encoding = options.encoding;
    this.#deframer = new MessageDeframer(owner.limits.receiveMessageBytesMax, (payload, compressed) => this.#message(payload, compressed));
    this.deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    if (options.timeoutMs !== undefined && options.timeoutMs <= timerDelayMsMax) {
      this.#deadlineTimer = setTimeout(() => this.#expire(), Math.ceil(options.timeoutMs));
    }
    if (handler.kind === 'client-stream' || handler.kind === 'bidirectional-stream') {
      this.#requests = new RequestStream(owner.limits.requestQueueMessagesMax, { pause: () => this.#pauseInput(), resume: () => this.#resumeInput() });
    }
    stream.consumer = this;
    if (this.#requests !== undefined) this.#start();
  }

  // -------------------------------------------------------------------------------------------------
  // CallContext
  // -------------------------------------------------------------------------------------------------

  get signal(): AbortSignal {
    // Created on first use: most unary handlers never look, and an AbortController is not free.
    if (this.#abortController === undefined) {
      this.#abortController = new AbortController();
      if (this.#abortReason !== undefined) this.#abortController.abort(this.#abortReason);
    }
    return this.#abortController.signal;
  }

  get cancellation(): Cancellation {
    return this;
  }

  get aborted(): boolean {
    return this.#abortReason !== undefined;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.#abortReason !== undefined) return; // As with an AbortSignal: an aborted call fires no more.
    (this.#abortListeners ??= []).push(listener);
    assert(this.#abortListeners.length <= abortListenersMax, 'a handler waits on a call a bounded number of times at once');
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.#abortListeners;
    if (listeners === undefined) return;
    const index = listeners.indexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
  }

  get requestBytes(): number {
    return this.#requestBytes;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get path(): string {
    return this.#headers[':path'] ?? '';
  }

  get metadata(): IncomingHttpHeaders {
    return this.#headers;
  }

  get peer(): string {
    return this.#stream.peer;
  }

  metadataValue(key: string): string | undefined {
    const value = this.#headers[key.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  setHeader(key: string, value: string): void {
    if (this.#headersSent) throw new GrpcError(Status.INTERNAL, 'response headers were already sent');
    this.#responseHeaders = { ...(this.#responseHeaders ?? defaultResponseHeaders), [key.toLowerCase()]: value };
  }

  setTrailer(key: string, value: string): void {
    this.#extraTrailers = { ...this.#extraTrailers, [key.toLowerCase()]: value };
  }

  // -------------------------------------------------------------------------------------------------
  // ServerStreamCall
  // -------------------------------------------------------------------------------------------------

  get bufferedBytes(): number {
    return this.#stream.writableLength;
  }

  write(message: unknown): boolean {
    if (this.#ended || this.#stream.closed) throw this.#endedError();
    const frame = this.#encodeFrame(message);
    const buffered = this.#stream.writableLength;
    // One message may always be queued on an empty buffer, however large; beyond that the handler must
    // wait for drained().
    if (buffered > 0 && buffered + frame.length > this.#owner.limits.responseBufferBytesMax) {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `grpc: response buffer full (${buffered} bytes queued); wait for drained() before writing`);
    }
    if (!this.#headersSent) this.#sendHeaders();
    return this.#stream.write(frame);
  }

  drained(): Promise<void> {
    if (this.#ended) return Promise.reject(this.#endedError());
    if (!this.#stream.needDrain) return Promise.resolve();
    this.#drainWaiters ??= [];
    return new Promise((resolve, reject) => this.#drainWaiters!.push({ resolve, reject }));
  }

  async send(message: unknown): Promise<void> {
    if (!this.write(message)) await this.drained();
  }

  // -------------------------------------------------------------------------------------------------
  // Driven by the stream (StreamConsumer)
  // -------------------------------------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    if (this.#ended) return; // Input after the status is drained and dropped.
    try {
      this.#deframer.push(chunk);
    } catch (error) {
      this.#fail(error);
    }
  }

  onEnd(): void {
    // A reset or a dropped connection also ends the readable side; that is a cancellation, which 'close'
    // reports next, not a half-close.
    if (this.#ended || this.#stream.aborted || this.#stream.closed) return;
    if (!this.#deframer.idle && !this.#deframer.stopped) {
      this.#finish(Status.INTERNAL, 'grpc: client closed the stream inside a message');
      return;
    }
    if (this.#requests !== undefined) {
      // Messages held back by flow control are delivered first; end() lets the queue drain.
      if (this.#deframer.stopped) this.#pendingEnd = true;
      else this.#requests.end();
      return;
    }
    if (this.#requestCount === 0) this.#finish(Status.INTERNAL, 'grpc: client ended the stream without a request message');
  }

  onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearDeadline();
    if (!this.#ended) {
      // The stream went away before a status was sent: the client reset it or the connection died.
      this.#ended = true;
      this.#recordEnd(Status.CANCELLED);
      this.#abort(new GrpcError(Status.CANCELLED, 'grpc: the client cancelled the call'));
    }
    this.#rejectDrainWaiters();
    assert(this.#ended && this.#deadlineTimer === undefined, 'a closed call has ended and holds no timer');
    this.#owner.callClosed(this);
  }

  onDrain(): void {
    const waiters = this.#drainWaiters;
    if (waiters === undefined) return;
    this.#drainWaiters = undefined;
    for (const waiter of waiters) waiter.resolve();
  }

  /** Ends the call from outside (server shutdown): the handler's signal aborts and the client gets `error`. */
  cancel(error: GrpcError): void {
    if (this.#ended) return;
    this.#abort(error);
    this.#finish(error.status, error.message);
  }

  // -------------------------------------------------------------------------------------------------
  // Requests
  // -------------------------------------------------------------------------------------------------

  #message(payload: Uint8Array, compressed: boolean): boolean {
    if (this.#ended) return true;
    const bytes = compressed ? decompress(payload, this.#encoding, this.#owner.limits.receiveMessageBytesMax) : payload;
    this.#requestBytes = bytes.length;
    let request: unknown;
    try {
      request = this.#handler.decodeRequest(bytes);
    } catch (error) {
      if (!(error instanceof ProtoError)) throw error;
      throw new GrpcError(Status.INTERNAL, `grpc: error unmarshalling request: ${error.message}`, { cause: error });
    }
    this.#requestCount++;
    assert(!this.#ended, 'no request is delivered after the call ended');
    if (this.#requests !== undefined) return this.#requests.push(request);
    if (this.#requestCount > 1) throw new GrpcError(Status.INTERNAL, 'grpc: received a second request message for a single-request method');
    this.#start(request);
    return true;
  }

  #pauseInput(): void {
    this.#stream.pause();
  }

  #resumeInput(): void {
    if (this.#ended) return;
    try {
      if (!this.#deframer.resume()) return;
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (this.#pendingEnd) {
      this.#pendingEnd = false;
      this.#requests!.end();
      return;
    }
    this.#stream.resume();
  }

  // -------------------------------------------------------------------------------------------------
  // Running the handler
  // -------------------------------------------------------------------------------------------------

  #start(request?: unknown): void {
    const handler = this.#handler;
    let result: unknown;
    try {
      switch (handler.kind) {
        case 'unary':
          result = handler.handle(request, this);
          break;
        case 'server-stream':
          result = handler.handle(request, this);
          break;
        case 'client-stream':
          result = handler.handle(this.#requests!, this);
          break;
        case 'bidirectional-stream':
          result = handler.handle(this.#requests!, this);
          break;
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    const respondsOnce = handler.kind === 'unary' || handler.kind === 'client-stream';
    if (result instanceof Promise) {
      result.then((value: unknown) => this.#handlerDone(respondsOnce, value), (error: unknown) => this.#fail(error));
    } else {
      this.#handlerDone(respondsOnce, result);
    }
  }

  #handlerDone(respondsOnce: boolean, value: unknown): void {
    if (this.#ended) return;
    if (!respondsOnce) {
      this.#finish(Status.OK, '');
      return;
    }
    let frame: Uint8Array;
    try {
      frame = this.#encodeFrame(value);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (this.#stream.closed) return; // onClose has run, or follows, and cancels the call.
    if (!this.#headersSent) this.#sendHeaders();
    this.#ended = true;
    this.#recordEnd(Status.OK);
    this.#clearDeadline();
    const trailers = this.#extraTrailers === undefined ? okTrailers : { ...this.#extraTrailers, 'grpc-status': '0' };
    this.#stream.end(frame, encodeHeaderObject(trailers));
    this.#stream.closeWhenFlushed();
    this.#drainInput();
  }

  #encodeFrame(message: unknown): Uint8Array {
    let frame: Uint8Array;
    try {
      frame = this.#handler.encodeResponse(message, frameHeaderBytes);
    } catch (error) {
      if (error instanceof GrpcError) throw error;
      throw new GrpcError(Status.INTERNAL, `grpc: error while marshaling: ${(error as Error).message}`, { cause: error });
    }
    assert(frame.length >= frameHeaderBytes, 'the encoder left room for the frame header');
    const length = frame.length - frameHeaderBytes;
    if (length > this.#owner.limits.sendMessageBytesMax) {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `grpc: trying to send message larger than max (${length} vs. ${this.#owner.limits.sendMessageBytesMax})`);
    }
    writeFrameHeader(frame, false);
    return frame;
  }

  // -------------------------------------------------------------------------------------------------
  // Ending
  // -------------------------------------------------------------------------------------------------

  #fail(error: unknown): void {
    if (this.#ended) return;
    if (error instanceof GrpcError) {
      if (error.trailers !== undefined) this.#extraTrailers = { ...this.#extraTrailers, ...error.trailers };
      this.#finish(error.status, error.message);
      return;
    }
    // Not a status the handler chose: a bug or an unexpected failure. Tell the client UNKNOWN (as grpc-go
    // does for plain errors) and the owner everything.
    this.#owner.reportError(error, this);
    this.#finish(Status.UNKNOWN, error instanceof Error ? error.message : String(error));
  }

  #expire(): void {
    this.#deadlineTimer = undefined;
    if (this.#ended) return;
    const error = new GrpcError(Status.DEADLINE_EXCEEDED, 'context deadline exceeded');
    this.#abort(error);
    this.#finish(error.status, error.message);
  }

  /** Sends the status (once) and stops reading. */
  #finish(status: Status, message: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#recordEnd(status);
    this.#clearDeadline();
    if (status !== Status.OK) {
      // The handler's work is moot once the call failed: abort its signal (a no-op if it already is).
      this.#abort(new GrpcError(status, message));
      this.#rejectDrainWaiters();
    } else {
      this.#requests?.end();
    }
    const stream = this.#stream;
    if (stream.closed) return;
    const trailers: OutgoingHttpHeaders = { ...this.#extraTrailers, 'grpc-status': String(status) };
    if (message !== '') trailers['grpc-message'] = encodeGrpcMessage(message);
    if (!this.#headersSent) {
      this.#headersSent = true;
      stream.respond(encodeHeaderObject({ ...(this.#responseHeaders ?? defaultResponseHeaders), ...trailers }), true);
    } else {
      stream.end(undefined, encodeHeaderObject(trailers));
    }
    stream.closeWhenFlushed();
    this.#drainInput();
  }

  #sendHeaders(): void {
    this.#headersSent = true;
    this.#stream.respond(encodeHeaderObject(this.#responseHeaders ?? defaultResponseHeaders), false);
  }

  /** After the status, the client may still be sending: read and drop it so flow control never stalls. */
  #drainInput(): void {
    const stream = this.#stream;
    if (!stream.readableEnded && stream.isPaused) stream.resume();
  }

  /** Exactly once per call: every path that sets #ended reports here. */
  #recordEnd(status: Status): void {
    this.#recorder?.callEnded(status, (performance.now() - this.#startedAtMs) / 1000);
  }

  #abort(reason: GrpcError): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#abortController?.abort(reason);
    const listeners = this.#abortListeners;
    this.#abortListeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
    this.#requests?.fail(reason);
  }

  #endedError(): GrpcError {
    return this.#abortReason ?? new GrpcError(Status.CANCELLED, 'grpc: the call has already ended');
  }

  #rejectDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    if (waiters === undefined) return;
    this.#drainWaiters = undefined;
    const error = this.#endedError();
    for (const waiter of waiters) waiter.reject(error);
  }

  #clearDeadline(): void {
    if (this.#deadlineTimer === undefined) return;
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
  }
}
