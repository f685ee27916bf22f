/**
 * gRPC message framing over an HTTP/2 stream: each message is a 1-byte compressed flag, a 4-byte
 * big-endian length, then the payload (PROTOCOL-HTTP2.md, "Length-Prefixed-Message"). Also the
 * `grpc-timeout` header and message decompression.
 */
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { GrpcError, Status } from './status.ts';

export const frameHeaderBytes = 5;
/** The length field is 32 bits; nothing larger can be framed. */
export const frameLengthMax = 0xffffffff;

/** Writes the 5-byte frame header into the space an encoder reserved at the front of `frame`. */
export function writeFrameHeader(frame: Uint8Array, compressed: boolean): void {
  const length = frame.length - frameHeaderBytes;
  if (length < 0 || length > frameLengthMax) throw new RangeError('frame has no room for its header');
  frame[0] = compressed ? 1 : 0;
  frame[1] = length >>> 24;
  frame[2] = (length >>> 16) & 0xff;
  frame[3] = (length >>> 8) & 0xff;
  frame[4] = length & 0xff;
}

/** Frames an already-encoded message by copying it behind a header (for callers without reserved room). */
export function frameMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderBytes + message.length);
  frame.set(message, frameHeaderBytes);
  writeFrameHeader(frame, false);
  return frame;
}

/**
 * Receives one deframed message: the payload (a view, no copy when possible) and its compressed flag.
 * Returns false to stop delivery; the deframer then keeps the rest of the chunk until `resume()`.
 */
export type MessageSink = (payload: Uint8Array, compressed: boolean) => boolean;

/**
 * Splits a byte stream into gRPC messages. Messages whose header and payload arrive in one chunk are
 * delivered as views of that chunk; a message split over chunks is assembled in one buffer allocated once
 * its (already bounded) length is known, so memory per call never exceeds one max-size message.
 *
 * @example
 * const deframer = new MessageDeframer(4 << 20, (payload) => handle(payload));
 * stream.on('data', (chunk) => deframer.push(chunk));
 */
export class MessageDeframer {
  readonly #messageBytesMax: number;
  readonly #sink: MessageSink;
  /** A header split over chunks is collected here; allocated on first need (most calls never split one). */
  #header: Buffer | undefined;
  /** Header bytes collected so far; frameHeaderBytes means the header is complete. */
  #headerFilled = 0;
  #compressed = false;
  /** The payload being assembled across chunks, or undefined between messages. */
  #body: Buffer | undefined;
  #bodyFilled = 0;
  /** Length of the message whose header was parsed last. */
  #pendingLength = 0;
  /** Unprocessed input held while the sink has stopped delivery. */
  #stash: Uint8Array | undefined;

  constructor(messageBytesMax: number, sink: MessageSink) {
    if (!Number.isInteger(messageBytesMax) || messageBytesMax < 0 || messageBytesMax > frameLengthMax) {
      throw new RangeError('messageBytesMax must be an integer between 0 and 2^32 - 1');
    }
    this.#messageBytesMax = messageBytesMax;
    this.#sink = sink;
  }

  /** True when no partial message is buffered: a stream may end here cleanly. */
  get idle(): boolean {
    return this.#headerFilled === 0 && this.#body === undefined && this.#stash === undefined;
  }

  /** True while delivery is stopped by the sink and a remainder is held. */
  get stopped(): boolean {
    return this.#stash !== undefined;
  }

  /**
   * Consumes a chunk; returns false if the sink stopped delivery (the rest is kept for `resume()`). Throws
   * GrpcError for an oversize message or a bad compressed flag.
   */
  push(chunk: Uint8Array): boolean {
    const stash = this.#stash;
    if (stash !== undefined) {
      // Data that was already in flight when the sink stopped: keep it behind the remainder.
      this.#stash = Buffer.concat([stash, chunk]);
      return false;
    }
    return this.#consume(chunk);
  }

  /** Continues delivering a kept remainder; returns false if the sink stopped again. */
  resume(): boolean {
    const stash = this.#stash;
    if (stash === undefined) return true;
    this.#stash = undefined;
    return this.#consume(stash);
  }

