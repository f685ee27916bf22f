/**
 * One gRPC call on one HTTP/2 stream (PROTOCOL-HTTP2.md): 5-byte framed messages out, framed messages in,
 * the status from `grpc-status`/`grpc-message` in the trailers (or in the headers of a trailers-only
 * response). Every kind of call (unary, server stream, bidirectional) is this class.
 */
import http2 from 'node:http2';
import { MessageDeframer, Status, decodeGrpcMessage, frameHeaderBytes, isStatus, writeFrameHeader } from '../server/grpc/index.ts';
import type { MethodDefinition, MethodKind } from '../server/proto/index.ts';
import { ClientError } from './errors.ts';

export interface CallOptions {
  readonly endpoint: string;
  /** Absolute deadline (performance.now() milliseconds); sent as `grpc-timeout` and enforced locally. */
  readonly deadline: number;
  readonly messageBytesMax: number;
  /** Decoded responses held for a slow reader before the stream is paused (HTTP/2 flow control). */
  readonly queueMessagesMax: number;
}

/** Whether the call failed before the server answered anything: it never reached a handler. */
export type FailureStage = 'connect' | 'server';

/**
 * A call in flight. Iterate it for responses; the iteration throws ClientError when the call ends with a
 * non-OK status.
 */
export class Call<Request, Response, RequestInit> implements AsyncIterable<Response> {
  readonly #stream: http2.ClientHttp2Stream;
  readonly #method: MethodDefinition<Request, Response, RequestInit, unknown, MethodKind>;
  readonly #options: CallOptions;
  readonly #deframer: MessageDeframer;
  // Invariant: at most queueMessagesMax responses wait here while the stream is flowing.
  readonly #queue: Response[] = [];
  #result: ClientError | null | undefined = undefined;
  #grpcStatus: { status: Status; message: string } | undefined;
  #responded = false;
  #wake: (() => void) | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  /** 'connect' if the call failed before any response header: the request cannot have been handled. */
  failureStage: FailureStage = 'server';

  constructor(session: http2.ClientHttp2Session, method: MethodDefinition<Request, Response, RequestInit, unknown, MethodKind>, options: CallOptions) {
    this.#method = method;
    this.#options = options;
    this.#deframer = new MessageDeframer(options.messageBytesMax, (payload, compressed) => this.#receive(payload, compressed));
    const headers: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': method.path, 'content-type': 'application/grpc', 'te': 'trailers', 'user-agent': 'keel-client/0.1' };
    // An infinite deadline (a watch) sends no grpc-timeout and arms no timer.
    if (Number.isFinite(options.deadline)) {
      const remainingMs = Math.max(1, Math.ceil(options.deadline - performance.now()));
      headers['grpc-timeout'] = `${remainingMs}m`;
      this.#timer = setTimeout(() => this.#fail(new ClientError(Status.DEADLINE_EXCEEDED, 'context deadline exceeded', { endpoint: options.endpoint })), remainingMs);
    }
    this.#stream = session.request(headers);
    this.#wire();
  }

  get endpoint(): string {
    return this.#options.endpoint;
  }

  #wire(): void {
    const stream = this.#stream;
    stream.on('response', (headers) => {
      this.#responded = true;
      const httpStatus = Number(headers[':status']);
      if (headers['grpc-status'] !== undefined) this.#recordStatus(headers);
      else if (httpStatus !== 200) this.#grpcStatus = { status: Status.UNAVAILABLE, message: `unexpected HTTP status ${httpStatus}` };
    });
    stream.on('trailers', (trailers) => this.#recordStatus(trailers));
    stream.on('data', (chunk: Buffer) => {
      try {
        this.#deframer.push(chunk);
      } catch (error) {
        this.#fail(new ClientError(Status.RESOURCE_EXHAUSTED, error instanceof Error ? error.message : String(error), { endpoint: this.endpoint }));
      }
    });
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (!this.#responded) this.failureStage = 'connect';
      this.#fail(new ClientError(Status.UNAVAILABLE, `connection to ${this.endpoint} failed: ${error.message}`, { endpoint: this.endpoint, cause: error }));
    });
    stream.on('close', () => this.#finish());
  }

