/**
 * GrpcServer options, their defaults (etcd's where etcd has one) and their validation.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { MethodKind } from '../proto/service.ts';

/** A request that is not gRPC (HTTP/1.1, or HTTP/2 without a gRPC content type): /metrics, /health, ... */
/** What an HTTP handler may use of a request, over HTTP/1.1 (node's IncomingMessage) or HTTP/2 (h2/http.ts). */
export interface HttpRequestView {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion: string;
}

/** What an HTTP handler may use of a response (node's ServerResponse, or h2/http.ts over HTTP/2). */
export interface HttpResponseView {
  readonly headersSent: boolean;
  statusCode: number;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  end(body?: string | Uint8Array): unknown;
}

export type HttpRequestHandler = (request: HttpRequestView, response: HttpResponseView) => void;

export interface GrpcServerOptions {
  /**
   * Largest request message accepted, in bytes, before decompression and after. etcd allows 1.5 MiB
   * requests plus 512 KiB of gRPC overhead; larger messages fail with RESOURCE_EXHAUSTED.
   */
  receiveMessageBytesMax?: number;
  /** Largest response message sent; etcd leaves this at 2^31 - 1. */
  sendMessageBytesMax?: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
  concurrentStreamsMax?: number;
  /** Decoded request messages a streaming call holds before the server stops reading its stream. */
  requestQueueMessagesMax?: number;
  /** Response bytes a streaming call may queue beyond what HTTP/2 has taken; see ServerStreamCall. */
  responseBufferBytesMax?: number;
  /** HTTP/2 per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE). */
  streamWindowBytes?: number;
  /** HTTP/2 per-connection receive window. */
  connectionWindowBytes?: number;
  /** HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE. */
  headerListBytesMax?: number;
  /** Output one HTTP/2 connection may hold for a client that stops reading, in megabytes; past it the connection is closed. */
  sessionMemoryMegabytesMax?: number;
  /** Server-initiated keepalive ping interval; 0 disables. etcd's default is 2 hours. */
  keepaliveIntervalMs?: number;
  /** A connection whose ping is not answered within this time is closed. etcd's default is 20 s. */
  keepaliveTimeoutMs?: number;
  /** How long a new connection may take to send its first bytes before it is dropped. */
  protocolSniffTimeoutMs?: number;
  /** Serves requests that are not gRPC on the same port. Without it they get 404. */
  onHttpRequest?: HttpRequestHandler;
  /** Told about errors that are not a client's fault: handler bugs, session failures. */
  onError?: (error: unknown, where: string) => void;
  /** Told when each call to a registered method starts and ends (metrics). */
  metrics?: GrpcCallObserver;
}

/** Per-call instrumentation. Runs on every call: it must not allocate (cache one recorder per method). */
export interface GrpcCallObserver {
  callStarted(path: string, kind: MethodKind): GrpcCallRecorder;
}

export interface GrpcCallRecorder {
  /** The call's status was decided (or the client went away: CANCELLED), `seconds` after it started. */
  callEnded(status: number, seconds: number): void;
}

export type ResolvedGrpcServerOptions = Required<Omit<GrpcServerOptions, 'onHttpRequest' | 'onError' | 'metrics'>> & Pick<GrpcServerOptions, 'onHttpRequest' | 'onError' | 'metrics'>;

const mebibyte = 1024 * 1024;

export const grpcServerDefaults = {
  receiveMessageBytesMax: 1.5 * mebibyte + 512 * 1024,
  sendMessageBytesMax: 0x7fffffff,
  concurrentStreamsMax: 1024,
  requestQueueMessagesMax: 64,
  responseBufferBytesMax: 4 * mebibyte,
  streamWindowBytes: 1 * mebibyte,
  connectionWindowBytes: 8 * mebibyte,
  headerListBytesMax: 64 * 1024,
  sessionMemoryMegabytesMax: 64,
  keepaliveIntervalMs: 2 * 60 * 60 * 1000,
  keepaliveTimeoutMs: 20_000,
  protocolSniffTimeoutMs: 10_000,
} as const satisfies Required<Omit<GrpcServerOptions, 'onHttpRequest' | 'onError' | 'metrics'>>;

/** HTTP/2 caps every window at 2^31 - 1 (RFC 9113 §6.9.1). */
const windowBytesMax = 0x7fffffff;
/** The gRPC length prefix is 32 bits. */
const messageBytesLimit = 0xffffffff;

/** Thrown for an option outside its range; `code` is stable. */
export class GrpcOptionsError extends Error {
  readonly code = 'GRPC_INVALID_OPTIONS';
  constructor(message: string) {
    super(message);
    this.name = 'GrpcOptionsError';
  }
}

/**
 * Fills in defaults and checks every bound and the relationships between them.
 *
 * @example
 * const options = validateGrpcServerOptions({ receiveMessageBytesMax: 4 << 20 });
 */
export function validateGrpcServerOptions(input: GrpcServerOptions = {}): ResolvedGrpcServerOptions {
  const options: ResolvedGrpcServerOptions = { ...grpcServerDefaults, ...definedOnly(input) };
  checkInteger('receiveMessageBytesMax', options.receiveMessageBytesMax, 0, messageBytesLimit);
  checkInteger('sendMessageBytesMax', options.sendMessageBytesMax, 0, messageBytesLimit);
  checkInteger('concurrentStreamsMax', options.concurrentStreamsMax, 1, 0xffffffff);
  checkInteger('requestQueueMessagesMax', options.requestQueueMessagesMax, 1, 1 << 20);
  checkInteger('responseBufferBytesMax', options.responseBufferBytesMax, 1, windowBytesMax);
  checkInteger('streamWindowBytes', options.streamWindowBytes, 65_535, windowBytesMax);
  checkInteger('connectionWindowBytes', options.connectionWindowBytes, 65_535, windowBytesMax);
  checkInteger('headerListBytesMax', options.headerListBytesMax, 1024, 0xffffffff);
  checkInteger('sessionMemoryMegabytesMax', options.sessionMemoryMegabytesMax, 1, 1 << 16);
  checkInteger('keepaliveIntervalMs', options.keepaliveIntervalMs, 0, 0x7fffffff);
  checkInteger('keepaliveTimeoutMs', options.keepaliveTimeoutMs, 1, 0x7fffffff);
  checkInteger('protocolSniffTimeoutMs', options.protocolSniffTimeoutMs, 1, 0x7fffffff);
  // A connection window smaller than one stream's would let one stream starve the rest.
  if (options.connectionWindowBytes < options.streamWindowBytes) {
    throw new GrpcOptionsError('connectionWindowBytes must be at least streamWindowBytes');
  }
  if (options.keepaliveIntervalMs !== 0 && options.keepaliveTimeoutMs >= options.keepaliveIntervalMs) {
    throw new GrpcOptionsError('keepaliveTimeoutMs must be shorter than keepaliveIntervalMs');
  }
  return options;
}

function definedOnly(input: GrpcServerOptions): GrpcServerOptions {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as GrpcServerOptions;
}

function checkInteger(name: string, value: number, minimum: number, maximum: number): void {
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    throw new GrpcOptionsError(`${name} must be an integer from ${minimum} to ${maximum}, not ${value}`);
  }
}
