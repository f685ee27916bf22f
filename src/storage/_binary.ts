/**
 * Little-endian integer helpers and small file-system helpers shared by the WAL and the snapshot files.
 * Integers above 32 bits are written as two 32-bit halves: JavaScript numbers are exact up to 2^53, and
 * BigInt conversion would allocate on the hot path.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { assert } from './errors.ts';

const twoToThe32 = 2 ** 32;

/** Writes a non-negative safe integer as an unsigned 64-bit little-endian value. */
export function writeUint64(view: DataView, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, () => `not a non-negative safe integer: ${value}`);
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / twoToThe32), true);
}

/** Reads an unsigned 64-bit little-endian value, or -1 when it does not fit a safe integer. */
export function readUint64(view: DataView, offset: number): number {
  const low = view.getUint32(offset, true);
  const high = view.getUint32(offset + 4, true);
  if (high >= 0x200000) return -1;
  return high * twoToThe32 + low;
}

/** Rounds `bytes` up to the next multiple of 8. */
export function alignTo8(bytes: number): number {
  return (bytes + 7) & ~7;
}

/** True when every byte of `bytes` in [start, end) is zero. */
export function isAllZero(bytes: Uint8Array, start: number, end: number): boolean {
  assert(start >= 0 && end <= bytes.length, 'isAllZero range out of bounds');
  for (let index = start; index < end; index++) {
    if (bytes[index] !== 0) return false;
  }
  return true;
}

/**
 * Writes all of `bytes` at `position`. One write() may transfer less than asked (Linux caps a single
 * transfer at about 2 GiB), so this loops until everything is written.
 */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const result = await handle.write(bytes, written, bytes.length - written, position + written);
    assert(result.bytesWritten > 0, 'write() made no progress');
    written += result.bytesWritten;
  }
}

/** Reads exactly `length` bytes at `position`; fewer only when the file ends first. */
export async function readFully(handle: FileHandle, buffer: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const result = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (result.bytesRead === 0) break;
    filled += result.bytesRead;
  }
  return filled;
}

/**
 * Makes a directory's entries durable (a created, renamed or deleted file). Without it a crash can forget
 * a rename that the file's own fsync already covered.
 */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Formats a non-negative integer as 16 decimal digits, so that file names sort by number. */
export function formatNameNumber(value: number): string {
  assert(Number.isSafeInteger(value) && value >= 0, () => `cannot name a file after ${value}`);
  return value.toString().padStart(16, '0');
}
