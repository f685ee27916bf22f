/**
 * One accepted connection: the handshake check, then either a message stream (messages delivered
 * synchronously per frame, pings answered) or one snapshot stream (chunks checked and reassembled, the
 * whole message delivered, then acknowledged).
 */
import type { Socket } from 'node:net';
import type { Message } from '../../raft/types.ts';
import { decodeSnapshotChunk, isStorageError, snapshotChunkBytesMaxDefault } from '../../storage/index.ts';
import { FrameSplitter } from './_frame-splitter.ts';
import type { PeerLink } from './_peer-link.ts';
import {
  type Frame, FrameKind, type Handshake, StreamKind, decodeFrame, encodeClockFrame, encodeMembershipFrame, encodeRefuseFrame, membershipFrameBytesMax, encodeSnapshotAckFrame, protocolVersion,
} from './codec.ts';
import { TransportError, type TransportErrorCode, assert, isTransportError } from './errors.ts';
import { type ResolvedTransportOptions, snapshotChunkFrameBytesMax } from './options.ts';

/** Bound on a frame before the handshake: a handshake is under 32 bytes, so a stranger cannot make us buffer. */
export const handshakeFrameBytesMax = 64;

export interface InboundContext {
  readonly options: ResolvedTransportOptions;
  readonly peer: (peerId: number) => PeerLink | undefined;
  readonly isInboundBlocked: (peerId: number) => boolean;
  /** Delivers a message from a peer through the inbound faults. */
  readonly deliver: (peer: PeerLink, message: Message) => void;
  readonly onRefused: () => void;
  readonly onClosed: (connection: InboundConnection) => void;
}

interface SnapshotAssembly {
  readonly message: Message;
  readonly dataBytes: number;
  readonly parts: Uint8Array[];
  receivedBytes: number;
}

type InboundState = 'handshake' | 'messages' | 'snapshot' | 'closing';

export class InboundConnection {
  /** Resolves once the socket is fully closed. */
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  readonly #context: InboundContext;
  readonly #splitter = new FrameSplitter(handshakeFrameBytesMax);
  #state: InboundState = 'handshake';
  /** Invariant: set exactly when #state is 'messages' or 'snapshot' (or closing after either). */
  #peer: PeerLink | null = null;
  /** Invariant: non-null from the snapshot header until the stream completes or fails. */
  #snapshot: SnapshotAssembly | null = null;

  constructor(socket: Socket, context: InboundContext) {
    this.#socket = socket;
    this.#context = context;
    socket.setNoDelay(true);
    socket.setTimeout(context.options.limits.handshakeTimeoutMs, () => this.#fail(new TransportError('TRANSPORT_HANDSHAKE_INVALID', 'no handshake in time')));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {
      // The 'close' that follows does the accounting; an error alone needs nothing more.
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => this.#onClose());
  }

  get peerId(): number | null {
    return this.#peer?.id ?? null;
  }

  /** Closes the connection now (transport closing, peer removed). */
  destroy(): void {
    this.#state = 'closing';
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#state === 'closing') return;
    try {
      this.#splitter.push(chunk, (payload) => this.#onPayload(payload));
    } catch (error) {
      this.#fail(error);
    }
  }

  #onPayload(payload: Uint8Array): boolean {
    if (this.#state === 'closing') return false;
    const frame = decodeFrame(payload);
    switch (this.#state) {
      case 'handshake': this.#onHandshake(frame); break;
      case 'messages': this.#onMessageStreamFrame(frame); break;
      case 'snapshot': this.#onSnapshotFrame(frame); break;
    }
    if (this.#peer !== null) this.#peer.counters.bytesReceived += 4 + payload.length;
    return true;
  }

  #onHandshake(frame: Frame): void {
    if (frame.kind !== FrameKind.Handshake) throw new TransportError('TRANSPORT_HANDSHAKE_INVALID', `first frame is ${FrameKind[frame.kind]}, not a handshake`);
    const handshake = frame.handshake;
    if (handshake.stream === StreamKind.Membership) {
      this.#answerMembership(handshake);
      return;
    }
    const refusal = this.#refusalOf(handshake);
    if (refusal !== null) {
      this.#refuse(refusal, handshake);
      return;
    }
    const peer = this.#context.peer(handshake.senderId);
    assert(peer !== undefined, 'refusalOf checked the sender');
    this.#peer = peer;
    const limits = this.#context.options.limits;
    if (handshake.stream === StreamKind.Messages) {
      this.#state = 'messages';
      this.#splitter.setFrameBytesMax(limits.frameBytesMax);
      this.#socket.setTimeout(0);
    } else {
      this.#state = 'snapshot';
      this.#splitter.setFrameBytesMax(Math.max(limits.frameBytesMax, snapshotChunkFrameBytesMax));
      this.#socket.setTimeout(limits.snapshotIdleTimeoutMs, () => this.#fail(new TransportError('TRANSPORT_SNAPSHOT_CORRUPT', 'snapshot stream idle too long')));
    }
  }

  /** A joining member asks who the members are: one Membership frame, then close. No peer state changes. */
  #answerMembership(handshake: Handshake): void {
    const memberList = handshake.version === protocolVersion ? this.#context.options.memberList() : null;
    if (memberList === null || memberList.length > membershipFrameBytesMax) {
      this.#refuse(handshake.version === protocolVersion ? 'TRANSPORT_REFUSED' : 'TRANSPORT_VERSION_UNSUPPORTED', handshake);
      return;
    }
    this.#state = 'closing';
    this.#endSoon(encodeMembershipFrame(memberList));
  }

