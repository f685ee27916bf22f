/**
 * Serving the API on `node:http` with bounded connections, headers and request times, at a Prometheus-style
 * listen address (`0.0.0.0:9090`, `:9090`, `[::1]:9090`, `localhost:0`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Prometheus's `--web.max-connections` default. */
export const connectionsMax = 512;
/** Largest request head (request line and headers). A long GET query fits; longer ones should POST. */
export const requestHeaderBytesMax = 64 * 1024;
/** Longest a client may take to send its request head. */
export const requestHeadersTimeoutMs = 60_000;
/** Longest a whole request may take, query included (above the 2-minute query timeout). */
export const requestTimeoutMs = 5 * 60_000;
/** How long `close()` lets requests in flight finish before cutting connections. */
export const closeGraceMs = 5000;

export interface ListenAddress {
  /** Undefined for every interface (`:9090`). */
  readonly host: string | undefined;
  readonly port: number;
}

/**
 * Parses `host:port`, `:port` or `[ipv6]:port`. Throws a RangeError naming the problem.
 *
 * @example
 * parseListenAddress(':9090'); // { host: undefined, port: 9090 }
 * parseListenAddress('[::1]:9090'); // { host: '::1', port: 9090 }
 */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (match === null) throw new RangeError(`listen address ${JSON.stringify(text)} is not host:port (for example 0.0.0.0:9090 or :9090)`);
  const port = Number(match[3]);
  if (port > 65535) throw new RangeError(`listen address ${JSON.stringify(text)}: port ${port} is above 65535`);
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

export interface WebServer {
  /** The base URL clients on this machine use: `http://127.0.0.1:9090` for a wildcard address. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets requests in flight finish for up to {@link closeGraceMs}, then cuts the rest. */
  close(): Promise<void>;
}

/**
 * Starts listening; resolves once bound, rejects if the address is taken or invalid.
 *
 * @example
 * const server = await startWebServer(createApiHandler(options), parseListenAddress('127.0.0.1:0'));
 * console.log(server.url);
 */
export async function startWebServer(handler: (request: IncomingMessage, response: ServerResponse) => void, address: ListenAddress): Promise<WebServer> {
  const server = createServer({ maxHeaderSize: requestHeaderBytesMax, requestTimeout: requestTimeoutMs, headersTimeout: requestHeadersTimeoutMs }, handler);
  server.maxConnections = connectionsMax;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(address.host)}:${bound.port}`,
    port: bound.port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, closeGraceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

function urlHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
