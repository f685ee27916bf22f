/**
 * PeerTransport: carries Raft messages between the members of one cluster over TCP. See index.ts for the
 * overview and codec.ts for the wire format.
 */
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { type Message, MessageType } from '../../raft/types.ts';
import { type FaultVerdict, type PeerFault, faultVerdict, validatePeerFault } from './_faults.ts';
import { InboundConnection } from './_inbound.ts';
import { PeerLink, closedError } from './_peer-link.ts';
import { SnapshotSend } from './_snapshot-sender.ts';
import { encodeMessageFrame, frameLengthBytes } from './codec.ts';
import { TransportError, assert } from './errors.ts';
import {
  type PeerTransportOptions, type ResolvedTransportOptions, parsePeerUrl, validateMemberId, validateTransportOptions,
} from './options.ts';
import type { TransportStatistics } from './statistics.ts';

/** Types the Raft core only ever hands to itself; one on the wire is a driver bug. */
const localMessageTypes: ReadonlySet<MessageType> = new Set([
  MessageType.Hup, MessageType.Beat, MessageType.SnapStatus, MessageType.Unreachable, MessageType.CheckQuorum,
]);

type TransportState = 'new' | 'started' | 'closing' | 'closed';

/**
 * @example
 * const transport = new PeerTransport({
 *   clusterId: 0x1234n, memberId: 1, listen: { host: '127.0.0.1', port: 2380 },
 *   peers: [{ id: 2, url: 'http://127.0.0.1:2381' }], onMessage: (message) => node.step(message),
 *   onUnreachable: (id) => node.reportUnreachable(id), onSnapshotStatus: (id, ok) => node.reportSnapshot(id, ok), logger,
 * });
 * await transport.start();
 * transport.send(ready.messages);
 * await transport.close();
 */
export class PeerTransport {
  readonly #options: ResolvedTransportOptions;
  readonly #links = new Map<number, PeerLink>();
  readonly #inbound = new Set<InboundConnection>();
  /** Invariant: at most one per peer, and only for peers in #links. */
  readonly #snapshotSends = new Map<number, SnapshotSend>();
  readonly #faults = new Map<number, PeerFault>();
  readonly #server: Server;
  #state: TransportState = 'new';
  #unreachablePending = new Set<number>();
  #unreachableTimer: NodeJS.Immediate | null = null;
  #refusedConnections = 0;
  #droppedUnknownPeer = 0;

