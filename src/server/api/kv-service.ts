/**
 * etcdserverpb.KV: Range, Put, DeleteRange, Txn, Compact (etcd's v3rpc/key.go and etcdserver/v3_server.go).
 *
 * Checks happen in etcd's order: the request's own checks (empty key, txn size and duplicates) first, then
 * the size limit a write must meet to be proposed, then whatever the store finds when applying.
 */
import type { CallContext, ServiceImplementation } from '../grpc/index.ts';
import { validateDeleteRangeRequest, validatePutRequest, validateRangeRequest, validateTxnRequest } from '../../kv/index.ts';
import type * as kv from '../../kv/index.ts';
import type { MemberBackend } from '../member/backend.ts';
import type { KVService, TxnRequest as WireTxnRequest } from '../proto/index.ts';
import {
  deleteRangeRequestFromProto, deleteRangeResponseToProto, putRequestFromProto, putResponseToProto, rangeRequestFromProto,
  rangeResponseToProto, responseHeader, txnRequestFromProto, txnResponseToProto,
} from './_convert.ts';
import { replying, requestTooLarge, translatingErrors } from './_errors.ts';
import type { ResolvedApiOptions } from './options.ts';

/**
 * The KV service over a member backend.
 *
 * @example
 * server.addService(KVService, kvService(backend, resolveApiOptions()));
 */
export function kvService(backend: MemberBackend, options: ResolvedApiOptions): ServiceImplementation<typeof KVService> {
  const checkSize = (encodedBytes: number): void => {
    // etcd measures the marshalled raft request (processInternalRaftRequestOnce); the wire request is its bulk.
    if (encodedBytes > options.requestBytesMax) throw requestTooLarge();
  };
  // The replies are made once per service, not per call.
  const putReply = (response: kv.PutResponse) => putResponseToProto(response, responseHeader(backend.header(), response.header.revision));
  const deleteRangeReply = (response: kv.DeleteRangeResponse) => deleteRangeResponseToProto(response, responseHeader(backend.header(), response.header.revision));
  const txnReply = (response: kv.TxnResponse) => txnResponseToProto(response, responseHeader(backend.header(), response.header.revision));
  return {
    Range: (wire, context) => translatingErrors(async () => {
      const request = rangeRequestFromProto(wire);
      validateRangeRequest(request);
      if (!wire.serializable) await backend.readBarrier(context.cancellation);
      const response = backend.store.range(request);
      return rangeResponseToProto(response, responseHeader(backend.header(), response.header.revision));
    }),
    Put: (wire, context) => replying(() => {
      const request = putRequestFromProto(wire);
      validatePutRequest(request);
      checkSize(context.requestBytes);
      return backend.propose({ kind: 'put', request }, context.cancellation);
    }, putReply),
    DeleteRange: (wire, context) => replying(() => {
      const request = deleteRangeRequestFromProto(wire);
      validateDeleteRangeRequest(request);
      checkSize(context.requestBytes);
      return backend.propose({ kind: 'deleteRange', request }, context.cancellation);
    }, deleteRangeReply),
    Txn: (wire, context) => replying(() => {
      const request = txnRequestFromProto(wire);
      validateTxnRequest(request);
      return isReadOnly(request) ? readOnlyTxn(backend, wire, request, context) : proposeTxn(backend, wire, request, context, checkSize);
    }, txnReply),
    Compact: (wire, context) => translatingErrors(async () => {
      checkSize(context.requestBytes);
      const response = await backend.propose({ kind: 'compaction', request: { revision: wire.revision, physical: wire.physical } }, context.cancellation);
      return { header: responseHeader(backend.header(), response.header.revision) };
    }),
  };
}

/** etcd serves a txn without writes locally, after a read barrier unless every range in it is serializable. */
async function readOnlyTxn(backend: MemberBackend, wire: WireTxnRequest, request: kv.TxnRequest, context: CallContext): Promise<kv.TxnResponse> {
  if (!isSerializable(wire)) await backend.readBarrier(context.cancellation);
  return backend.store.txn(request);
}

function proposeTxn(backend: MemberBackend, wire: WireTxnRequest, request: kv.TxnRequest, context: CallContext, checkSize: (bytes: number) => void): Promise<kv.TxnResponse> {
  checkSize(context.requestBytes);
  return backend.propose({ kind: 'txn', request }, context.cancellation);
}

function isReadOnly(request: kv.TxnRequest): boolean {
  for (const ops of [request.success ?? [], request.failure ?? []]) {
    for (const op of ops) {
      if (op.requestPut !== undefined || op.requestDeleteRange !== undefined) return false;
      if (op.requestTxn !== undefined && !isReadOnly(op.requestTxn)) return false;
    }
  }
  return true;
}

/** etcd's isTxnSerializable: every top-level op is a serializable range (a nested txn is not). */
function isSerializable(wire: WireTxnRequest): boolean {
  for (const op of [...wire.success, ...wire.failure]) {
    if (op.request?.case !== 'requestRange' || !op.request.value.serializable) return false;
  }
  return true;
}
