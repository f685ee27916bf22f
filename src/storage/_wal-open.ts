/**
 * Replay of a WAL directory at start-up: every segment is read and checked in sequence order, records feed
 * the LogReplay, and a torn tail of the last segment is cut off (and reported) once everything else passed.
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EntryDataArena, RecordFormatError, RecordType, decodeEntry, decodeHardState, decodeSnapshotMarker, metadataBytesMax, recordHeaderBytes } from './_wal-record.ts';
import type { SnapshotMarker } from './_wal-record.ts';
import type { LogReplay } from './_wal-replay.ts';
import { type SegmentFile, corruptAt, scanSegment } from './_wal-segment.ts';
import { assert } from './errors.ts';
import type { StorageLogger } from './logger.ts';
import type { WalRepair } from './wal.ts';

export interface ReplayContext {
  readonly directory: string;
  readonly replay: LogReplay;
  readonly logger: StorageLogger;
}

export interface ReplayedSegments {
  readonly metadata: Uint8Array;
  readonly chainCrc: number;
  readonly lastSegment: SegmentFile;
  /** The last segment's size after any repair. */
  readonly lastSegmentBytes: number;
  readonly latestMarker: SnapshotMarker | null;
  readonly repair: WalRepair | null;
}

interface RecordLocation {
  readonly path: string;
  readonly offset: number;
}

export async function replaySegments(segments: readonly SegmentFile[], context: ReplayContext): Promise<ReplayedSegments> {
  assert(segments.length > 0, 'replay needs a segment');
  checkSequences(segments, context.directory);
  const visitor = new RecordVisitorState(context.replay);
  let previousCrc: number | null = null;
  let lastScan = null;
  for (let position = 0; position < segments.length; position++) {
    const segment = segments[position]!;
    const path = join(context.directory, segment.fileName);
    const file = await readFile(path);
    // A plain Uint8Array view, so that entry data sliced from it is a Uint8Array and not a Buffer.
    const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
    visitor.startSegment(path);
    const scan = scanSegment(bytes, { path, isLast: position === segments.length - 1, previousCrc }, visitor.visit);
    if (scan.header.sequence !== segment.sequence || scan.header.firstIndex !== segment.firstIndex) {
      throw corruptAt(path, 0, `the segment header (sequence ${scan.header.sequence}, first index ${scan.header.firstIndex}) does not match the file name`);
    }
    if (!visitor.segmentHasMetadata) throw corruptAt(path, 0, 'the segment has no metadata record');
    previousCrc = scan.chainCrc;
    lastScan = { path, scan, fileBytes: bytes.length };
  }
  assert(lastScan !== null && previousCrc !== null, 'replay read no segment');
  checkCommit(context.replay, visitor.hardStateLocation);
  const repair = lastScan.scan.tornReason === null ? null : await repairTornTail(lastScan.path, {
    offset: lastScan.scan.validBytes, droppedBytes: lastScan.fileBytes - lastScan.scan.validBytes, reason: lastScan.scan.tornReason,
  }, context.logger);
  return {
    metadata: visitor.metadata!,
    chainCrc: previousCrc,
    lastSegment: segments[segments.length - 1]!,
    lastSegmentBytes: lastScan.scan.validBytes,
    latestMarker: visitor.latestMarker,
    repair,
  };
}

/** Sequences must follow one another: a missing segment in the middle is lost data. */
function checkSequences(segments: readonly SegmentFile[], directory: string): void {
  for (let position = 1; position < segments.length; position++) {
    const before = segments[position - 1]!;
    const segment = segments[position]!;
    if (segment.sequence !== before.sequence + 1) {
      throw corruptAt(join(directory, segment.fileName), 0, `segment sequence ${segment.sequence} follows ${before.sequence}: a segment is missing`);
    }
  }
}

/** The hard state's commit can never pass the log: entries are written before the hard state naming them. */
function checkCommit(replay: LogReplay, location: RecordLocation | null): void {
  const reach = Math.max(replay.lastIndex, replay.markerIndex);
  if (location !== null && replay.hardState.commit > reach) {
    throw corruptAt(location.path, location.offset, `the hard state commit ${replay.hardState.commit} is past the end of the log at ${reach}`);
  }
}

async function repairTornTail(path: string, repair: Omit<WalRepair, 'file'>, logger: StorageLogger): Promise<WalRepair> {
  assert(repair.offset % 8 === 0 && repair.droppedBytes > 0, 'a repair cuts at a record boundary and drops something');
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(repair.offset);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  logger.warn('WAL repaired a torn tail', { file: path, offset: repair.offset, droppedBytes: repair.droppedBytes, reason: repair.reason });
  return { file: path, ...repair };
}

/**
 * Decodes records into the replay. Each segment must carry, right after its header, the same metadata
 * as the first segment: a segment from another member's WAL is corruption, not data.
 */
class RecordVisitorState {
  readonly #replay: LogReplay;
  readonly #arena = new EntryDataArena();
  metadata: Uint8Array | null = null;
  latestMarker: SnapshotMarker | null = null;
  hardStateLocation: RecordLocation | null = null;
  segmentHasMetadata = false;
  #path = '';
  #recordCount = 0;

  constructor(replay: LogReplay) {
    this.#replay = replay;
  }

  startSegment(path: string): void {
    this.#path = path;
    this.#recordCount = 0;
    this.segmentHasMetadata = false;
  }

  readonly visit = (type: RecordType, bytes: Uint8Array, view: DataView, payload: number, payloadBytes: number): void => {
    this.#recordCount++;
    if (this.#recordCount === 1 && type !== RecordType.Metadata) throw new RecordFormatError('the segment header is not followed by metadata');
    switch (type) {
      case RecordType.Entry:
        this.#replay.applyEntry(decodeEntry(bytes, view, payload, payloadBytes, this.#arena));
        break;
      case RecordType.HardState:
        this.#replay.applyHardState(decodeHardState(view, payload, payloadBytes));
        this.hardStateLocation = { path: this.#path, offset: payload - recordHeaderBytes };
        break;
      case RecordType.SnapshotMarker:
        this.latestMarker = decodeSnapshotMarker(view, payload, payloadBytes);
        this.#replay.applySnapshotMarker(this.latestMarker);
        break;
      case RecordType.Metadata:
        this.#visitMetadata(bytes.subarray(payload, payload + payloadBytes));
        break;
      case RecordType.SegmentHeader:
        throw new RecordFormatError('a segment header in the middle of a segment');
    }
  };

  #visitMetadata(metadata: Uint8Array): void {
    if (this.#recordCount !== 1) throw new RecordFormatError('a metadata record away from the segment head');
    if (metadata.length > metadataBytesMax) throw new RecordFormatError('metadata over its bound');
    if (this.metadata === null) this.metadata = metadata.slice();
    else if (!equalBytes(this.metadata, metadata)) throw new RecordFormatError('the metadata differs from the first segment: a segment of another WAL?');
    this.segmentHasMetadata = true;
  }
}

function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}
