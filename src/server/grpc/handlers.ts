/**
 * Method handlers: what a service implementation hands the server. Each pairs a request decoder and a
 * response encoder with the function that serves the call, tagged with how many messages flow each way.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { MethodDefinition, MethodKind, ServiceDefinition } from '../proto/service.ts';
import type { RequestStream } from './request-stream.ts';
import { GrpcError, Status } from './status.ts';

/**
 * The part of an AbortSignal that waiting on a call needs. A call's `cancellation` offers it without
 * creating an AbortController (which costs more than a small unary call's whole handling); an AbortSignal
 * satisfies it too.
 */
export interface Cancellation {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** What every handler learns about its call. */
export interface CallContext {
  /** Aborted when the client cancels, the deadline passes or the server shuts down; `reason` is a GrpcError. */
  readonly signal: AbortSignal;
  /** The same events as `signal`, without an AbortController: for waits on the hot path. */
  readonly cancellation: Cancellation;
  /** Size in bytes of the last request message received (uncompressed): etcd's request size limit. */
  readonly requestBytes: number;
  /** Whether the call has ended from the server's point of view (status decided or stream gone). */
  readonly ended: boolean;
  /** Absolute deadline in ms since the epoch (from `grpc-timeout`), or undefined for none. */
  readonly deadlineMs: number | undefined;
  /** The HTTP/2 `:path`, e.g. `/etcdserverpb.KV/Range`. */
  readonly path: string;
  /** Request headers: gRPC metadata plus HTTP/2 pseudo-headers. Binary (`-bin`) values stay base64. */
  readonly metadata: IncomingHttpHeaders;
  /** `address:port` of the client. */
  readonly peer: string;
  /** One request metadata value (the first, if repeated). */
  metadataValue(key: string): string | undefined;
  /** Adds a response header; only before the first response message is written. */
  setHeader(key: string, value: string): void;
  /** Adds a response trailer, sent with the status. */
  setTrailer(key: string, value: string): void;
}

/**
 * The response side of a server-streaming or bidirectional call.
 *
 * `write()` hands a message to HTTP/2 and returns false when the caller should wait for `drained()`
 * before writing more: the client (or the network) is slower than the handler. Writing on regardless is
 * refused once `bufferedBytes` would pass the server's `responseBufferBytesMax`, so a slow client can never
 * make the server buffer without bound.
 *
 * @example
 * for (const event of events) await call.send(event);
 */
export interface ServerStreamCall<Response> extends CallContext {
  /** Queues one message. Throws GrpcError if the call has ended or the buffer bound would be passed. */
  write(message: Response): boolean;
  /** Resolves when the buffer has room again; rejects with the call's GrpcError if the call ends first. */
  drained(): Promise<void>;
  /** `write()`, then `drained()` if the buffer is full. */
  send(message: Response): Promise<void>;
  /** Response bytes accepted by `write()` but not yet taken by HTTP/2. */
  readonly bufferedBytes: number;
}

type Awaitable<T> = T | Promise<T>;

// Method syntax (not arrow properties) keeps parameters bivariant, so that a handler for a concrete
// request type can be stored as a MethodHandler<unknown, unknown>.
interface MethodHandlerBase<Request, Response> {
  decodeRequest(bytes: Uint8Array): Request;
  /** Must leave the first `reservedBytes` bytes of its result free for the frame header. */
  encodeResponse(message: Response, reservedBytes: number): Uint8Array;
}

export interface UnaryMethodHandler<Request, Response> extends MethodHandlerBase<Request, Response> {
  readonly kind: 'unary';
  handle(request: Request, context: CallContext): Awaitable<Response>;
}

export interface ServerStreamMethodHandler<Request, Response> extends MethodHandlerBase<Request, Response> {
  readonly kind: 'server-stream';
  handle(request: Request, call: ServerStreamCall<Response>): Awaitable<void>;
}

export interface ClientStreamMethodHandler<Request, Response> extends MethodHandlerBase<Request, Response> {
  readonly kind: 'client-stream';
  handle(requests: RequestStream<Request>, context: CallContext): Awaitable<Response>;
}

export interface BidirectionalStreamMethodHandler<Request, Response> extends MethodHandlerBase<Request, Response> {
  readonly kind: 'bidirectional-stream';
  handle(requests: RequestStream<Request>, call: ServerStreamCall<Response>): Awaitable<void>;
}

export type MethodHandler<Request = unknown, Response = unknown> =
  | UnaryMethodHandler<Request, Response>
  | ServerStreamMethodHandler<Request, Response>
  | ClientStreamMethodHandler<Request, Response>
  | BidirectionalStreamMethodHandler<Request, Response>;

type Decoder<T> = (bytes: Uint8Array) => T;
type Encoder<T> = (message: T, reservedBytes: number) => Uint8Array;

/**
 * A unary method: one request, one response.
 *
 * @example
 * server.addService('etcdserverpb.KV', { Range: unary(decodeRangeRequest, encodeRangeResponse, async (request) => ({ count: 0 })) });
 */
export function unary<Request, Response>(decodeRequest: Decoder<Request>, encodeResponse: Encoder<Response>, handle: (request: Request, context: CallContext) => Awaitable<Response>): UnaryMethodHandler<Request, Response> {
  return { kind: 'unary', decodeRequest, encodeResponse, handle };
}

/**
 * One request, a stream of responses (etcd's Snapshot).
 *
 * @example
 * serverStream(decodeSnapshotRequest, encodeSnapshotResponse, async (request, call) => { await call.send({ blob }); });
 */
export function serverStream<Request, Response>(decodeRequest: Decoder<Request>, encodeResponse: Encoder<Response>, handle: (request: Request, call: ServerStreamCall<Response>) => Awaitable<void>): ServerStreamMethodHandler<Request, Response> {
  return { kind: 'server-stream', decodeRequest, encodeResponse, handle };
}

/**
 * A stream of requests, one response.
 *
 * @example
 * clientStream(decode, encode, async (requests) => { let count = 0; for await (const _ of requests) count++; return { count }; });
 */
export function clientStream<Request, Response>(decodeRequest: Decoder<Request>, encodeResponse: Encoder<Response>, handle: (requests: RequestStream<Request>, context: CallContext) => Awaitable<Response>): ClientStreamMethodHandler<Request, Response> {
  return { kind: 'client-stream', decodeRequest, encodeResponse, handle };
}

/**
 * Streams both ways, independently (etcd's Watch and LeaseKeepAlive).
 *
 * @example
 * bidirectionalStream(decode, encode, async (requests, call) => { for await (const request of requests) await call.send(answer(request)); });
 */
export function bidirectionalStream<Request, Response>(decodeRequest: Decoder<Request>, encodeResponse: Encoder<Response>, handle: (requests: RequestStream<Request>, call: ServerStreamCall<Response>) => Awaitable<void>): BidirectionalStreamMethodHandler<Request, Response> {
  return { kind: 'bidirectional-stream', decodeRequest, encodeResponse, handle };
}

// ---------------------------------------------------------------------------------------------------
// Typed implementations of generated service definitions
// ---------------------------------------------------------------------------------------------------

/** The function a service implementation provides for one method definition. */
export type MethodImplementation<Definition> =
  Definition extends MethodDefinition<infer Request, infer _Response, infer _RequestInit, infer ResponseInit, infer Kind>
    ? Kind extends 'unary' ? (request: Request, context: CallContext) => Awaitable<ResponseInit>
      : Kind extends 'server-stream' ? (request: Request, call: ServerStreamCall<ResponseInit>) => Awaitable<void>
        : Kind extends 'client-stream' ? (requests: RequestStream<Request>, context: CallContext) => Awaitable<ResponseInit>
          : (requests: RequestStream<Request>, call: ServerStreamCall<ResponseInit>) => Awaitable<void>
    : never;

/**
 * Handlers for a generated service, by method name. A method left out answers UNIMPLEMENTED, as a
 * grpc-go server built on the generated `Unimplemented...Server` does.
 */
export type ServiceImplementation<Definition extends ServiceDefinition> = {
  readonly [Name in keyof Definition['methods']]?: MethodImplementation<Definition['methods'][Name]>;
};

/**
 * Turns a typed implementation of a generated service into method handlers for `GrpcServer.addService`.
 *
 * @example
 * const handlers = implementService(KVService, { Range: async (request) => ({ kvs: [], count: 0 }) });
 */
export function implementService<Definition extends ServiceDefinition>(definition: Definition, implementation: ServiceImplementation<Definition>): Record<string, MethodHandler> {
  const handlers: Record<string, MethodHandler> = {};
  for (const [name, method] of Object.entries(definition.methods)) {
    const handle = (implementation as Record<string, ((...parameters: never[]) => unknown) | undefined>)[name];
    handlers[name] = handle === undefined ? unimplementedHandler(method.kind, name) : toHandler(method.kind, method, handle);
  }
  return handlers;
}

function toHandler(kind: MethodKind, method: ServiceDefinition['methods'][string], handle: (...parameters: never[]) => unknown): MethodHandler {
  const decodeRequest = (bytes: Uint8Array): unknown => method.decodeRequest(bytes);
  const encodeResponse = (message: unknown, reservedBytes: number): Uint8Array => method.encodeResponse(message, reservedBytes);
  return { kind, decodeRequest, encodeResponse, handle } as MethodHandler;
}

function unimplementedHandler(kind: MethodKind, name: string): MethodHandler {
  const handle = (): never => {
    throw new GrpcError(Status.UNIMPLEMENTED, `method ${name} not implemented`);
  };
  const decodeRequest = (): undefined => undefined;
  const encodeResponse = (): Uint8Array => {
    throw new GrpcError(Status.INTERNAL, 'unimplemented method produced a response');
  };
  return { kind, decodeRequest, encodeResponse, handle } as MethodHandler;
}
