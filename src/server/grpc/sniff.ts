/**
 * Cleartext HTTP/2 (h2c with prior knowledge, which is what gRPC clients speak) and HTTP/1.1 on one port.
 * Node's `allowHTTP1` only works over TLS, so the first bytes of each connection decide: the HTTP/2
 * client preface (RFC 9113 §3.4) means HTTP/2, anything else HTTP/1.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';

/** Every HTTP/2 connection starts with these 24 bytes. */
export const http2Preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type SniffedProtocol = 'http2' | 'http1';

/**
 * Decides from as few bytes as possible: a byte that differs from the preface means HTTP/1; all 24
 * matching means HTTP/2; otherwise undefined (read more).
 */
export function classifyPrefix(prefix: Uint8Array): SniffedProtocol | undefined {
  const compared = Math.min(prefix.length, http2Preface.length);
  for (let index = 0; index < compared; index++) {
    if (prefix[index] !== http2Preface[index]) return 'http1';
  }
  return compared === http2Preface.length ? 'http2' : undefined;
}

/**
 * Reads the first bytes of `socket`, puts them back, and calls `route` with the protocol. A socket that
 * sends nothing decisive within `timeoutMs` (or errors, or closes) is destroyed without calling `route`.
 * Reading is bounded: at most the preface's 24 bytes are needed, and `data` events are coalesced only
 * until then.
 *
 * @example
 * sniffProtocol(socket, 10_000, (protocol) => (protocol === 'http2' ? h2 : h1).emit('connection', socket));
 */
export function sniffProtocol(socket: Socket, timeoutMs: number, route: (protocol: SniffedProtocol) => void): void {
  let received: Buffer | undefined;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  timer.unref();
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('close', onClose);
  };
  const onData = (chunk: Buffer): void => {
    received = received === undefined ? chunk : Buffer.concat([received, chunk]);
    const protocol = classifyPrefix(received);
    if (protocol === undefined) return;
    cleanup();
    socket.pause();
    socket.unshift(received);
    route(protocol);
  };
  const onError = (): void => {
    cleanup();
    socket.destroy();
  };
  const onClose = (): void => cleanup();
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
}
