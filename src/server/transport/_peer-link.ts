/**
 * One peer's outbound message connection: a bounded queue, a writer that coalesces everything queued into
 * one socket write per event-loop turn, reconnection with jittered exponential backoff, and pings for RTT.
 *
 * Invariant: at most one socket at a time; #state is 'connected' exactly while that socket has sent its
 * handshake and not closed.
 */
import { type Socket, connect } from 'node:net';
import { backoffDelayMs } from './_backoff.ts';
import { DelayLine } from './_faults.ts';
import { FrameSplitter } from './_frame-splitter.ts';
import { FrameKind, StreamKind, decodeFrame, encodeClockFrame, encodeHandshakeFrame, protocolVersion } from './codec.ts';
import { TransportError, assert } from './errors.ts';
import type { Message } from '../../raft/types.ts';
import { parsePeerUrl, type ResolvedTransportOptions } from './options.ts';
import { PeerCounters, type PeerStatistics, SampleRing } from './statistics.ts';

/** Pong frames are the only thing a message connection receives; a generous bound for them. */
const replyFrameBytesMax = 64;

export interface LinkContext {
  readonly options: ResolvedTransportOptions;
  readonly reportUnreachable: (peerId: number) => void;
  readonly isOutboundBlocked: (peerId: number) => boolean;
  /** Delivers an inbound message that waited in this peer's inbound delay line. */
  readonly deliver: (message: Message) => void;
}

type LinkState = 'connecting' | 'connected' | 'waiting' | 'closed';

export class PeerLink {
  readonly id: number;
  readonly counters = new PeerCounters();
  /** Messages held by an outbound delay fault, as encoded frames. */
  readonly outboundDelay: DelayLine<Uint8Array>;
  /** Messages from this peer held by an inbound delay fault. */
  readonly inboundDelay: DelayLine<Message>;
  readonly #context: LinkContext;
  readonly #rtt: SampleRing;
  #url: string;
  #address: { readonly host: string; readonly port: number };
  #state: LinkState = 'waiting';
  #socket: Socket | null = null;
  /** Invariant: #queueBytes is the sum of the lengths of #queue. */
  #queue: Uint8Array[] = [];
  #queueBytes = 0;
  /** Failed attempts since the peer last answered a ping; drives the backoff. */
  #failures = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #connectTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #flushScheduled = false;
  #awaitingDrain = false;
  #lastError = '';

  constructor(id: number, url: string, context: LinkContext) {
    this.id = id;
    this.#url = url;
    this.#address = parsePeerUrl(url);
    this.#context = context;
    this.#rtt = new SampleRing(context.options.limits.rttSamplesMax);
    this.outboundDelay = new DelayLine((frame) => this.enqueue(frame), context.options.now);
    this.inboundDelay = new DelayLine((message) => context.deliver(message), context.options.now);
  }

  get url(): string {
    return this.#url;
  }

  /** Whether the message connection is up (handshake sent, not closed). */
  get connected(): boolean {
    return this.#state === 'connected';
  }