  #recordStatus(headers: http2.IncomingHttpHeaders): void {
    const code = Number(headers['grpc-status']);
    const raw = headers['grpc-message'];
    const message = typeof raw === 'string' ? decodeGrpcMessage(raw) : '';
    this.#grpcStatus = { status: isStatus(code) ? code : Status.UNKNOWN, message };
  }

  #receive(payload: Uint8Array, compressed: boolean): boolean {
    if (compressed) {
      this.#fail(new ClientError(Status.INTERNAL, 'compressed responses are not supported', { endpoint: this.endpoint }));
      return false;
    }
    let response: Response;
    try {
      response = this.#method.decodeResponse(payload);
    } catch (error) {
      this.#fail(new ClientError(Status.INTERNAL, `malformed response: ${error instanceof Error ? error.message : String(error)}`, { endpoint: this.endpoint }));
      return false;
    }
    this.#queue.push(response);
    if (this.#queue.length >= this.#options.queueMessagesMax) this.#stream.pause();
    this.#notify();
    return true;
  }

  #finish(): void {
    if (this.#result !== undefined) return;
    const status = this.#grpcStatus;
    if (status === undefined) {
      if (!this.#responded) this.failureStage = 'connect';
      const code = this.#stream.rstCode ?? 0;
      this.#settle(new ClientError(Status.UNAVAILABLE, `stream to ${this.endpoint} closed without a status (HTTP/2 code ${code})`, { endpoint: this.endpoint }));
    } else if (status.status === Status.OK) {
      this.#settle(null);
    } else {
      this.#settle(new ClientError(status.status, status.message, { endpoint: this.endpoint }));
    }
  }

  #fail(error: ClientError): void {
    if (this.#result !== undefined) return;
    this.#settle(error);
    if (!this.#stream.destroyed) this.#stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  #settle(result: ClientError | null): void {
    this.#result = result;
    clearTimeout(this.#timer);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Sends one request message. */
  send(request: RequestInit): void {
    const frame = this.#method.encodeRequest(request, frameHeaderBytes);
    if (frame.length - frameHeaderBytes > this.#options.messageBytesMax) throw new ClientError(Status.RESOURCE_EXHAUSTED, `request of ${frame.length - frameHeaderBytes} bytes exceeds ${this.#options.messageBytesMax}`);
    writeFrameHeader(frame, false);
    if (this.#result === undefined && !this.#stream.destroyed) this.#stream.write(frame);
  }

  /** Half-closes: no more requests. */
  end(): void {
    if (!this.#stream.destroyed && !this.#stream.writableEnded) this.#stream.end();
  }

  /** Abandons the call (the server sees CANCELLED). */
  cancel(): void {
    this.#fail(new ClientError(Status.CANCELLED, 'context canceled', { endpoint: this.endpoint }));
  }

  /** The next response, or undefined when the call ended with OK. Throws the call's error. */
  async next(): Promise<Response | undefined> {
    while (true) {
      const response = this.#queue.shift();
      if (response !== undefined) {
        if (this.#queue.length < this.#options.queueMessagesMax && this.#stream.isPaused()) this.#stream.resume();
        return response;
      }
      if (this.#result === null) return undefined;
      if (this.#result !== undefined) throw this.#result;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Response> {
    try {
      while (true) {
        const response = await this.next();
        if (response === undefined) return;
        yield response;
      }
    } finally {
      if (this.#result === undefined) this.cancel();
    }
  }
}

/** Runs a unary call: one request, exactly one response. */
export async function unaryOn<Request, Response, RequestInit>(call: Call<Request, Response, RequestInit>, request: RequestInit): Promise<Response> {
  call.send(request);
  call.end();
  const response = await call.next();
  if (response === undefined) throw new ClientError(Status.INTERNAL, 'the server sent no response', { endpoint: call.endpoint });
  // Wait for the status: a response followed by an error status is an error.
  const extra = await call.next();
  if (extra !== undefined) throw new ClientError(Status.INTERNAL, 'the server sent more than one response', { endpoint: call.endpoint });
  return response;
}
