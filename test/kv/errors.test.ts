import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvError, kvErrorSpecs, type KvErrorCode } from '../../src/kv/index.ts';

test('etcd errors carry etcd\'s exact message and gRPC status code', () => {
  // From etcd v3.4 etcdserver/api/v3rpc/rpctypes/error.go.
  const etcd: Array<[KvErrorCode, string, number]> = [
    ['KV_EMPTY_KEY', 'etcdserver: key is not provided', 3],
    ['KV_KEY_NOT_FOUND', 'etcdserver: key not found', 3],
    ['KV_VALUE_PROVIDED', 'etcdserver: value is provided', 3],
    ['KV_LEASE_PROVIDED', 'etcdserver: lease is provided', 3],
    ['KV_TOO_MANY_OPS', 'etcdserver: too many operations in txn request', 3],
    ['KV_DUPLICATE_KEY', 'etcdserver: duplicate key given in txn request', 3],
    ['KV_COMPACTED', 'etcdserver: mvcc: required revision has been compacted', 11],
    ['KV_FUTURE_REV', 'etcdserver: mvcc: required revision is a future revision', 11],
    ['KV_NO_SPACE', 'etcdserver: mvcc: database space exceeded', 8],
    ['KV_LEASE_NOT_FOUND', 'etcdserver: requested lease not found', 5],
    ['KV_LEASE_EXISTS', 'etcdserver: lease already exists', 9],
    ['KV_LEASE_TTL_TOO_LARGE', 'etcdserver: too large lease TTL', 11],
    ['KV_CORRUPT', 'etcdserver: corrupt cluster', 15],
    ['KV_NOT_LEADER', 'etcdserver: not leader', 9],
  ];
  for (const [code, message, grpcCode] of etcd) {
    const error = new KvError(code);
    assert.equal(error.message, message, code);
    assert.equal(error.grpcCode, grpcCode, code);
    assert.equal(error.code, code);
    assert.equal(error.name, 'KvError');
  }
});

test('keel\'s own errors say so in their message and keep a detail', () => {
  const own = (Object.keys(kvErrorSpecs) as KvErrorCode[]).filter((code) => !kvErrorSpecs[code].message.startsWith('etcdserver: '));
  assert.deepEqual(own.sort(), ['KV_INVALID_ARGUMENT', 'KV_INVALID_CONFIG', 'KV_SNAPSHOT_CORRUPT', 'KV_TOO_MANY_WATCHERS', 'KV_UNSAFE_INTEGER']);
  for (const code of own) assert.match(kvErrorSpecs[code].message, /^keel: /);
  assert.equal(new KvError('KV_INVALID_ARGUMENT', 'why').detail, 'why');
});