  #refusalOf(handshake: Handshake): TransportErrorCode | null {
    const options = this.#context.options;
    if (handshake.version !== protocolVersion) return 'TRANSPORT_VERSION_UNSUPPORTED';
    if (handshake.clusterId !== options.clusterId) return 'TRANSPORT_CLUSTER_MISMATCH';
    if (handshake.receiverId !== options.memberId) return 'TRANSPORT_WRONG_MEMBER';
    if (handshake.senderId === options.memberId || this.#context.peer(handshake.senderId) === undefined) return 'TRANSPORT_UNKNOWN_PEER';
    if (handshake.stream === StreamKind.Snapshot && this.#context.isInboundBlocked(handshake.senderId)) return 'TRANSPORT_REFUSED';
    return null;
  }

  #refuse(reason: TransportErrorCode, handshake: Handshake): void {
    this.#context.options.logger.warn('peer connection refused', {
      code: reason, remote: `${this.#socket.remoteAddress}:${this.#socket.remotePort}`, sender: handshake.senderId,
      receiver: handshake.receiverId, cluster: `0x${handshake.clusterId.toString(16)}`,
    });
    this.#context.onRefused();
    this.#state = 'closing';
    this.#endSoon(encodeRefuseFrame(reason));
  }

  /** Sends a last frame and closes; a peer that does not close its side is cut off after the grace time. */
  #endSoon(lastFrame: Uint8Array): void {
    this.#socket.end(lastFrame);
    setTimeout(() => this.#socket.destroy(), this.#context.options.limits.closeGraceMs).unref();
  }

  #onMessageStreamFrame(frame: Frame): void {
    const peer = this.#peer;
    assert(peer !== null, 'a message stream has a peer');
    if (frame.kind === FrameKind.Ping) {
      if (!this.#context.isInboundBlocked(peer.id)) this.#socket.write(encodeClockFrame(FrameKind.Pong, frame.sentAtMs));
      return;
    }
    if (frame.kind !== FrameKind.Message) throw new TransportError('TRANSPORT_FRAME_MALFORMED', `unexpected ${FrameKind[frame.kind]} frame on a message stream`);
    this.#checkAddressing(frame.message, peer);
    peer.counters.messagesReceived++;
    this.#context.deliver(peer, frame.message);
  }

  /** A message must come from the member that shook hands, to this member: anything else is a confused peer. */
  #checkAddressing(message: Message, peer: PeerLink): void {
    if (message.from !== peer.id || message.to !== this.#context.options.memberId) {
      throw new TransportError('TRANSPORT_INVALID_MESSAGE', `message from ${message.from} to ${message.to} on the stream of peer ${peer.id}`);
    }
  }

  #onSnapshotFrame(frame: Frame): void {
    const peer = this.#peer;
    assert(peer !== null, 'a snapshot stream has a peer');
    if (this.#snapshot === null) {
      this.#onSnapshotHeader(frame, peer);
      return;
    }
    if (frame.kind !== FrameKind.SnapshotChunk) throw new TransportError('TRANSPORT_SNAPSHOT_CORRUPT', `unexpected ${FrameKind[frame.kind]} frame in a snapshot stream`);
    this.#addChunk(this.#snapshot, frame.chunk);
    this.#completeIfWhole(this.#snapshot, peer);
  }

  #onSnapshotHeader(frame: Frame, peer: PeerLink): void {
    if (frame.kind !== FrameKind.SnapshotHeader) throw new TransportError('TRANSPORT_SNAPSHOT_CORRUPT', `snapshot stream starts with ${FrameKind[frame.kind]}`);
    this.#checkAddressing(frame.message, peer);
    const bytesMax = this.#context.options.limits.snapshotBytesMax;
    if (frame.dataBytes > bytesMax) throw new TransportError('TRANSPORT_SNAPSHOT_TOO_LARGE', `snapshot of ${frame.dataBytes} bytes is over the bound ${bytesMax}`);
    this.#snapshot = { message: frame.message, dataBytes: frame.dataBytes, parts: [], receivedBytes: 0 };
    this.#completeIfWhole(this.#snapshot, peer);
  }

  #addChunk(assembly: SnapshotAssembly, frameBytes: Uint8Array): void {
    let chunk;
    try {
      chunk = decodeSnapshotChunk(frameBytes, snapshotChunkBytesMaxDefault);
    } catch (error) {
      if (isStorageError(error)) throw new TransportError('TRANSPORT_SNAPSHOT_CORRUPT', error.message, { cause: error });
      throw error;
    }
    if (chunk.fileBytes !== assembly.dataBytes || chunk.offset !== assembly.receivedBytes || chunk.data.length === 0
      || chunk.offset + chunk.data.length > assembly.dataBytes) {
      throw new TransportError('TRANSPORT_SNAPSHOT_CORRUPT', `chunk at ${chunk.offset} (+${chunk.data.length} of ${chunk.fileBytes}) does not continue at ${assembly.receivedBytes} of ${assembly.dataBytes}`);
    }
    assembly.parts.push(chunk.data);
    assembly.receivedBytes += chunk.data.length;
    assert(assembly.receivedBytes <= assembly.dataBytes, 'received within the announced size');
  }

  #completeIfWhole(assembly: SnapshotAssembly, peer: PeerLink): void {
    if (assembly.receivedBytes < assembly.dataBytes) return;
    const snapshot = assembly.message.snapshot;
    assert(snapshot !== null, 'the header was checked to carry a snapshot');
    // One copy into a plain Uint8Array: the parts are views of socket buffers.
    const data = new Uint8Array(assembly.dataBytes);
    let offset = 0;
    for (const part of assembly.parts) {
      data.set(part, offset);
      offset += part.length;
    }
    assert(offset === assembly.dataBytes, 'reassembled the announced size');
    this.#snapshot = null;
    this.#state = 'closing';
    peer.counters.snapshotsReceived++;
    peer.counters.messagesReceived++;
    this.#context.deliver(peer, { ...assembly.message, snapshot: { metadata: snapshot.metadata, data } });
    this.#endSoon(encodeSnapshotAckFrame(true));
  }

  #fail(error: unknown): void {
    if (this.#state === 'closing') return;
    const code = isTransportError(error) ? error.code : 'TRANSPORT_FRAME_MALFORMED';
    this.#context.options.logger.warn('peer connection closed on a bad stream', {
      code, error: error instanceof Error ? error.message : String(error), peer: this.#peer?.id ?? 0, stream: this.#state,
    });
    const wasSnapshot = this.#state === 'snapshot';
    this.#state = 'closing';
    if (wasSnapshot) {
      this.#snapshot = null;
      if (this.#peer !== null) this.#peer.counters.snapshotsReceiveFailed++;
      this.#endSoon(encodeSnapshotAckFrame(false));
      return;
    }
    this.#socket.destroy();
  }

  #onClose(): void {
    if (this.#state === 'snapshot' && this.#peer !== null) {
      this.#peer.counters.snapshotsReceiveFailed++;
      this.#context.options.logger.warn('snapshot stream aborted', { peer: this.#peer.id, receivedBytes: this.#snapshot?.receivedBytes ?? 0 });
    }
    this.#state = 'closing';
    this.#snapshot = null;
    this.#context.onClosed(this);
  }
}
