/**
 * PeerTransport options, their defaults and their validation. Every queue and buffer has a named bound here;
 * the relations between bounds are checked once, in validateTransportOptions().
 */
import { constants as bufferConstants } from 'node:buffer';
import type { Message } from '../../raft/types.ts';
import { snapshotChunkBytesMaxDefault, snapshotChunkHeaderBytes } from '../../storage/index.ts';
import { frameLengthBytes } from './codec.ts';
import { TransportError } from './errors.ts';

/** The logger the transport reports through (the storage layer's StorageLogger fits). */
export interface TransportLogger {
  info(message: string, fields?: Readonly<Record<string, string | number>>): void;
  warn(message: string, fields?: Readonly<Record<string, string | number>>): void;
}

export interface PeerAddress {
  readonly id: number;
  /** etcd style: http://host:port; only the host and the port are used (no TLS yet). */
  readonly url: string;
}

export interface TransportLimits {
  /** Messages waiting for one peer's connection; past it the newest are dropped. */
  readonly queueMessagesMax: number;
  /** Encoded bytes waiting for one peer's connection; past it the newest are dropped. */
  readonly queueBytesMax: number;
  /** Largest message frame accepted or sent (length prefix excluded). */
  readonly frameBytesMax: number;
  /** Largest snapshot (data bytes) a receiver reassembles; larger streams are refused. */
  readonly snapshotBytesMax: number;
  /** Data bytes per snapshot chunk sent. */
  readonly snapshotChunkBytes: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly pingIntervalMs: number;
  /** Round-trip samples kept per peer. */
  readonly rttSamplesMax: number;
  readonly connectTimeoutMs: number;
  /** A connection that has not sent its handshake by then is closed. */
  readonly handshakeTimeoutMs: number;
  /** A snapshot stream idle for this long (either side) fails. */
  readonly snapshotIdleTimeoutMs: number;
  /** How long close() lets a socket flush before destroying it. */
  readonly closeGraceMs: number;
  readonly inboundConnectionsMax: number;
  readonly peersMax: number;
}

/** 8 GiB, or less where this Node cannot hold a buffer that large (Node 20: 4 GiB). */
const snapshotBytesMaxDefault = Math.min(8 * 1024 ** 3, bufferConstants.MAX_LENGTH);

export const transportLimitsDefault: TransportLimits = {
  queueMessagesMax: 4096,
  queueBytesMax: 64 * 1024 * 1024,
  frameBytesMax: 16 * 1024 * 1024,
  snapshotBytesMax: snapshotBytesMaxDefault,
  snapshotChunkBytes: snapshotChunkBytesMaxDefault,
  backoffBaseMs: 50,
  backoffMaxMs: 2000,
  pingIntervalMs: 1000,
  rttSamplesMax: 16,
  connectTimeoutMs: 5000,
  handshakeTimeoutMs: 5000,
  snapshotIdleTimeoutMs: 30_000,
  closeGraceMs: 1000,
  inboundConnectionsMax: 1024,
  peersMax: 1024,
};

/** A snapshot chunk frame: kind byte, the storage chunk header, and at most one default chunk of data. */
export const snapshotChunkFrameBytesMax = 1 + snapshotChunkHeaderBytes + snapshotChunkBytesMaxDefault;

export interface PeerTransportOptions {
  readonly clusterId: bigint;
  readonly memberId: number;
  /** Where to accept peer connections; port 0 picks a free port (see PeerTransport.address()). */
  readonly listen: { readonly host: string; readonly port: number };
  readonly peers?: readonly PeerAddress[];
  /** Called synchronously per received frame, in order per connection. Must not throw. */
  readonly onMessage: (message: Message) => void;
  /** A connection to the peer failed or messages for it were dropped; at most once per peer per tick. */
  readonly onUnreachable?: (peerId: number) => void;
  /** A snapshot send finished: ok once the receiver acknowledged it, false on any failure. */
  readonly onSnapshotStatus?: (peerId: number, ok: boolean) => void;
  /** A ping to the peer was answered after `roundTripMs` (the RTT probe; metrics). Must not throw. */
  readonly onRoundTrip?: (peerId: number, roundTripMs: number) => void;
  /**
   * The member list, as etcd's MemberListResponse protobuf, for a joining member's membership query. When it
   * returns null (or is absent) the query is refused.
   */
  readonly memberList?: () => Uint8Array | null;
  readonly logger: TransportLogger;
  /** A number in [0, 1): backoff jitter and fault draws. Default Math.random. */
  readonly random?: () => number;
  /** Monotonic milliseconds: RTT and fault delays. Default performance.now. */
  readonly now?: () => number;
  readonly limits?: Partial<TransportLimits>;
}

