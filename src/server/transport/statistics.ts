/** Per-peer counters, kept as plain mutable numbers and exposed as frozen snapshots by statistics(). */
import { assert } from './errors.ts';

export interface PeerStatistics {
  readonly peerId: number;
  readonly url: string;
  readonly connected: boolean;
  readonly messagesSent: number;
  readonly bytesSent: number;
  /** socket.write() calls on the message connection (batches, handshakes, pings). */
  readonly socketWrites: number;
  readonly messagesReceived: number;
  readonly bytesReceived: number;
  /** Connection attempts that failed or connections that broke. */
  readonly sendFailures: number;
  /** Messages dropped because the queue was full. */
  readonly droppedOverflow: number;
  /** Heartbeats handed over while the connection was down (they wait in the queue, late). */
  readonly heartbeatSendFailures: number;
  /** Messages dropped by an injected fault, either direction. */
  readonly droppedByFault: number;
  /** Messages still queued when the peer was removed or the transport closed. */
  readonly droppedOnClose: number;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  readonly snapshotsSent: number;
  /** Bytes written on snapshot streams (not included in bytesSent). */
  readonly snapshotBytesSent: number;
  readonly snapshotsFailed: number;
  /** Snapshot messages dropped because one was already in flight to the peer. */
  readonly snapshotsDropped: number;
  readonly snapshotsReceived: number;
  readonly snapshotsReceiveFailed: number;
  /** Recent round-trip times, oldest first. */
  readonly rttMs: readonly number[];
}

export interface TransportStatistics {
  readonly memberId: number;
  readonly address: { readonly host: string; readonly port: number } | null;
  readonly inboundConnections: number;
  /** Connections refused at the handshake (other cluster, wrong member, unknown peer). */
  readonly refusedConnections: number;
  /** Messages for a member that is not a peer. */
  readonly droppedUnknownPeer: number;
  readonly peers: readonly PeerStatistics[];
}

export class PeerCounters {
  messagesSent = 0;
  bytesSent = 0;
  socketWrites = 0;
  messagesReceived = 0;
  bytesReceived = 0;
  sendFailures = 0;
  droppedOverflow = 0;
  heartbeatSendFailures = 0;
  droppedByFault = 0;
  droppedOnClose = 0;
  snapshotsSent = 0;
  snapshotBytesSent = 0;
  snapshotsFailed = 0;
  snapshotsDropped = 0;
  snapshotsReceived = 0;
  snapshotsReceiveFailed = 0;
}

/** A fixed-size ring of the latest samples. Invariant: #count <= #samples.length. */
export class SampleRing {
  readonly #samples: number[];
  #next = 0;
  #count = 0;

  constructor(samplesMax: number) {
    assert(Number.isSafeInteger(samplesMax) && samplesMax > 0, 'ring size is positive');
    this.#samples = new Array<number>(samplesMax).fill(0);
  }

  add(sample: number): void {
    this.#samples[this.#next] = sample;
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#count = Math.min(this.#count + 1, this.#samples.length);
  }

  /** Oldest first. */
  values(): number[] {
    const start = (this.#next - this.#count + this.#samples.length) % this.#samples.length;
    const values: number[] = [];
    for (let position = 0; position < this.#count; position++) values.push(this.#samples[(start + position) % this.#samples.length]!);
    assert(values.length <= this.#samples.length, 'ring returns at most its size');
    return values;
  }
}
