/**
 * Sends one snapshot message on its own short-lived connection: handshake, header (the message without its
 * data), the data in CRC'd chunks, then waits for the receiver's acknowledgement. Resolves true only on a
 * positive acknowledgement; every other ending (refusal, timeout, a broken connection, abort) is false.
 */
import { type Socket, connect } from 'node:net';
import type { Message } from '../../raft/types.ts';
import { encodeSnapshotChunk, snapshotChunkHeaderBytes } from '../../storage/index.ts';
import { FrameSplitter } from './_frame-splitter.ts';
import {
  FrameKind, StreamKind, decodeFrame, encodeHandshakeFrame, encodeSnapshotChunkFramePrefix, encodeSnapshotHeaderFrame, protocolVersion,
} from './codec.ts';
import { assert } from './errors.ts';
import type { ResolvedTransportOptions } from './options.ts';

/** The only frames coming back are an acknowledgement or a refusal. */
const replyFrameBytesMax = 64;

export interface SnapshotSendResult {
  readonly ok: boolean;
  readonly bytesSent: number;
  readonly error: string;
}

export class SnapshotSend {
  readonly peerId: number;
  readonly result: Promise<SnapshotSendResult>;
  readonly #socket: Socket;
  #bytesSent = 0;
  #settled = false;
  #settle!: (result: SnapshotSendResult) => void;

  constructor(message: Message, address: { readonly host: string; readonly port: number }, options: ResolvedTransportOptions) {
    assert(message.snapshot !== null, 'a snapshot send carries a snapshot');
    this.peerId = message.to;
    this.result = new Promise((resolve) => {
      this.#settle = resolve;
    });
    const socket = connect({ host: address.host, port: address.port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(options.limits.snapshotIdleTimeoutMs, () => this.#finish(false, 'snapshot stream idle too long'));
    socket.on('error', (error) => this.#finish(false, error.message));
    socket.on('close', () => this.#finish(false, 'connection closed before the acknowledgement'));
    socket.on('data', (chunk: Buffer) => this.#onData(splitter, chunk));
    const splitter = new FrameSplitter(replyFrameBytesMax);
    socket.once('connect', () => {
      this.#stream(message, options).catch((error: unknown) => this.#finish(false, error instanceof Error ? error.message : String(error)));
    });
  }

  /** Gives up on the send (peer removed, transport closing); the result becomes false. */
  abort(reason: string): void {
    this.#finish(false, reason);
  }

  async #stream(message: Message, options: ResolvedTransportOptions): Promise<void> {
    const snapshot = message.snapshot;
    assert(snapshot !== null, 'checked in the constructor');
    this.#write(encodeHandshakeFrame({
      version: protocolVersion, stream: StreamKind.Snapshot, clusterId: options.clusterId, senderId: options.memberId, receiverId: message.to,
    }));
    this.#write(encodeSnapshotHeaderFrame(message));
    const fileBytes = snapshot.data.length;
    for (let offset = 0; offset < fileBytes && !this.#settled; offset += options.limits.snapshotChunkBytes) {
      const data = snapshot.data.subarray(offset, Math.min(fileBytes, offset + options.limits.snapshotChunkBytes));
      const chunk = encodeSnapshotChunk({ offset, fileBytes, data });
      assert(chunk.length === snapshotChunkHeaderBytes + data.length, 'chunk is header plus data');
      this.#write(encodeSnapshotChunkFramePrefix(chunk.length));
      // Respect backpressure: a multi-gigabyte snapshot must not be buffered in the socket whole.
      if (!this.#write(chunk)) await this.#drained();
    }
  }

  #write(bytes: Uint8Array): boolean {
    if (this.#settled) return true;
    this.#bytesSent += bytes.length;
    return this.#socket.write(bytes);
  }

  async #drained(): Promise<void> {
    if (this.#settled) return;
    // 'close' also ends the wait, so an aborted stream does not leave this loop hanging. Both listeners go
    // once either fires: a multi-gigabyte stream waits thousands of times.
    const socket = this.#socket;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  #onData(splitter: FrameSplitter, chunk: Buffer): void {
    try {
      splitter.push(chunk, (payload) => {
        const frame = decodeFrame(payload);
        if (frame.kind === FrameKind.SnapshotAck) this.#finish(frame.ok, frame.ok ? '' : 'the receiver rejected the snapshot');
        else if (frame.kind === FrameKind.Refuse) this.#finish(false, `refused by the peer: ${frame.reason}`);
        else this.#finish(false, `unexpected ${FrameKind[frame.kind]} frame on a snapshot stream`);
        return false;
      });
    } catch (error) {
      this.#finish(false, error instanceof Error ? error.message : String(error));
    }
  }

  #finish(ok: boolean, error: string): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#socket.destroy();
    this.#settle({ ok, bytesSent: this.#bytesSent, error });
  }
}
