/**
 * HTTP/2 frame constants and writers (RFC 9113 §4, §6): the 9-byte frame header, frame types, flags, error
 * codes and settings identifiers, and builders for the frames a server sends.
 */
import { Buffer } from 'node:buffer';

export const frameHeaderBytes = 9;
/** SETTINGS_MAX_FRAME_SIZE's floor and initial value. */
export const frameBytesDefault = 16_384;
/** SETTINGS_MAX_FRAME_SIZE's ceiling (2^24 - 1). */
export const frameBytesCeiling = 0xffffff;
/** The initial flow-control window of every stream and of the connection. */
export const windowBytesDefault = 65_535;
/** The largest flow-control window (2^31 - 1). */
export const windowBytesMax = 0x7fffffff;

export enum FrameType {
  Data = 0x0,
  Headers = 0x1,
  Priority = 0x2,
  RstStream = 0x3,
  Settings = 0x4,
  PushPromise = 0x5,
  Ping = 0x6,
  GoAway = 0x7,
  WindowUpdate = 0x8,
  Continuation = 0x9,
}

/** Frame flags. ACK (SETTINGS, PING) has END_STREAM's bit; see `ackFlag`. */
export enum Flag {
  EndStream = 0x1,
  EndHeaders = 0x4,
  Padded = 0x8,
  Priority = 0x20,
}

/** The ACK flag of SETTINGS and PING frames. */
export const ackFlag = 0x1;

/** Error codes (RFC 9113 §7). */
export enum ErrorCode {
  NoError = 0x0,
  ProtocolError = 0x1,
  InternalError = 0x2,
  FlowControlError = 0x3,
  SettingsTimeout = 0x4,
  StreamClosed = 0x5,
  FrameSizeError = 0x6,
  RefusedStream = 0x7,
  Cancel = 0x8,
  CompressionError = 0x9,
  ConnectError = 0xa,
  EnhanceYourCalm = 0xb,
  InadequateSecurity = 0xc,
  Http11Required = 0xd,
}

export enum Setting {
  HeaderTableSize = 0x1,
  EnablePush = 0x2,
  MaxConcurrentStreams = 0x3,
  InitialWindowSize = 0x4,
  MaxFrameSize = 0x5,
  MaxHeaderListSize = 0x6,
}

/** Writes a frame header at `offset` of `out`. */
export function writeFrameHeader(out: Uint8Array, offset: number, length: number, type: FrameType, flags: number, streamId: number): void {
  out[offset] = (length >>> 16) & 0xff;
  out[offset + 1] = (length >>> 8) & 0xff;
  out[offset + 2] = length & 0xff;
  out[offset + 3] = type;
  out[offset + 4] = flags;
  out[offset + 5] = (streamId >>> 24) & 0x7f;
  out[offset + 6] = (streamId >>> 16) & 0xff;
  out[offset + 7] = (streamId >>> 8) & 0xff;
  out[offset + 8] = streamId & 0xff;
}

/** A frame whose payload is a sequence of 32-bit words (RST_STREAM, WINDOW_UPDATE, GOAWAY without debug data). */
function wordsFrame(type: FrameType, flags: number, streamId: number, words: readonly number[]): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderBytes + 4 * words.length);
  writeFrameHeader(frame, 0, 4 * words.length, type, flags, streamId);
  for (let index = 0; index < words.length; index++) frame.writeUInt32BE(words[index]! >>> 0, frameHeaderBytes + 4 * index);
  return frame;
}

export function rstStreamFrame(streamId: number, code: ErrorCode): Buffer {
  return wordsFrame(FrameType.RstStream, 0, streamId, [code]);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  return wordsFrame(FrameType.WindowUpdate, 0, streamId, [increment & windowBytesMax]);
}

export function goAwayFrame(lastStreamId: number, code: ErrorCode, debug = ''): Buffer {
  const data = Buffer.from(debug, 'utf8');
  const frame = Buffer.allocUnsafe(frameHeaderBytes + 8 + data.length);
  writeFrameHeader(frame, 0, 8 + data.length, FrameType.GoAway, 0, 0);
  frame.writeUInt32BE(lastStreamId & windowBytesMax, frameHeaderBytes);
  frame.writeUInt32BE(code, frameHeaderBytes + 4);
  data.copy(frame, frameHeaderBytes + 8);
  return frame;
}

export function pingFrame(payload: Uint8Array, ack: boolean): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderBytes + 8);
  writeFrameHeader(frame, 0, 8, FrameType.Ping, ack ? ackFlag : 0, 0);
  frame.set(payload.subarray(0, 8), frameHeaderBytes);
  return frame;
}

export function settingsFrame(settings: readonly (readonly [Setting, number])[]): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderBytes + 6 * settings.length);
  writeFrameHeader(frame, 0, 6 * settings.length, FrameType.Settings, 0, 0);
  settings.forEach(([id, value], index) => {
    frame.writeUInt16BE(id, frameHeaderBytes + 6 * index);
    frame.writeUInt32BE(value >>> 0, frameHeaderBytes + 6 * index + 2);
  });
  return frame;
}

export const settingsAckFrame: Buffer = (() => {
  const frame = Buffer.alloc(frameHeaderBytes);
  writeFrameHeader(frame, 0, 0, FrameType.Settings, ackFlag, 0);
  return frame;
})();

/**
 * A header block as HEADERS plus CONTINUATION frames, none longer than `frameBytesMax`. The block is usually
 * small and pre-encoded, so the common case is one HEADERS frame.
 */
export function headersFrames(streamId: number, block: Uint8Array, endStream: boolean, frameBytesMax: number): Buffer {
  const frames = Math.max(1, Math.ceil(block.length / frameBytesMax));
  const out = Buffer.allocUnsafe(frames * frameHeaderBytes + block.length);
  let offset = 0;
  for (let index = 0; index < frames; index++) {
    const start = index * frameBytesMax;
    const length = Math.min(frameBytesMax, block.length - start);
    const last = index === frames - 1;
    const type = index === 0 ? FrameType.Headers : FrameType.Continuation;
    const flags = (last ? Flag.EndHeaders : 0) | (index === 0 && endStream ? Flag.EndStream : 0);
    writeFrameHeader(out, offset, length, type, flags, streamId);
    out.set(block.subarray(start, start + length), offset + frameHeaderBytes);
    offset += frameHeaderBytes + length;
  }
  return out;
}
