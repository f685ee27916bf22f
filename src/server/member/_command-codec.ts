/**
 * How a store command travels in a log entry: one kind byte, then the etcd protobuf message for that kind
 * (PutRequest, DeleteRangeRequest, TxnRequest, ...), as etcd replicates its InternalRaftRequest. The
 * generated codecs are fast and allocation-light, and the encoder leaves room in front for the driver's
 * request ID, so a proposal is encoded exactly once.
 *
 *   entry.data = request ID (reserved by the caller) | kind (1 byte) | protobuf message
 *
 * The kind bytes are part of the on-disk format (WAL and snapshots hold entries): never renumber them.
 */
import type * as kv from '../../kv/index.ts';
import * as pb from '../proto/index.ts';
import { deleteRangeRequestFromProto, putRequestFromProto, txnRequestFromProto } from '../api/_convert.ts';
import type { StoreCommand } from './store-machine.ts';

const CommandKind = {
  put: 1,
  deleteRange: 2,
  txn: 3,
  compaction: 4,
  leaseGrant: 5,
  leaseRevoke: 6,
  alarm: 7,
  leaseCheckpoint: 8,
  memberAttributes: 9,
} as const satisfies Record<StoreCommand['kind'], number>;

export class CommandCodecError extends Error {
  readonly code = 'MEMBER_BAD_COMMAND';
  constructor(message: string) {
    super(message);
    this.name = 'CommandCodecError';
  }
}

/** Encodes a command, leaving the first `reservedBytes` bytes of the result for the caller to fill. */
export function encodeCommand(command: StoreCommand, reservedBytes = 0): Uint8Array {
  const bytes = encodeMessage(command, reservedBytes + 1);
  bytes[reservedBytes] = CommandKind[command.kind];
  // The command becomes a Raft entry's data, which the store keeps views of (adoptsRequestBytes): it gets an
  // ArrayBuffer of its own, not a slice of Node's shared 8 KiB pool, which the store would have to copy from.
  return bytes.buffer.byteLength === bytes.length ? bytes : new Uint8Array(bytes);
}

function encodeMessage(command: StoreCommand, reservedBytes: number): Uint8Array {
  switch (command.kind) {
    case 'put': return pb.encodePutRequest(putToProto(command.request), reservedBytes);
    case 'deleteRange': return pb.encodeDeleteRangeRequest(command.request, reservedBytes);
    case 'txn': return pb.encodeTxnRequest(txnToProto(command.request), reservedBytes);
    case 'compaction': return pb.encodeCompactionRequest(command.request, reservedBytes);
    case 'leaseGrant': return pb.encodeLeaseGrantRequest({ TTL: command.request.ttl, ID: toId(command.request.id ?? 0) }, reservedBytes);
    case 'leaseRevoke': return pb.encodeLeaseRevokeRequest({ ID: toId(command.request.id) }, reservedBytes);
    case 'alarm': {
      const { action, memberId, alarm } = command.request;
      return pb.encodeAlarmRequest({ action, memberID: toId(memberId ?? 0), alarm }, reservedBytes);
    }
    case 'leaseCheckpoint': {
      const checkpoints = command.request.checkpoints.map((checkpoint) => ({ ID: toId(checkpoint.id), remainingTTL: checkpoint.remainingTtl }));
      return pb.encodeLeaseCheckpointRequest({ checkpoints }, reservedBytes);
    }
    case 'memberAttributes': {
      const { id, name, clientUrls } = command.request;
      return pb.encodeMember({ ID: toId(id), name, clientURLs: clientUrls }, reservedBytes);
    }
  }
}

/** Decodes what `encodeCommand` wrote (without the reserved prefix). Bytes fields alias `bytes`. */
export function decodeCommand(bytes: Uint8Array): StoreCommand {
  if (bytes.length === 0) throw new CommandCodecError('empty store command');
  const message = bytes.subarray(1);
  try {
    return decodeMessage(bytes[0]!, message);
  } catch (error) {
    if (error instanceof CommandCodecError) throw error;
    throw new CommandCodecError(`malformed store command of kind ${bytes[0]}: ${(error as Error).message}`);
  }
}

