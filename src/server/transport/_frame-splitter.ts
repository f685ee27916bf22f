/**
 * Cuts a TCP byte stream into frame payloads. Socket chunks are kept in a list and copied once, when a
 * whole frame is present, so a 1 MiB snapshot chunk arriving in 64 KiB pieces costs one copy, not sixteen.
 */
import { frameLengthBytes } from './codec.ts';
import { TransportError, assert } from './errors.ts';

export class FrameSplitter {
  #frameBytesMax: number;
  readonly #chunks: Uint8Array[] = [];
  /** Invariant: the sum of the lengths of #chunks. */
  #bufferedBytes = 0;
  /** The payload length of the frame being assembled, once its prefix is in; null before. */
  #payloadBytes: number | null = null;

  constructor(frameBytesMax: number) {
    assert(Number.isSafeInteger(frameBytesMax) && frameBytesMax > 0, 'frame bound is positive');
    this.#frameBytesMax = frameBytesMax;
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Raises or lowers the bound for frames not yet started (a connection grows it after its handshake). */
  setFrameBytesMax(frameBytesMax: number): void {
    assert(Number.isSafeInteger(frameBytesMax) && frameBytesMax > 0, 'frame bound is positive');
    this.#frameBytesMax = frameBytesMax;
  }

  /**
   * Adds a socket chunk and hands every frame payload now complete to `onPayload`, in order, one at a time
   * so that a handler may change the bound or stop (return false) between frames. Throws
   * TRANSPORT_FRAME_TOO_LARGE when a length prefix is over the bound (before buffering that frame).
   */
  push(chunk: Uint8Array, onPayload: (payload: Uint8Array) => boolean): void {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#bufferedBytes += chunk.length;
    }
    while (true) {
      if (this.#payloadBytes === null) {
        if (this.#bufferedBytes < frameLengthBytes) break;
        const prefix = this.#take(frameLengthBytes);
        const length = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(0);
        if (length === 0) throw new TransportError('TRANSPORT_FRAME_MALFORMED', 'malformed peer frame: empty frame');
        if (length > this.#frameBytesMax) {
          throw new TransportError('TRANSPORT_FRAME_TOO_LARGE', `peer frame of ${length} bytes is over the bound ${this.#frameBytesMax}`);
        }
        this.#payloadBytes = length;
      }
      if (this.#bufferedBytes < this.#payloadBytes) break;
      const payload = this.#take(this.#payloadBytes);
      this.#payloadBytes = null;
      if (!onPayload(payload)) break;
    }
  }

  /** Removes the first `bytes` buffered bytes; a view when they sit in one chunk, a copy otherwise. */
  #take(bytes: number): Uint8Array {
    assert(bytes <= this.#bufferedBytes, 'take within the buffered bytes');
    const first = this.#chunks[0]!;
    this.#bufferedBytes -= bytes;
    if (first.length >= bytes) {
      if (first.length === bytes) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(bytes);
      return first.subarray(0, bytes);
    }
    const result = new Uint8Array(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.#chunks[0]!;
      const used = Math.min(chunk.length, bytes - filled);
      result.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return result;
  }
}
