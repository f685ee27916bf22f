// A minimal gRPC client on node:http2 for the tests: frames messages, collects responses and the status.
// Deliberately independent of the server's code paths except the shared framing constants.
import http2 from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { GrpcServer } from '../../../src/server/grpc/index.ts';
import type { GrpcServerOptions } from '../../../src/server/grpc/index.ts';

export interface CallResult {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
  readonly messages: Uint8Array[];
  /** grpc-status, from the trailers or from a trailers-only response. */
  readonly status: number | undefined;
  readonly statusMessage: string | undefined;
  /** The status came in the response HEADERS frame (no trailers frame). */
  readonly trailersOnly: boolean;
  readonly httpStatus: number | undefined;
}

export function frame(payload: Uint8Array, compressed = false): Buffer {
  const framed = Buffer.alloc(5 + payload.length);
  framed[0] = compressed ? 1 : 0;
  framed.writeUInt32BE(payload.length, 1);
  framed.set(payload, 5);
  return framed;
}

export function gzipFrame(payload: Uint8Array): Buffer {
  return frame(zlib.gzipSync(payload), true);
}

/** Splits a response body into message payloads. */
export function deframe(body: Buffer): Uint8Array[] {
  const messages: Uint8Array[] = [];
  let offset = 0;
  while (offset + 5 <= body.length) {
    const length = body.readUInt32BE(offset + 1);
    messages.push(new Uint8Array(body.subarray(offset + 5, offset + 5 + length)));
    offset += 5 + length;
  }
  if (offset !== body.length) throw new Error(`trailing ${body.length - offset} bytes in the response body`);
  return messages;
}

export interface OpenCall {
  readonly stream: ClientHttp2Stream;
  readonly result: Promise<CallResult>;
  send(payload: Uint8Array): boolean;
  end(): void;
}

/** Opens a call; with `endAfter`, the given payloads are sent and the stream half-closed at once. */
export function openCall(session: ClientHttp2Session, path: string, options: { headers?: Record<string, string>; payloads?: Uint8Array[]; endAfter?: boolean } = {}): OpenCall {
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...options.headers,
  });
  const result = new Promise<CallResult>((resolve, reject) => {
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (received) => (headers = received));
    stream.on('trailers', (received) => (trailers = received));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      const trailersOnly = headers['grpc-status'] !== undefined;
      const source = trailersOnly ? headers : trailers;
      const status = source['grpc-status'];
      const statusMessage = source['grpc-message'];
      resolve({
        headers,
        trailers,
        messages: deframe(Buffer.concat(chunks)),
        status: status === undefined ? undefined : Number(status),
        statusMessage: typeof statusMessage === 'string' ? statusMessage : undefined,
        trailersOnly,
        httpStatus: headers[':status'] === undefined ? undefined : Number(headers[':status']),
      });
    });
  });
  for (const payload of options.payloads ?? []) stream.write(frame(payload));
  if (options.endAfter ?? true) stream.end();
  return {
    stream,
    result,
    send: (payload) => stream.write(frame(payload)),
    end: () => stream.end(),
  };
}

export function unaryCall(session: ClientHttp2Session, path: string, payload: Uint8Array, headers?: Record<string, string>): Promise<CallResult> {
  return openCall(session, path, { payloads: [payload], headers }).result;
}

export function connect(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** A server on 127.0.0.1:0 plus a connected client session; `close()` tears both down. */
export async function startServer(setup: (server: GrpcServer) => void, options: GrpcServerOptions = {}): Promise<{ server: GrpcServer; port: number; session: ClientHttp2Session; close(): Promise<void> }> {
  const server = new GrpcServer(options);
  setup(server);
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const session = await connect(port);
  session.on('error', () => {});
  return {
    server,
    port,
    session,
    async close() {
      session.destroy();
      await server.close({ graceMs: 1_000 });
    },
  };
}

/** Waits until `condition` holds, checking every few milliseconds; fails after `limitMs`. */
export async function waitFor(condition: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const fromText = (value: Uint8Array): string => new TextDecoder().decode(value);

/** A hung call fails its test instead of stalling the run. */
export const limits = { timeout: 20_000 };
export const identity = (bytes: Uint8Array): Uint8Array => bytes;
/** An encoder for raw bytes that honours the reserved frame-header room. */
export const rawEncoder = (message: Uint8Array, reservedBytes: number): Uint8Array => {
  const output = Buffer.alloc(reservedBytes + message.length);
  output.set(message, reservedBytes);
  return output;
};
