/**
 * A lean gRPC server (PROTOCOL-HTTP2.md) on keel's own HTTP/2 layer (h2/connection.ts), with plain HTTP on
 * the same port.
 *
 * Connections are sniffed (sniff.ts): HTTP/2 goes to an H2Connection, HTTP/1.1 to an http.Server. HTTP/2
 * requests without a gRPC content type are handed to `onHttpRequest` too, through small request/response
 * objects (h2/http.ts).
 */
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http2';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { ServiceDefinition } from '../proto/service.ts';
import { ServerCall } from './call.ts';
import { encodeHeaderObject, ErrorCode, H2Connection, type H2Stream } from './h2/index.ts';
import { H2HttpRequest, H2HttpResponse } from './h2/http.ts';
import type { CallLimits, CallOwner } from './call.ts';
import { acceptedEncodings, parseGrpcTimeout, parseMessageEncoding } from './framing.ts';
import { implementService } from './handlers.ts';
import type { MethodHandler, ServiceImplementation } from './handlers.ts';
import { validateGrpcServerOptions } from './options.ts';
import type { GrpcServerOptions, ResolvedGrpcServerOptions } from './options.ts';
import { sniffProtocol } from './sniff.ts';
import type { SniffedProtocol } from './sniff.ts';
import { encodeGrpcMessage, GrpcError, Status } from './status.ts';

/** How long `close()` lets calls finish before it cancels them, unless told otherwise. */
export const shutdownGraceMsDefault = 5_000;

type ServerState = 'idle' | 'listening' | 'draining' | 'closed';

/**
 * A gRPC server. Register services, listen, and close gracefully.
 *
 * @example
 * const server = new GrpcServer({ onHttpRequest: (request, response) => response.end('ok') });
 * server.addService(KVService, { Range: async (request, context) => ({ kvs: [], count: 0 }) });
 * const address = await server.listen({ host: '127.0.0.1', port: 2379 });
 * await server.close();
 */
export class GrpcServer implements CallOwner {
  readonly limits: CallLimits;
  readonly #options: ResolvedGrpcServerOptions;
  /** `:path` → handler. */
  readonly #methods = new Map<string, MethodHandler>();
  readonly #services = new Set<string>();
  readonly #http1Server: http.Server;
  #listener: net.Server | undefined;
  #state: ServerState = 'idle';
  /** Every accepted socket, until it closes; force-closed at the end of shutdown. */
  readonly #sockets = new Set<Socket>();
  /** Sockets whose protocol is not known yet. */
  readonly #sniffing = new Set<Socket>();
  readonly #connections = new Set<H2Connection>();
  /** HTTP/1 sockets → requests in flight on each, so idle ones can be closed on shutdown. */
  readonly #http1Sockets = new Map<Socket, number>();
  readonly #calls = new Set<ServerCall>();
  #idleWaiters: (() => void)[] = [];
  #closedWaiters: (() => void)[] = [];

  constructor(options: GrpcServerOptions = {}) {
    this.#options = validateGrpcServerOptions(options);
    this.limits = {
      receiveMessageBytesMax: this.#options.receiveMessageBytesMax,
      sendMessageBytesMax: this.#options.sendMessageBytesMax,
      requestQueueMessagesMax: this.#options.requestQueueMessagesMax,
      responseBufferBytesMax: this.#options.responseBufferBytesMax,
    };
    this.#http1Server = http.createServer((request, response) => this.#onHttp1Request(request, response));
    this.#http1Server.on('clientError', (_error, socket) => socket.destroy());
  }

