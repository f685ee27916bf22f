/**
 * The snapshot file layout (specified in docs/format/snapshot.md):
 *
 *   offset 0  8 bytes  magic "KEELSNAP"
 *   offset 8  u16      format version
 *   offset 10 u16      reserved, zero
 *   offset 12 u32      conf state length C
 *   offset 16 u64      index
 *   offset 24 u64      term
 *   offset 32 u64      data length D
 *   offset 40 C bytes  conf state
 *   then      D bytes  data
 *   then      u32      CRC-32C of every byte before it
 *
 * All integers little-endian.
 */
import type { ConfState, NodeId, SnapshotMetadata } from '../raft/types.ts';
import { readUint64, writeUint64 } from './_binary.ts';
import { assert } from './errors.ts';

export const snapshotMagic = new TextEncoder().encode('KEELSNAP');
export const snapshotFormatVersion = 1;
export const snapshotHeaderBytes = 40;
export const snapshotTrailerBytes = 4;
/** Bound on the node IDs in each list of a conf state, so a damaged count cannot ask for a huge read. */
export const confStateNodesMax = 4096;
const confStateFixedBytes = 20;
/** The largest conf state encoding: four full lists. */
export const confStateBytesMax = confStateFixedBytes + 4 * confStateNodesMax * 8;

/** A snapshot file that failed its format checks; the caller adds the file name. */
export class SnapshotFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFormatError';
  }
}

export interface SnapshotHeader {
  readonly index: number;
  readonly term: number;
  readonly confStateBytes: number;
  readonly dataBytes: number;
}

export function snapshotFileBytes(header: SnapshotHeader): number {
  return snapshotHeaderBytes + header.confStateBytes + header.dataBytes + snapshotTrailerBytes;
}

/** The header and conf state: everything before the data. */
export function encodeSnapshotHead(metadata: SnapshotMetadata, dataBytes: number): Uint8Array {
  const confState = encodeConfState(metadata.confState);
  const head = new Uint8Array(snapshotHeaderBytes + confState.length);
  const view = new DataView(head.buffer);
  head.set(snapshotMagic, 0);
  view.setUint16(8, snapshotFormatVersion, true);
  view.setUint16(10, 0, true);
  view.setUint32(12, confState.length, true);
  writeUint64(view, 16, metadata.index);
  writeUint64(view, 24, metadata.term);
  writeUint64(view, 32, dataBytes);
  head.set(confState, snapshotHeaderBytes);
  return head;
}

export function decodeSnapshotHeader(bytes: Uint8Array): SnapshotHeader {
  if (bytes.length < snapshotHeaderBytes) throw new SnapshotFormatError('shorter than a snapshot header');
  for (let position = 0; position < snapshotMagic.length; position++) {
    if (bytes[position] !== snapshotMagic[position]) throw new SnapshotFormatError('bad magic: not a keel snapshot file');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  if (version !== snapshotFormatVersion) throw new SnapshotFormatError(`unsupported snapshot format version ${version}`);
  if (view.getUint16(10, true) !== 0) throw new SnapshotFormatError('reserved header bytes are not zero');
  const confStateBytes = view.getUint32(12, true);
  const index = readUint64(view, 16);
  const term = readUint64(view, 24);
  const dataBytes = readUint64(view, 32);
  if (confStateBytes > confStateBytesMax) throw new SnapshotFormatError(`conf state length ${confStateBytes} is over the bound`);
  if (index < 0 || term < 0 || dataBytes < 0) throw new SnapshotFormatError('a header number does not fit a safe integer');
  return { index, term, confStateBytes, dataBytes };
}

const confStateLists = ['voters', 'learners', 'votersOutgoing', 'learnersNext'] as const;

/** Four counts, the auto-leave flag, three reserved bytes, then every node ID as a u64. */
export function encodeConfState(confState: ConfState): Uint8Array {
  const lists = confStateLists.map((name) => confState[name]);
  const nodeCount = lists.reduce((sum, list) => sum + list.length, 0);
  const bytes = new Uint8Array(confStateFixedBytes + nodeCount * 8);
  const view = new DataView(bytes.buffer);
  let offset = confStateFixedBytes;
  lists.forEach((list, position) => {
    assert(list.length <= confStateNodesMax, 'too many nodes in a conf state list');
    view.setUint32(position * 4, list.length, true);
    for (const nodeId of list) {
      writeUint64(view, offset, nodeId);
      offset += 8;
    }
  });
  bytes[16] = confState.autoLeave ? 1 : 0;
  assert(offset === bytes.length, 'conf state size mismatch');
  return bytes;
}

export function decodeConfState(bytes: Uint8Array): ConfState {
  if (bytes.length < confStateFixedBytes) throw new SnapshotFormatError('conf state too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const counts = confStateLists.map((_, position) => view.getUint32(position * 4, true));
  if (counts.some((count) => count > confStateNodesMax)) throw new SnapshotFormatError('conf state list over its bound');
  if (bytes[16]! > 1 || bytes[17] !== 0 || bytes[18] !== 0 || bytes[19] !== 0) throw new SnapshotFormatError('bad conf state flags');
  const expectedBytes = confStateFixedBytes + counts.reduce((sum, count) => sum + count, 0) * 8;
  if (bytes.length !== expectedBytes) throw new SnapshotFormatError(`conf state is ${bytes.length} bytes, its counts say ${expectedBytes}`);
  let offset = confStateFixedBytes;
  const lists = counts.map((count) => {
    const list: NodeId[] = [];
    for (let position = 0; position < count; position++, offset += 8) {
      const nodeId = readUint64(view, offset);
      if (nodeId < 0) throw new SnapshotFormatError('node ID does not fit a safe integer');
      list.push(nodeId);
    }
    return list;
  });
  const [voters, learners, votersOutgoing, learnersNext] = lists as [NodeId[], NodeId[], NodeId[], NodeId[]];
  return { voters, learners, votersOutgoing, learnersNext, autoLeave: bytes[16] === 1 };
}