  #consume(chunk: Uint8Array): boolean {
    let offset = 0;
    // Each pass consumes header bytes, delivers a message or copies at least one payload byte.
    while (offset < chunk.length) {
      if (this.#body === undefined) {
        if (this.#headerFilled === 0 && chunk.length - offset >= frameHeaderBytes) {
          // Fast path: a whole header at a message boundary is parsed in place.
          const length = this.#beginMessage(chunk, offset);
          offset += frameHeaderBytes;
          if (chunk.length - offset >= length) {
            const payload = chunk.subarray(offset, offset + length);
            offset += length;
            if (!this.#deliver(payload)) return this.#stop(chunk, offset);
            continue;
          }
        } else {
          const taken = Math.min(frameHeaderBytes - this.#headerFilled, chunk.length - offset);
          const header = (this.#header ??= Buffer.alloc(frameHeaderBytes));
          header.set(chunk.subarray(offset, offset + taken), this.#headerFilled);
          this.#headerFilled += taken;
          offset += taken;
          if (this.#headerFilled < frameHeaderBytes) return true;
          if (this.#beginMessage(header, 0) === 0) {
            if (!this.#deliver(chunk.subarray(offset, offset))) return this.#stop(chunk, offset);
            continue;
          }
        }
        this.#body = Buffer.allocUnsafe(this.#pendingLength);
        this.#bodyFilled = 0;
      }
      const body = this.#body;
      const taken = Math.min(body.length - this.#bodyFilled, chunk.length - offset);
      body.set(chunk.subarray(offset, offset + taken), this.#bodyFilled);
      this.#bodyFilled += taken;
      offset += taken;
      if (this.#bodyFilled === body.length) {
        this.#body = undefined;
        if (!this.#deliver(body)) return this.#stop(chunk, offset);
      }
    }
    return true;
  }

  #stop(chunk: Uint8Array, offset: number): false {
    if (offset < chunk.length) this.#stash = chunk.subarray(offset);
    return false;
  }

  #deliver(payload: Uint8Array): boolean {
    this.#headerFilled = 0;
    return this.#sink(payload, this.#compressed);
  }

  #beginMessage(source: Uint8Array, offset: number): number {
    const flag = source[offset]!;
    const length = ((source[offset + 1]! << 24) | (source[offset + 2]! << 16) | (source[offset + 3]! << 8) | source[offset + 4]!) >>> 0;
    if (flag > 1) throw new GrpcError(Status.INTERNAL, `grpc: invalid compressed flag ${flag}`);
    if (length > this.#messageBytesMax) {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `grpc: received message larger than max (${length} vs. ${this.#messageBytesMax})`);
    }
    this.#compressed = flag === 1;
    this.#headerFilled = frameHeaderBytes;
    this.#pendingLength = length;
    return length;
  }
}

// ---------------------------------------------------------------------------------------------------
// Compression
// ---------------------------------------------------------------------------------------------------

/** Encodings this server can decode, as advertised in `grpc-accept-encoding`. */
export const acceptedEncodings = 'identity,gzip,deflate';

export type MessageEncoding = 'identity' | 'gzip' | 'deflate';

/** Parses a request's `grpc-encoding`; undefined means the server cannot decode it. */
export function parseMessageEncoding(header: string | undefined): MessageEncoding | undefined {
  if (header === undefined || header === 'identity') return 'identity';
  if (header === 'gzip' || header === 'deflate') return header;
  return undefined;
}

/**
 * Inflates a compressed message. Runs synchronously: the output is bounded by `messageBytesMax`
 * (etcd's 2 MiB request ceiling inflates in a few milliseconds), and keeping it synchronous keeps messages
 * in order without a queue. The bound also defuses decompression bombs.
 */
export function decompress(payload: Uint8Array, encoding: MessageEncoding, messageBytesMax: number): Buffer {
  if (encoding === 'identity') {
    throw new GrpcError(Status.INTERNAL, 'grpc: compressed flag set with identity or empty encoding');
  }
  const options = { maxOutputLength: Math.max(1, messageBytesMax) };
  try {
    return encoding === 'gzip' ? zlib.gunzipSync(payload, options) : zlib.inflateSync(payload, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `grpc: received message after decompression larger than max (${messageBytesMax})`);
    }
    throw new GrpcError(Status.INTERNAL, `grpc: failed to decompress the received message: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------------------

const timeoutUnitMs: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/**
 * Parses `grpc-timeout` (up to 8 digits and a unit: H, M, S, m, u, n) into milliseconds. Returns
 * undefined when the header is absent; throws GrpcError INTERNAL when it is malformed, as grpc-go does.
 *
 * @example
 * parseGrpcTimeout('250m'); // 250
 */
export function parseGrpcTimeout(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(header);
  if (match === null) throw new GrpcError(Status.INTERNAL, `malformed grpc-timeout: ${header}`);
  return Number(match[1]) * timeoutUnitMs[match[2]!]!;
}
