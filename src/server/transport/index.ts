/**
 * keel's peer transport: Raft messages between the members of one cluster, over TCP.
 *
 * - One outbound connection per peer carries length-prefixed binary message frames after a handshake
 *   (magic, version, cluster ID, sender, receiver); a connection from another cluster or for another member
 *   is refused and logged.
 * - send() queues per peer (bounded by messages and bytes; overflow drops the newest and reports the peer
 *   unreachable); one coalesced socket write per event-loop turn, respecting backpressure.
 * - Lost connections are redialled with capped, jittered exponential backoff, forever.
 * - Snapshot messages travel on their own short-lived connection in CRC'd chunks and are acknowledged;
 *   onSnapshotStatus reports the outcome.
 * - Fault hooks (drop, delay, duplicate, block per direction) and per-peer statistics with RTT samples.
 *
 * @example
 * import { PeerTransport } from './index.ts';
 * const transport = new PeerTransport({ clusterId: 0x1234n, memberId: 1, listen: { host: '127.0.0.1', port: 2380 },
 *   peers: [{ id: 2, url: 'http://127.0.0.1:2381' }], onMessage: (message) => driver.receive(message), logger });
 * await transport.start();
 * transport.send(ready.messages);
 */
export { PeerTransport } from './transport.ts';
export { TransportError, isTransportError } from './errors.ts';
export type { TransportErrorCode } from './errors.ts';
export { parsePeerUrl, transportLimitsDefault, validateTransportOptions } from './options.ts';
export type { PeerAddress, PeerTransportOptions, ResolvedTransportOptions, TransportLimits, TransportLogger } from './options.ts';
export type { PeerStatistics, TransportStatistics } from './statistics.ts';
export { faultDelayMsMax } from './_faults.ts';
export type { FaultDirection, PeerFault } from './_faults.ts';
export { backoffDelayMs } from './_backoff.ts';
export type { BackoffOptions } from './_backoff.ts';
export {
  FrameKind, StreamKind, decodeFrame, encodeClockFrame, encodeHandshakeFrame, encodeMessageFrame, encodeRefuseFrame,
  encodeSnapshotAckFrame, encodeSnapshotChunkFramePrefix, encodeSnapshotHeaderFrame, frameLengthBytes, handshakeMagic,
  messageEntriesMax, protocolVersion, varintBytesMax,
} from './codec.ts';
export type { Frame, Handshake } from './codec.ts';
export { membershipQueryTimeoutMsDefault, queryMembership } from './membership-query.ts';