  /**
   * Registers a service: either a generated definition and a typed implementation, or a service name
   * and method handlers built with `unary()`, `serverStream()`, ... Methods are keyed by name.
   */
  addService<Definition extends ServiceDefinition>(definition: Definition, implementation: ServiceImplementation<Definition>): this;
  addService(name: string, handlers: Readonly<Record<string, MethodHandler>>): this;
  addService(service: string | ServiceDefinition, handlers: object): this {
    const name = typeof service === 'string' ? service : service.name;
    const methods = typeof service === 'string'
      ? handlers as Readonly<Record<string, MethodHandler>>
      : implementService(service, handlers as ServiceImplementation<ServiceDefinition>);
    if (!/^[A-Za-z_][\w.]*$/.test(name)) throw new TypeError(`not a gRPC service name: ${name}`);
    if (this.#services.has(name)) throw new TypeError(`service ${name} is already registered`);
    this.#services.add(name);
    for (const [method, handler] of Object.entries(methods)) this.#methods.set(`/${name}/${method}`, handler);
    return this;
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  async listen(options: { host?: string; port?: number } = {}): Promise<AddressInfo> {
    if (this.#state !== 'idle') throw new Error(`cannot listen: the server is ${this.#state}`);
    this.#state = 'listening';
    const listener = net.createServer({ noDelay: true }, (socket) => this.acceptConnection(socket));
    this.#listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        listener.off('error', reject);
        resolve();
      });
    });
    return this.address!;
  }

  get address(): AddressInfo | undefined {
    const address = this.#listener?.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  /** Calls whose streams are still open. */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /** Open connections of either protocol. */
  get activeConnections(): number {
    return this.#sockets.size;
  }

  /**
   * Serves a connection accepted elsewhere (another listener, a test). The first bytes decide between
   * HTTP/2 and HTTP/1.1.
   */
  acceptConnection(socket: Socket): void {
    if (this.#state === 'draining' || this.#state === 'closed') {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    this.#sniffing.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#sniffing.delete(socket);
      this.#http1Sockets.delete(socket);
      this.#checkIdle();
    });
    sniffProtocol(socket, this.#options.protocolSniffTimeoutMs, (protocol) => {
      this.#sniffing.delete(socket);
      try {
        this.#route(socket, protocol);
      } catch (error) {
        this.#report(error, 'connection');
        socket.destroy();
      }
    });
  }

  #route(socket: Socket, protocol: SniffedProtocol): void {
    if (protocol === 'http2') {
      this.#onHttp2Connection(socket);
      return;
    }
    this.#http1Sockets.set(socket, 0);
    this.#http1Server.emit('connection', socket);
    socket.resume();
  }

  /**
   * Graceful shutdown: stop accepting, send GOAWAY so clients open no new streams, let calls in flight
   * finish for up to `graceMs`, then cancel the rest (UNAVAILABLE) and close every connection.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'draining') return this.#waitForClosed();
    const graceMs = options.graceMs ?? shutdownGraceMsDefault;
    this.#state = 'draining';
    const listenerClosed = new Promise<void>((resolve) => (this.#listener === undefined ? resolve() : this.#listener.close(() => resolve())));
    for (const connection of this.#connections) connection.close();
    for (const [socket, inFlight] of this.#http1Sockets) if (inFlight === 0) socket.destroy();
    for (const socket of this.#sniffing) socket.destroy();
    await this.#waitIdle(graceMs);
    const shutdown = new GrpcError(Status.UNAVAILABLE, 'grpc: the server is shutting down');
    for (const call of this.#calls) call.cancel(shutdown);
    for (const connection of this.#connections) connection.destroy();
    // A destroyed socket reports 'close' on a later tick; close() resolves once every one has.
    const socketsClosed = [...this.#sockets].map((socket) => new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    }));
    await Promise.all([listenerClosed, ...socketsClosed]);
    this.#state = 'closed';
    for (const waiter of this.#closedWaiters.splice(0)) waiter();
  }

  #waitForClosed(): Promise<void> {
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  // -------------------------------------------------------------------------------------------------
  // CallOwner
  // -------------------------------------------------------------------------------------------------

  callClosed(call: ServerCall): void {
    this.#calls.delete(call);
    this.#checkIdle();
  }

  reportError(error: unknown, call: ServerCall): void {
    this.#report(error, `call ${call.path}`);
  }

  // -------------------------------------------------------------------------------------------------
  // HTTP/2
  // -------------------------------------------------------------------------------------------------

  #onHttp2Connection(socket: Socket): void {
    const options = this.#options;
    const connection = new H2Connection(socket, {
      concurrentStreamsMax: options.concurrentStreamsMax,
      streamWindowBytes: options.streamWindowBytes,
      connectionWindowBytes: options.connectionWindowBytes,
      headerListBytesMax: options.headerListBytesMax,
      // Unread output is bounded by the windows the client grants; this only catches a peer that stops reading.
      outputBytesMax: options.sessionMemoryMegabytesMax * 1024 * 1024,
      onStream: (stream, headers) => {
        // An exception escaping here would take the whole connection down.
        try {
          this.#onStream(stream, headers);
        } catch (error) {
          this.#report(error, `stream ${String(headers[':path'])}`);
          stream.reset(ErrorCode.InternalError);
        }
      },
      onError: (error) => this.#report(error, 'http2 connection'),
    });
    this.#connections.add(connection);
    if (this.#state === 'draining') connection.close();
    const pinger = this.#startKeepalive(connection);
    connection.onClose(() => {
      if (pinger !== undefined) clearInterval(pinger);
      this.#connections.delete(connection);
      this.#checkIdle();
    });
  }

  /** Pings an idle-looking connection now and then; one that does not answer in time is closed. */
  #startKeepalive(connection: H2Connection): NodeJS.Timeout | undefined {
    const { keepaliveIntervalMs, keepaliveTimeoutMs } = this.#options;
    if (keepaliveIntervalMs === 0) return undefined;
    const pinger = setInterval(() => {
      if (connection.closed) return;
      const deadline = setTimeout(() => connection.destroy(), keepaliveTimeoutMs);
      deadline.unref();
      if (!connection.ping(() => clearTimeout(deadline))) clearTimeout(deadline);
    }, keepaliveIntervalMs);
    pinger.unref();
    return pinger;
  }

  #onStream(stream: H2Stream, headers: IncomingHttpHeaders): void {
    const contentType = headers['content-type'];
    if (!isGrpcContentType(contentType)) {
      this.#onHttp2Request(stream, headers);
      return;
    }
    const refusal = this.#checkRequest(headers);
    if (refusal !== undefined) {
      respondTrailersOnly(stream, refusal);
      return;
    }
    const handler = this.#methods.get(headers[':path']!)!;
    let timeoutMs: number | undefined;
    try {
      timeoutMs = parseGrpcTimeout(singleHeader(headers['grpc-timeout']));
    } catch (error) {
      respondTrailersOnly(stream, error as GrpcError);
      return;
    }
    const encoding = parseMessageEncoding(singleHeader(headers['grpc-encoding']))!;
    const recorder = this.#options.metrics?.callStarted(headers[':path']!, handler.kind);
    this.#calls.add(new ServerCall(this, stream, { headers, handler, encoding, timeoutMs, recorder }));
  }

  /** Why a gRPC request cannot be served, or undefined when it can. */
  #checkRequest(headers: IncomingHttpHeaders): GrpcError | undefined {
    if (this.#state !== 'listening' && this.#state !== 'idle') return new GrpcError(Status.UNAVAILABLE, 'grpc: the server is shutting down');
    if (headers[':method'] !== 'POST') return new GrpcError(Status.UNIMPLEMENTED, `grpc: method ${headers[':method']} is not POST`);
    const path = headers[':path'] ?? '';
    if (!this.#methods.has(path)) return unknownMethodError(path, this.#services);
    const encoding = singleHeader(headers['grpc-encoding']);
    if (parseMessageEncoding(encoding) === undefined) {
      return new GrpcError(Status.UNIMPLEMENTED, `grpc: Decompressor is not installed for grpc-encoding "${encoding}"`, { trailers: { 'grpc-accept-encoding': acceptedEncodings } });
    }
    return undefined;
  }

  #onHttp2Request(stream: H2Stream, headers: IncomingHttpHeaders): void {
    const handler = this.#options.onHttpRequest;
    const response = new H2HttpResponse(stream, headers[':method'] === 'HEAD');
    if (handler === undefined || headers[':method'] === 'CONNECT') {
      response.writeHead(handler === undefined ? 404 : 405).end();
      return;
    }
    this.#runHttpHandler(() => handler(new H2HttpRequest(headers), response), response);
  }

  // -------------------------------------------------------------------------------------------------
  // HTTP/1.1
  // -------------------------------------------------------------------------------------------------

  #onHttp1Request(request: http.IncomingMessage, response: http.ServerResponse): void {
    const socket = request.socket;
    this.#http1Sockets.set(socket, (this.#http1Sockets.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const inFlight = (this.#http1Sockets.get(socket) ?? 1) - 1;
      this.#http1Sockets.set(socket, inFlight);
      // While draining, a connection is closed as soon as its last request is answered.
      if (inFlight === 0 && this.#state === 'draining') socket.destroySoon();
    });
    if (this.#state === 'draining') response.shouldKeepAlive = false;
    const handler = this.#options.onHttpRequest;
    if (handler === undefined) {
      response.writeHead(404).end();
      return;
    }
    this.#runHttpHandler(() => handler(request, response), response);
  }

  #runHttpHandler(run: () => void, response: http.ServerResponse | H2HttpResponse): void {
    try {
      run();
    } catch (error) {
      this.#report(error, 'http handler');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Shutdown bookkeeping
  // -------------------------------------------------------------------------------------------------

  /** Resolves when no call, HTTP/2 connection or socket is left, or after `graceMs`. */
  #waitIdle(graceMs: number): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, graceMs);
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#idleWaiters.push(finish);
    });
  }

  #isIdle(): boolean {
    return this.#calls.size === 0 && this.#connections.size === 0 && this.#sockets.size === 0;
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  #report(error: unknown, where: string): void {
    try {
      this.#options.onError?.(error, where);
    } catch {
      // A failing error hook must not take the server down with it.
    }
  }
}