  start(): void {
    assert(this.#state === 'waiting' && this.#socket === null, 'a link starts once');
    this.#connect();
  }

  /** Queues one encoded message frame; false (and counted) when the queue is full. */
  enqueue(frame: Uint8Array): boolean {
    if (this.#state === 'closed') return false;
    const limits = this.#context.options.limits;
    if (this.#queue.length >= limits.queueMessagesMax || this.#queueBytes + frame.length > limits.queueBytesMax) {
      this.counters.droppedOverflow++;
      return false;
    }
    this.#queue.push(frame);
    this.#queueBytes += frame.length;
    this.#scheduleFlush();
    return true;
  }

  /** Points the link at a new URL; an open connection to the old address is closed and redialled. */
  updateUrl(url: string): void {
    const address = parsePeerUrl(url);
    this.#url = url;
    if (address.host === this.#address.host && address.port === this.#address.port) return;
    this.#address = address;
    this.#failures = 0;
    if (this.#socket !== null) this.#socket.destroy();
    else if (this.#state === 'waiting') this.#retryNow();
  }

  /** Flushes what is queued, then closes the connection; resolves once the socket is gone. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#flush();
    this.counters.droppedOnClose += this.#queue.length + this.outboundDelay.clear() + this.inboundDelay.clear();
    this.#queue = [];
    this.#queueBytes = 0;
    this.#state = 'closed';
    this.#clearTimers();
    const socket = this.#socket;
    if (socket === null || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const grace = setTimeout(() => socket.destroy(), this.#context.options.limits.closeGraceMs);
      socket.once('close', () => {
        clearTimeout(grace);
        resolve();
      });
      socket.end();
    });
  }

  statistics(): PeerStatistics {
    return {
      peerId: this.id, url: this.#url, connected: this.#state === 'connected', ...this.counters,
      queuedMessages: this.#queue.length, queuedBytes: this.#queueBytes, rttMs: this.#rtt.values(),
    };
  }

  #connect(): void {
    const options = this.#context.options;
    this.#state = 'connecting';
    const socket = connect({ host: this.#address.host, port: this.#address.port });
    this.#socket = socket;
    socket.setNoDelay(true);
    this.#connectTimer = setTimeout(() => socket.destroy(new Error('connect timed out')), options.limits.connectTimeoutMs);
    const splitter = new FrameSplitter(replyFrameBytesMax);
    socket.on('connect', () => this.#onConnect(socket));
    socket.on('data', (chunk: Buffer) => this.#onData(socket, splitter, chunk));
    socket.on('drain', () => {
      this.#awaitingDrain = false;
      this.#scheduleFlush();
    });
    socket.on('error', (error) => {
      this.#lastError = error.message;
    });
    socket.on('close', () => this.#onClose(socket));
  }

  #onConnect(socket: Socket): void {
    if (this.#socket !== socket || this.#state !== 'connecting') return;
    const options = this.#context.options;
    this.#clearConnectTimer();
    this.#state = 'connected';
    const handshake = encodeHandshakeFrame({
      version: protocolVersion, stream: StreamKind.Messages, clusterId: options.clusterId, senderId: options.memberId, receiverId: this.id,
    });
    // The first ping's pong proves the peer accepted the handshake, which is what resets the backoff.
    this.#write(Buffer.concat([handshake, encodeClockFrame(FrameKind.Ping, options.now())]));
    this.#pingTimer = setInterval(() => this.#ping(), options.limits.pingIntervalMs);
    this.#scheduleFlush();
  }

  #onData(socket: Socket, splitter: FrameSplitter, chunk: Buffer): void {
    if (this.#socket !== socket) return;
    try {
      splitter.push(chunk, (payload) => this.#onFrame(socket, payload));
    } catch (error) {
      this.#lastError = error instanceof Error ? error.message : String(error);
      socket.destroy();
    }
  }

  #onFrame(socket: Socket, payload: Uint8Array): boolean {
    const frame = decodeFrame(payload);
    if (frame.kind === FrameKind.Pong) {
      const roundTripMs = Math.max(0, this.#context.options.now() - frame.sentAtMs);
      this.#rtt.add(roundTripMs);
      this.#context.options.onRoundTrip(this.id, roundTripMs);
      if (this.#failures > 0) this.#context.options.logger.info('peer reachable again', { peer: this.id, url: this.#url });
      this.#failures = 0;
      return true;
    }
    if (frame.kind === FrameKind.Refuse) {
      this.#lastError = `refused by the peer: ${frame.reason}`;
    } else {
      this.#lastError = `unexpected ${FrameKind[frame.kind]} frame on a message connection`;
    }
    socket.destroy();
    return false;
  }

  #onClose(socket: Socket): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    this.#awaitingDrain = false;
    this.#clearTimers();
    if (this.#state === 'closed') return;
    this.counters.sendFailures++;
    // Log the first failure in a row only: a peer down for an hour must not write a line per retry.
    if (this.#failures === 0) {
      this.#context.options.logger.warn('peer connection failed', { peer: this.id, url: this.#url, error: this.#lastError || 'closed' });
    }
    this.#lastError = '';
    const waitMs = backoffDelayMs(this.#failures, this.#context.options.limits, this.#context.options.random);
    this.#failures++;
    this.#state = 'waiting';
    this.#retryTimer = setTimeout(() => this.#retryNow(), waitMs);
    this.#context.reportUnreachable(this.id);
  }

  #retryNow(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (this.#state === 'waiting') this.#connect();
  }

  #ping(): void {
    if (this.#state !== 'connected' || this.#context.isOutboundBlocked(this.id)) return;
    this.#write(encodeClockFrame(FrameKind.Ping, this.#context.options.now()));
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#state !== 'connected' || this.#awaitingDrain || this.#queue.length === 0) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Writes everything queued as one buffer: one syscall and one TCP push for a whole Ready's messages. */
  #flush(): void {
    if (this.#state !== 'connected' || this.#awaitingDrain || this.#queue.length === 0) return;
    const frames = this.#queue;
    const bytes = this.#queueBytes;
    this.#queue = [];
    this.#queueBytes = 0;
    this.#write(frames.length === 1 ? frames[0]! : Buffer.concat(frames, bytes));
    this.counters.messagesSent += frames.length;
  }

  #write(bytes: Uint8Array): void {
    const socket = this.#socket;
    assert(socket !== null && this.#state === 'connected', 'writes go to a connected socket');
    this.counters.socketWrites++;
    this.counters.bytesSent += bytes.length;
    if (!socket.write(bytes)) this.#awaitingDrain = true;
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
  }

  #clearTimers(): void {
    this.#clearConnectTimer();
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    this.#pingTimer = null;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}

export function closedError(): TransportError {
  return new TransportError('TRANSPORT_CLOSED', 'the peer transport is closed');
}
