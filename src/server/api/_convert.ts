/**
 * Field-by-field mapping between the wire messages (src/server/proto: 64-bit IDs as bigint, oneofs as
 * `{ case, value }`) and the store's types (src/kv: camelCase, lease IDs as safe-integer numbers).
 */
import { GrpcError, Status } from '../grpc/index.ts';
import type * as kv from '../../kv/index.ts';
import type * as pb from '../proto/index.ts';
import type { HeaderInfo } from '../member/backend.ts';
import { unsafeIntegerMessage } from './_errors.ts';

/**
 * A wire int64/uint64 ID as a store number. The store keeps lease and alarm member IDs as safe integers, so a
 * larger value cannot name anything it holds: the request is refused rather than silently rounded.
 */
export function idToNumber(id: bigint): number {
  if (id > BigInt(Number.MAX_SAFE_INTEGER) || id < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new GrpcError(Status.INVALID_ARGUMENT, unsafeIntegerMessage);
  }
  return Number(id);
}

export function numberToId(id: number): bigint {
  if (!Number.isSafeInteger(id)) throw new GrpcError(Status.INTERNAL, 'keel: store returned a non-integer ID');
  return BigInt(id);
}

/** etcd's ResponseHeader: the member's identity and term, with the operation's own revision when it has one. */
export function responseHeader(info: HeaderInfo, revision?: number): pb.ResponseHeaderInit {
  const ownRevision = revision !== undefined && revision > 0 ? revision : info.revision;
  return { clusterId: info.clusterId, memberId: info.memberId, revision: ownRevision, raftTerm: info.raftTerm };
}

export function keyValueToProto(keyValue: kv.KeyValue): pb.KeyValueInit {
  return {
    key: keyValue.key,
    createRevision: keyValue.createRevision,
    modRevision: keyValue.modRevision,
    version: keyValue.version,
    value: keyValue.value,
    lease: numberToId(keyValue.lease),
  };
}

function optionalKeyValue(keyValue: kv.KeyValue | undefined): pb.KeyValueInit | undefined {
  return keyValue === undefined ? undefined : keyValueToProto(keyValue);
}

// -----------------------------------------------------------------------------------------------------
// Requests: wire → store
// -----------------------------------------------------------------------------------------------------

export function rangeRequestFromProto(request: pb.RangeRequest): kv.RangeRequest {
  return {
    key: request.key,
    rangeEnd: request.rangeEnd,
    limit: request.limit,
    revision: request.revision,
    sortOrder: request.sortOrder as number as kv.SortOrder,
    sortTarget: request.sortTarget as number as kv.SortTarget,
    serializable: request.serializable,
    keysOnly: request.keysOnly,
    countOnly: request.countOnly,
    minModRevision: request.minModRevision,
    maxModRevision: request.maxModRevision,
    minCreateRevision: request.minCreateRevision,
    maxCreateRevision: request.maxCreateRevision,
  };
}

export function putRequestFromProto(request: pb.PutRequest): kv.PutRequest {
  return {
    key: request.key,
    value: request.value,
    lease: idToNumber(request.lease),
    prevKv: request.prevKv,
    ignoreValue: request.ignoreValue,
    ignoreLease: request.ignoreLease,
  };
}

export function deleteRangeRequestFromProto(request: pb.DeleteRangeRequest): kv.DeleteRangeRequest {
  return { key: request.key, rangeEnd: request.rangeEnd, prevKv: request.prevKv };
}

function compareFromProto(compare: pb.Compare): kv.Compare {
  const result: kv.Compare = { result: compare.result as number as kv.CompareResult, target: compare.target as number as kv.CompareTarget, key: compare.key, rangeEnd: compare.rangeEnd };
  const operand = compare.targetUnion;
  if (operand === undefined) return result;
  switch (operand.case) {
    case 'version': return { ...result, version: operand.value };
    case 'createRevision': return { ...result, createRevision: operand.value };
    case 'modRevision': return { ...result, modRevision: operand.value };
    case 'value': return { ...result, value: operand.value };
    case 'lease': return { ...result, lease: idToNumber(operand.value) };
  }
}

function requestOpFromProto(op: pb.RequestOp): kv.RequestOp {
  const request = op.request;
  // etcd's checkRequestOp accepts an empty op and applies nothing for it; the store treats {} alike.
  if (request === undefined) return {};
  switch (request.case) {
    case 'requestRange': return { requestRange: rangeRequestFromProto(request.value) };
    case 'requestPut': return { requestPut: putRequestFromProto(request.value) };
    case 'requestDeleteRange': return { requestDeleteRange: deleteRangeRequestFromProto(request.value) };
    case 'requestTxn': return { requestTxn: txnRequestFromProto(request.value) };
  }
}

export function txnRequestFromProto(request: pb.TxnRequest): kv.TxnRequest {
  return {
    compare: request.compare.map(compareFromProto),
    success: request.success.map(requestOpFromProto),
    failure: request.failure.map(requestOpFromProto),
  };
}

// -----------------------------------------------------------------------------------------------------
// Responses: store → wire
// -----------------------------------------------------------------------------------------------------

/** `header` is the full header for a top-level response; nested txn responses carry only their revision, as in etcd. */
export function rangeResponseToProto(response: kv.RangeResponse, header: pb.ResponseHeaderInit): pb.RangeResponseInit {
  return { header, kvs: response.kvs.map(keyValueToProto), more: response.more, count: response.count };
}

export function putResponseToProto(response: kv.PutResponse, header: pb.ResponseHeaderInit): pb.PutResponseInit {
  return { header, prevKv: optionalKeyValue(response.prevKv) };
}

export function deleteRangeResponseToProto(response: kv.DeleteRangeResponse, header: pb.ResponseHeaderInit): pb.DeleteRangeResponseInit {
  return { header, deleted: response.deleted, prevKvs: response.prevKvs.map(keyValueToProto) };
}

function responseOpToProto(op: kv.ResponseOp): pb.ResponseOpInit {
  const nested = (revision: number): pb.ResponseHeaderInit => ({ revision });
  if (op.responseRange !== undefined) return { response: { case: 'responseRange', value: rangeResponseToProto(op.responseRange, nested(op.responseRange.header.revision)) } };
  if (op.responsePut !== undefined) return { response: { case: 'responsePut', value: putResponseToProto(op.responsePut, nested(op.responsePut.header.revision)) } };
  if (op.responseDeleteRange !== undefined) {
    const value = deleteRangeResponseToProto(op.responseDeleteRange, nested(op.responseDeleteRange.header.revision));
    return { response: { case: 'responseDeleteRange', value } };
  }
  if (op.responseTxn !== undefined) return { response: { case: 'responseTxn', value: txnResponseToProto(op.responseTxn, nested(op.responseTxn.header.revision)) } };
  return {};
}

export function txnResponseToProto(response: kv.TxnResponse, header: pb.ResponseHeaderInit): pb.TxnResponseInit {
  return { header, succeeded: response.succeeded, responses: response.responses.map(responseOpToProto) };
}

export function eventToProto(event: kv.Event): pb.EventInit {
  return { type: event.type as number as pb.EventType, kv: keyValueToProto(event.kv), prevKv: optionalKeyValue(event.prevKv) };
}

export function memberToProto(member: { readonly id: bigint; readonly name: string; readonly peerUrls: readonly string[]; readonly clientUrls: readonly string[]; readonly isLearner: boolean }): pb.MemberInit {
  return { ID: member.id, name: member.name, peerURLs: member.peerUrls, clientURLs: member.clientUrls, isLearner: member.isLearner };
}