export interface ResolvedTransportOptions extends Required<Omit<PeerTransportOptions, 'limits' | 'peers'>> {
  readonly peers: readonly PeerAddress[];
  readonly limits: TransportLimits;
}

function invalid(reason: string): TransportError {
  return new TransportError('TRANSPORT_INVALID_ARGUMENT', `invalid transport option: ${reason}`);
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw invalid(`${name} must be a positive integer, got ${value}`);
}

export function validateMemberId(id: number, what: string): void {
  if (!Number.isSafeInteger(id) || id <= 0) throw invalid(`${what} must be a positive safe integer, got ${id}`);
}

/**
 * Fills in defaults and checks every bound and the relations between them.
 *
 * @example
 * const resolved = validateTransportOptions({ clusterId: 1n, memberId: 1, listen, onMessage, logger });
 */
export function validateTransportOptions(options: PeerTransportOptions): ResolvedTransportOptions {
  if (typeof options.clusterId !== 'bigint' || options.clusterId < 0n || options.clusterId >= 1n << 64n) {
    throw invalid('clusterId must be a bigint in [0, 2^64)');
  }
  validateMemberId(options.memberId, 'memberId');
  if (!Number.isInteger(options.listen.port) || options.listen.port < 0 || options.listen.port > 65535) throw invalid('listen.port must be in [0, 65535]');
  const limits: TransportLimits = { ...transportLimitsDefault, ...options.limits };
  for (const [name, value] of Object.entries(limits)) checkPositiveInteger(name, value);
  if (limits.queueBytesMax < frameLengthBytes + limits.frameBytesMax) throw invalid('queueBytesMax must hold at least one largest frame');
  if (limits.frameBytesMax > 0xffffffff) throw invalid('frameBytesMax must fit the u32 length prefix');
  if (limits.snapshotChunkBytes > snapshotChunkBytesMaxDefault) throw invalid(`snapshotChunkBytes must be at most ${snapshotChunkBytesMaxDefault}`);
  if (limits.snapshotBytesMax > bufferConstants.MAX_LENGTH) throw invalid(`snapshotBytesMax must be at most ${bufferConstants.MAX_LENGTH} (Buffer limit)`);
  if (limits.backoffBaseMs > limits.backoffMaxMs) throw invalid('backoffBaseMs must not exceed backoffMaxMs');
  return {
    clusterId: options.clusterId, memberId: options.memberId, listen: options.listen, peers: options.peers ?? [],
    onMessage: options.onMessage, onUnreachable: options.onUnreachable ?? (() => {}),
    onSnapshotStatus: options.onSnapshotStatus ?? (() => {}), onRoundTrip: options.onRoundTrip ?? (() => {}), logger: options.logger,
    memberList: options.memberList ?? (() => null),
    random: options.random ?? Math.random, now: options.now ?? (() => performance.now()), limits,
  };
}

/**
 * Host and port of an etcd-style peer URL.
 *
 * @example
 * parsePeerUrl('http://127.0.0.1:2380'); // { host: '127.0.0.1', port: 2380 }
 */
export function parsePeerUrl(url: string): { readonly host: string; readonly port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new TransportError('TRANSPORT_INVALID_ARGUMENT', `invalid peer URL ${JSON.stringify(url)}`, { cause: error });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(`peer URL ${url} is not http(s)`);
  const port = Number(parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : parsed.port);
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (host === '' || !(port > 0 && port <= 65535)) throw invalid(`peer URL ${url} has no host or port`);
  return { host, port };
}
