/**
 * keel's typed etcd v3 client over node:http2.
 *
 * @example
 * import { KeelClient } from './index.ts';
 * const client = new KeelClient({ endpoints: ['127.0.0.1:2379'] });
 * await client.put('k', 'v');
 * console.log((await client.get('k')).kvs[0]?.value);
 * client.close();
 */
export {
  KeelClient, rangeRequest, putRequest, deleteRequest, endpointsMax, attemptsMax, backoffMsBase, backoffMsMax,
  callTimeoutMsDefault, requestBytesMax, responseBytesMax, streamQueueMessagesMax, snapshotTimeoutMsDefault,
} from './client.ts';
export type {
  ClientOptions, GetOptions, PutOptions, DeleteOptions, TxnSpec, TxnCompare, TxnOp, CompareOperator, SortTarget, SortOrder,
} from './client.ts';
export { Watcher, watchReconnectsMax, compactedMessage } from './watch.ts';
export type { WatchOptions, WatchBatch } from './watch.ts';
export { ClientError, isUnavailable } from './errors.ts';
export type { ClientErrorCode } from './errors.ts';
export { prefixEnd, toBytes } from './_bytes.ts';
export type { Bytes } from './_bytes.ts';
