import { assert } from './assert.ts';
import { type ConfChange, ConfChangeTransition, ConfChangeType, type ConfChangeSingle } from './types.ts';

/**
 * ConfChange encoding for log entries: version byte, transition, change count, then (type, node ID) per
 * change, then the context. Node IDs are written as two 32-bit halves so any safe integer round-trips.
 */
const formatVersion = 1;
const transitions = [ConfChangeTransition.Auto, ConfChangeTransition.JointImplicit, ConfChangeTransition.JointExplicit];
const changeTypes = [ConfChangeType.AddNode, ConfChangeType.RemoveNode, ConfChangeType.AddLearner];
/** Bound on changes in one ConfChange, so a corrupt entry cannot ask for a huge allocation. */
export const confChangeChangesMax = 1024;

export class CodecError extends Error {
  readonly code = 'RAFT_BAD_ENCODING';
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

export function encodeConfChange(change: ConfChange): Uint8Array {
  assert(change.changes.length <= confChangeChangesMax, 'too many changes in one ConfChange');
  const bytes = new Uint8Array(4 + change.changes.length * 9 + change.context.length);
  const view = new DataView(bytes.buffer);
  bytes[0] = formatVersion;
  bytes[1] = transitions.indexOf(change.transition);
  view.setUint16(2, change.changes.length);
  let offset = 4;
  for (const single of change.changes) {
    bytes[offset] = changeTypes.indexOf(single.type);
    view.setUint32(offset + 1, Math.floor(single.nodeId / 2 ** 32));
    view.setUint32(offset + 5, single.nodeId >>> 0);
    offset += 9;
  }
  bytes.set(change.context, offset);
  return bytes;
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  if (bytes.length < 4 || bytes[0] !== formatVersion) throw new CodecError('not a ConfChange entry (bad header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const transition = transitions[bytes[1]!];
  const count = view.getUint16(2);
  if (transition === undefined || count > confChangeChangesMax || bytes.length < 4 + count * 9) {
    throw new CodecError('malformed ConfChange entry');
  }
  const changes: ConfChangeSingle[] = [];
  let offset = 4;
  for (let i = 0; i < count; i++) {
    const type = changeTypes[bytes[offset]!];
    if (type === undefined) throw new CodecError(`unknown ConfChange type ${bytes[offset]}`);
    changes.push({ type, nodeId: view.getUint32(offset + 1) * 2 ** 32 + view.getUint32(offset + 5) });
    offset += 9;
  }
  return { transition, changes, context: bytes.slice(offset) };
}