function decodeMessage(kind: number, message: Uint8Array): StoreCommand {
  switch (kind) {
    case CommandKind.put: return { kind: 'put', request: putRequestFromProto(pb.decodePutRequest(message)) };
    case CommandKind.deleteRange: return { kind: 'deleteRange', request: deleteRangeRequestFromProto(pb.decodeDeleteRangeRequest(message)) };
    case CommandKind.txn: return { kind: 'txn', request: txnRequestFromProto(pb.decodeTxnRequest(message)) };
    case CommandKind.compaction: {
      const request = pb.decodeCompactionRequest(message);
      return { kind: 'compaction', request: { revision: request.revision, physical: request.physical } };
    }
    case CommandKind.leaseGrant: {
      const request = pb.decodeLeaseGrantRequest(message);
      return { kind: 'leaseGrant', request: { ttl: request.TTL, id: fromId(request.ID) } };
    }
    case CommandKind.leaseRevoke: return { kind: 'leaseRevoke', request: { id: fromId(pb.decodeLeaseRevokeRequest(message).ID) } };
    case CommandKind.alarm: {
      const request = pb.decodeAlarmRequest(message);
      return { kind: 'alarm', request: { action: request.action as number as kv.AlarmAction, memberId: fromId(request.memberID), alarm: request.alarm as number as kv.AlarmType } };
    }
    case CommandKind.leaseCheckpoint: {
      const checkpoints = pb.decodeLeaseCheckpointRequest(message).checkpoints.map((checkpoint) => ({ id: fromId(checkpoint.ID), remainingTtl: checkpoint.remainingTTL }));
      return { kind: 'leaseCheckpoint', request: { checkpoints } };
    }
    case CommandKind.memberAttributes: {
      const member = pb.decodeMember(message);
      return { kind: 'memberAttributes', request: { id: fromId(member.ID), name: member.name, clientUrls: member.clientURLs } };
    }
    default: throw new CommandCodecError(`unknown store command kind ${kind}`);
  }
}

function toId(id: number): bigint {
  return id === 0 ? 0n : BigInt(id);
}

function fromId(id: bigint): number {
  const value = Number(id);
  if (!Number.isSafeInteger(value)) throw new CommandCodecError(`ID ${id} is not a safe integer`);
  return value;
}

// Store requests → wire messages: the inverse of api/_convert.ts's *FromProto, for the kinds with nesting
// or 64-bit IDs.

function putToProto(request: kv.PutRequest): pb.PutRequestInit {
  const { key, value, lease, prevKv, ignoreValue, ignoreLease } = request;
  return { key, value, lease: toId(lease ?? 0), prevKv, ignoreValue, ignoreLease };
}

function rangeToProto(request: kv.RangeRequest): pb.RangeRequestInit {
  return {
    ...request,
    sortOrder: request.sortOrder as number as pb.RangeRequestSortOrder | undefined,
    sortTarget: request.sortTarget as number as pb.RangeRequestSortTarget | undefined,
  };
}

function compareToProto(compare: kv.Compare): pb.CompareInit {
  const base = { result: compare.result as number as pb.CompareResult, target: compare.target as number as pb.CompareTarget, key: compare.key, rangeEnd: compare.rangeEnd };
  if (compare.version !== undefined) return { ...base, targetUnion: { case: 'version', value: compare.version } };
  if (compare.createRevision !== undefined) return { ...base, targetUnion: { case: 'createRevision', value: compare.createRevision } };
  if (compare.modRevision !== undefined) return { ...base, targetUnion: { case: 'modRevision', value: compare.modRevision } };
  if (compare.value !== undefined) return { ...base, targetUnion: { case: 'value', value: compare.value } };
  if (compare.lease !== undefined) return { ...base, targetUnion: { case: 'lease', value: toId(compare.lease) } };
  return base;
}

function requestOpToProto(op: kv.RequestOp): pb.RequestOpInit {
  if (op.requestRange !== undefined) return { request: { case: 'requestRange', value: rangeToProto(op.requestRange) } };
  if (op.requestPut !== undefined) return { request: { case: 'requestPut', value: putToProto(op.requestPut) } };
  if (op.requestDeleteRange !== undefined) return { request: { case: 'requestDeleteRange', value: op.requestDeleteRange } };
  if (op.requestTxn !== undefined) return { request: { case: 'requestTxn', value: txnToProto(op.requestTxn) } };
  return {};
}

function txnToProto(request: kv.TxnRequest): pb.TxnRequestInit {
  return {
    compare: request.compare?.map(compareToProto),
    success: request.success?.map(requestOpToProto),
    failure: request.failure?.map(requestOpToProto),
  };
}