  constructor(options: PeerTransportOptions) {
    this.#options = validateTransportOptions(options);
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server.maxConnections = this.#options.limits.inboundConnectionsMax;
    for (const peer of this.#options.peers) this.#addLink(peer.id, peer.url);
  }

  /** Listens for peers and starts dialling them. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new TransportError('TRANSPORT_INVALID_ARGUMENT', `start() called on a ${this.#state} transport`);
    const { host, port } = this.#options.listen;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#server.on('error', (error) => this.#options.logger.warn('peer listener error', { error: error.message }));
    this.#state = 'started';
    for (const link of this.#links.values()) link.start();
    this.#options.logger.info('peer transport listening', { member: this.#options.memberId, ...this.address() });
  }

  /** The address actually bound (the port is chosen by the system when listen.port is 0). */
  address(): { readonly host: string; readonly port: number } {
    const address = this.#server.address() as AddressInfo | null;
    assert(address !== null && typeof address === 'object', 'address() is called on a started transport');
    return { host: address.address, port: address.port };
  }

  /** The URL peers should dial to reach this member. */
  url(): string {
    const { host, port } = this.address();
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /**
   * Queues messages for their peers. Never blocks and never throws for a peer's sake: a full queue drops the
   * newest messages (counted, and the peer is reported unreachable). Throws TRANSPORT_INVALID_MESSAGE for a
   * message the driver should never hand over (local type, wrong sender), before queueing any of the batch.
   */
  send(messages: readonly Message[]): void {
    if (this.#state === 'closing' || this.#state === 'closed') throw closedError();
    for (const message of messages) this.#checkOutgoing(message);
    for (const message of messages) {
      const link = this.#links.get(message.to);
      if (link === undefined) {
        this.#droppedUnknownPeer++;
        continue;
      }
      if (message.type === MessageType.Snap) this.#sendSnapshot(link, message);
      else this.#sendMessage(link, message);
    }
  }

  #checkOutgoing(message: Message): void {
    if (localMessageTypes.has(message.type)) throw new TransportError('TRANSPORT_INVALID_MESSAGE', `a ${message.type} message is local to the Raft core`);
    if (message.from !== this.#options.memberId || message.to === this.#options.memberId) {
      throw new TransportError('TRANSPORT_INVALID_MESSAGE', `message from ${message.from} to ${message.to} cannot leave member ${this.#options.memberId}`);
    }
    if (message.type === MessageType.Snap && message.snapshot === null) throw new TransportError('TRANSPORT_INVALID_MESSAGE', 'a snap message without a snapshot');
  }

  #sendMessage(link: PeerLink, message: Message): void {
    const verdict = faultVerdict(this.#faults.get(link.id), 'outbound', this.#options.random);
    if (verdict.copies === 0) {
      link.counters.droppedByFault++;
      return;
    }
    if (message.type === MessageType.Heartbeat && !link.connected) link.counters.heartbeatSendFailures++;
    const frame = encodeMessageFrame(message);
    if (frame.length - frameLengthBytes > this.#options.limits.frameBytesMax) {
      // The receiver would refuse the frame and drop the connection with everything behind it.
      this.#options.logger.warn('message over the frame bound dropped', { peer: link.id, type: message.type, bytes: frame.length });
      link.counters.droppedOverflow++;
      this.#reportUnreachable(link.id);
      return;
    }
    for (let copy = 0; copy < verdict.copies; copy++) this.#enqueue(link, frame, verdict);
  }

  #enqueue(link: PeerLink, frame: Uint8Array, verdict: FaultVerdict): void {
    // Once anything waits in the delay line, later messages queue behind it so that order is kept.
    if (verdict.delayMs > 0 || link.outboundDelay.size > 0) {
      link.outboundDelay.push(frame, verdict.delayMs);
      return;
    }
    if (!link.enqueue(frame)) this.#reportUnreachable(link.id);
  }

  #sendSnapshot(link: PeerLink, message: Message): void {
    if (this.#snapshotSends.has(link.id)) {
      link.counters.snapshotsDropped++;
      this.#options.logger.warn('snapshot dropped: another is in flight to the peer', { peer: link.id, index: message.snapshot?.metadata.index ?? 0 });
      return;
    }
    const verdict = faultVerdict(this.#faults.get(link.id), 'outbound', this.#options.random);
    if (verdict.copies === 0) {
      link.counters.droppedByFault++;
      link.counters.snapshotsFailed++;
      // Reported on a later turn so that the driver is never re-entered from inside send().
      setImmediate(() => this.#options.onSnapshotStatus(link.id, false));
      return;
    }
    const send = new SnapshotSend(message, parsePeerUrl(link.url), this.#options);
    this.#snapshotSends.set(link.id, send);
    void send.result.then((result) => {
      assert(this.#snapshotSends.get(link.id) === send, 'one snapshot send per peer');
      this.#snapshotSends.delete(link.id);
      link.counters.snapshotBytesSent += result.bytesSent;
      if (result.ok) link.counters.snapshotsSent++;
      else {
        link.counters.snapshotsFailed++;
        this.#options.logger.warn('snapshot send failed', { peer: link.id, error: result.error });
      }
      this.#options.onSnapshotStatus(link.id, result.ok);
      if (!result.ok) this.#reportUnreachable(link.id);
    });
  }

  /** Called from inbound connections: applies inbound faults, then hands the message to the driver. */
  #deliver(link: PeerLink, message: Message): void {
    const verdict = faultVerdict(this.#faults.get(link.id), 'inbound', this.#options.random);
    if (verdict.copies === 0) {
      link.counters.droppedByFault++;
      return;
    }
    for (let copy = 0; copy < verdict.copies; copy++) {
      if (verdict.delayMs > 0 || link.inboundDelay.size > 0) link.inboundDelay.push(message, verdict.delayMs);
      else this.#options.onMessage(message);
    }
  }

  addPeer(id: number, url: string): void {
    this.#checkOpen();
    validateMemberId(id, 'peer id');
    if (id === this.#options.memberId) throw new TransportError('TRANSPORT_INVALID_ARGUMENT', 'a member is not its own peer');
    if (this.#links.has(id)) throw new TransportError('TRANSPORT_INVALID_ARGUMENT', `peer ${id} is already known`);
    const link = this.#addLink(id, url);
    if (this.#state === 'started') link.start();
  }

  #addLink(id: number, url: string): PeerLink {
    if (this.#links.size >= this.#options.limits.peersMax) throw new TransportError('TRANSPORT_INVALID_ARGUMENT', `more than ${this.#options.limits.peersMax} peers`);
    const link = new PeerLink(id, url, {
      options: this.#options, reportUnreachable: (peerId) => this.#reportUnreachable(peerId),
      isOutboundBlocked: (peerId) => this.#faults.get(peerId)?.blockOutbound === true, deliver: (message) => this.#options.onMessage(message),
    });
    this.#links.set(id, link);
    return link;
  }

  /** Forgets a peer: its queue is dropped (counted), its connections closed, its snapshot send fails. */
  async removePeer(id: number): Promise<void> {
    this.#checkOpen();
    const link = this.#links.get(id);
    if (link === undefined) throw new TransportError('TRANSPORT_INVALID_ARGUMENT', `peer ${id} is not known`);
    this.#links.delete(id);
    this.#faults.delete(id);
    this.#snapshotSends.get(id)?.abort('peer removed');
    for (const connection of this.#inbound) if (connection.peerId === id) connection.destroy();
    if (link.statistics().queuedMessages > 0) this.#options.logger.info('queued messages dropped with the peer', { peer: id, messages: link.statistics().queuedMessages });
    await link.close();
  }

  updatePeer(id: number, url: string): void {
    this.#checkOpen();
    const link = this.#links.get(id);
    if (link === undefined) throw new TransportError('TRANSPORT_INVALID_ARGUMENT', `peer ${id} is not known`);
    link.updateUrl(url);
  }

  /**
   * Makes the peer set equal to `peers` (member ID → peer URLs; the first URL is dialled). Convenient for
   * a driver that re-reads its membership after every configuration change.
   */
  setPeers(peers: ReadonlyMap<number, readonly string[]>): void {
    this.#checkOpen();
    for (const id of [...this.#links.keys()]) {
      if (!peers.has(id)) void this.removePeer(id);
    }
    for (const [id, urls] of peers) {
      const url = urls[0];
      if (id === this.#options.memberId || url === undefined) continue;
      if (this.#links.has(id)) this.updatePeer(id, url);
      else this.addPeer(id, url);
    }
  }

  setFault(peerId: number, fault: PeerFault): void {
    this.#checkOpen();
    this.#faults.set(peerId, validatePeerFault(fault));
  }

  /** Removes every fault; messages held by delay faults are released at once, in order. */
  clearFaults(): void {
    this.#faults.clear();
    for (const link of this.#links.values()) {
      link.outboundDelay.flush();
      link.inboundDelay.flush();
    }
  }

  statistics(): TransportStatistics {
    return {
      memberId: this.#options.memberId, address: this.#state === 'started' ? this.address() : null,
      inboundConnections: this.#inbound.size, refusedConnections: this.#refusedConnections, droppedUnknownPeer: this.#droppedUnknownPeer,
      peers: [...this.#links.values()].map((link) => link.statistics()),
    };
  }

  /**
   * Stops accepting, flushes and closes every connection, and fails in-flight snapshot sends (each reported
   * through onSnapshotStatus(peer, false)). Queued messages that could not be sent are counted in
   * droppedOnClose and logged.
   */
  async close(): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    const wasStarted = this.#state === 'started';
    this.#state = 'closing';
    const serverClosed = wasStarted ? new Promise<void>((resolve) => this.#server.close(() => resolve())) : Promise.resolve();
    const snapshotResults = [...this.#snapshotSends.values()].map((send) => {
      send.abort('transport closing');
      return send.result;
    });
    const inboundClosed = [...this.#inbound].map((connection) => {
      connection.destroy();
      return connection.closed;
    });
    await Promise.all([...this.#links.values()].map((link) => link.close()));
    await Promise.all(inboundClosed);
    await Promise.all(snapshotResults);
    const dropped = [...this.#links.values()].reduce((sum, link) => sum + link.counters.droppedOnClose, 0);
    if (dropped > 0) this.#options.logger.warn('messages dropped at close', { messages: dropped });
    if (this.#unreachableTimer !== null) clearImmediate(this.#unreachableTimer);
    await serverClosed;
    this.#state = 'closed';
  }

  #accept(socket: Socket): void {
    if (this.#state !== 'started') {
      socket.destroy();
      return;
    }
    const connection = new InboundConnection(socket, {
      options: this.#options, peer: (peerId) => this.#links.get(peerId),
      isInboundBlocked: (peerId) => this.#faults.get(peerId)?.blockInbound === true,
      deliver: (link, message) => this.#deliver(link, message),
      onRefused: () => this.#refusedConnections++,
      onClosed: (closed) => this.#inbound.delete(closed),
    });
    this.#inbound.add(connection);
  }

  /** Deduplicated and deferred: at most one report per peer per event-loop turn, never from inside send(). */
  #reportUnreachable(peerId: number): void {
    if (this.#state !== 'started') return;
    this.#unreachablePending.add(peerId);
    if (this.#unreachableTimer !== null) return;
    this.#unreachableTimer = setImmediate(() => {
      this.#unreachableTimer = null;
      const pending = this.#unreachablePending;
      this.#unreachablePending = new Set();
      for (const id of pending) if (this.#links.has(id) && this.#state === 'started') this.#options.onUnreachable(id);
    });
  }

  #checkOpen(): void {
    if (this.#state === 'closing' || this.#state === 'closed') throw closedError();
  }
}
