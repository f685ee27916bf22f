/**
 * WAL segment and checkpoint naming, listing and the segment header. Segments are `wal/00000001`,
 * `wal/00000002`, ... (eight decimal digits, increasing); a checkpoint is a directory
 * `wal/checkpoint.00000005` holding segments of its own and standing for every segment up to 5.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assert, TsdbError } from '../errors.ts';

/** "KTSW": keel time-series WAL. */
export const segmentMagic = 0x4b54_5357;
export const segmentFormatVersion = 1;
/** Magic (4 bytes), version (1), three zero bytes. */
export const segmentHeaderBytes = 8;
/** Segment numbers have eight digits. */
export const segmentIndexMax = 99_999_999;

const segmentNamePattern = /^\d{8}$/;
const checkpointNamePattern = /^checkpoint\.(\d{8})$/;

export interface SegmentFile {
  readonly index: number;
  readonly path: string;
}

export function segmentName(index: number): string {
  assert(Number.isInteger(index) && index >= 0 && index <= segmentIndexMax, 'segment index fits eight digits');
  return String(index).padStart(8, '0');
}

export function checkpointName(index: number): string {
  return `checkpoint.${segmentName(index)}`;
}

/** The 8-byte header every segment starts with. */
export function segmentHeader(): Uint8Array {
  const header = new Uint8Array(segmentHeaderBytes);
  new DataView(header.buffer).setUint32(0, segmentMagic);
  header[4] = segmentFormatVersion;
  return header;
}

/** Why `bytes` does not start with a valid segment header, or undefined when it does. */
export function segmentHeaderDefect(bytes: Uint8Array): string | undefined {
  if (bytes.length < segmentHeaderBytes) return `file has ${bytes.length} bytes, fewer than the ${segmentHeaderBytes}-byte header`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, segmentHeaderBytes);
  if (view.getUint32(0) !== segmentMagic) return 'bad magic number (not a keel TSDB WAL segment)';
  if (bytes[4] !== segmentFormatVersion) return `unsupported segment format version ${bytes[4]}`;
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) return 'reserved header bytes are not zero';
  return undefined;
}

/** Segments directly in `directory`, by increasing index; other entries are ignored. */
export async function listSegments(directory: string): Promise<SegmentFile[]> {
  const names = await readdirOrEmpty(directory);
  return names
    .filter((name) => segmentNamePattern.test(name))
    .map((name) => ({ index: Number(name), path: join(directory, name) }))
    .sort((left, right) => left.index - right.index);
}

/** Checkpoint directories (complete ones: no `.tmp` suffix), by increasing index. */
export async function listCheckpoints(directory: string): Promise<SegmentFile[]> {
  const names = await readdirOrEmpty(directory);
  const checkpoints: SegmentFile[] = [];
  for (const name of names) {
    const match = checkpointNamePattern.exec(name);
    if (match !== null) checkpoints.push({ index: Number(match[1]), path: join(directory, name) });
  }
  return checkpoints.sort((left, right) => left.index - right.index);
}

/** Checks that segment indexes are consecutive: a gap means a lost file, which replay must not skip. */
export function checkContiguous(segments: readonly SegmentFile[], directory: string): void {
  for (let position = 1; position < segments.length; position += 1) {
    const previous = segments[position - 1]!;
    const current = segments[position]!;
    if (current.index !== previous.index + 1) {
      throw new TsdbError('TSDB_WAL_CORRUPT',
        `WAL directory ${directory} is missing segment ${segmentName(previous.index + 1)} (between ${segmentName(previous.index)} and ${segmentName(current.index)}).`);
    }
  }
}

async function readdirOrEmpty(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