function isGrpcContentType(value: string | undefined): boolean {
  if (value === undefined || !value.startsWith('application/grpc')) return false;
  const next = value.charCodeAt(16);
  // Exactly application/grpc, or a subtype (+proto) or parameters; not application/grpc-web.
  return value.length === 16 || next === 0x2b || next === 0x3b;
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** grpc-go's wording, which etcd clients surface verbatim. */
function unknownMethodError(path: string, services: ReadonlySet<string>): GrpcError {
  const separator = path.lastIndexOf('/');
  if (!path.startsWith('/') || separator <= 0) return new GrpcError(Status.UNIMPLEMENTED, `malformed method name: "${path}"`);
  const service = path.slice(1, separator);
  const method = path.slice(separator + 1);
  if (!services.has(service)) return new GrpcError(Status.UNIMPLEMENTED, `unknown service ${service}`);
  return new GrpcError(Status.UNIMPLEMENTED, `unknown method ${method} for service ${service}`);
}

function respondTrailersOnly(stream: H2Stream, error: GrpcError): void {
  if (stream.closed) return;
  stream.respond(encodeHeaderObject({
    ':status': 200,
    'content-type': 'application/grpc',
    ...error.trailers,
    'grpc-status': String(error.status),
    'grpc-message': encodeGrpcMessage(error.message),
  }), true);
  // Whatever the client still sends is dropped (the stream has no consumer); a client that has not
  // half-closed is reset (NO_ERROR) once the status is out, as grpc-go does.
  stream.closeWhenFlushed();
}
