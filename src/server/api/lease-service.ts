/**
 * etcdserverpb.Lease (etcd's v3rpc/lease.go). Grant and revoke are replicated; keep-alive goes to the
 * leader's lessor through the backend; time-to-live and the lease list are read from the backend.
 */
import type { ServiceImplementation } from '../grpc/index.ts';
import type { MemberBackend } from '../member/backend.ts';
import type { LeaseService } from '../proto/index.ts';
import { idToNumber, numberToId, responseHeader } from './_convert.ts';
import { isLeaseNotFound, toGrpcError, translatingErrors } from './_errors.ts';

/**
 * The Lease service over a member backend.
 *
 * @example
 * server.addService(LeaseService, leaseService(backend));
 */
export function leaseService(backend: MemberBackend): ServiceImplementation<typeof LeaseService> {
  return {
    LeaseGrant: (wire, context) => translatingErrors(async () => {
      const request = { ttl: wire.TTL, id: idToNumber(wire.ID) };
      const response = await backend.propose({ kind: 'leaseGrant', request }, context.signal);
      return { header: responseHeader(backend.header(), response.header.revision), ID: numberToId(response.id), TTL: response.ttl, error: response.error };
    }),
    LeaseRevoke: (wire, context) => translatingErrors(async () => {
      const response = await backend.propose({ kind: 'leaseRevoke', request: { id: idToNumber(wire.ID) } }, context.signal);
      return { header: responseHeader(backend.header(), response.header.revision) };
    }),
    LeaseKeepAlive: async (requests, call) => {
      for await (const wire of requests) {
        const id = toNumberOrThrow(wire.ID);
        // The header is taken before the renewal, as etcd does, so that a client never sees a keep-alive
        // at a revision after the one that revoked the lease.
        const header = responseHeader(backend.header());
        const ttl = await renew(backend, id, call.signal);
        await call.send({ header, ID: wire.ID, TTL: ttl });
      }
    },
    LeaseTimeToLive: (wire, context) => translatingErrors(async () => {
      const id = idToNumber(wire.ID);
      try {
        const response = await backend.leaseTimeToLive({ id, keys: wire.keys }, context.signal);
        return { header: responseHeader(backend.header()), ID: wire.ID, TTL: response.ttl, grantedTTL: response.grantedTtl, keys: response.keys };
      } catch (error) {
        // etcd answers an unknown lease with TTL -1, not an error.
        if (isLeaseNotFound(error)) return { header: responseHeader(backend.header()), ID: wire.ID, TTL: -1 };
        throw error;
      }
    }),
    LeaseLeases: () => translatingErrors(() => {
      const response = backend.store.leaseLeases();
      return { header: responseHeader(backend.header()), leases: response.leases.map((lease) => ({ ID: numberToId(lease.id) })) };
    }),
  };
}

function toNumberOrThrow(id: bigint): number {
  try {
    return idToNumber(id);
  } catch (error) {
    throw toGrpcError(error);
  }
}

/** etcd answers a keep-alive for an unknown lease with TTL 0 (the client library turns that into an error). */
async function renew(backend: MemberBackend, id: number, signal: AbortSignal): Promise<number> {
  try {
    return (await backend.leaseKeepAlive(id, signal)).ttl;
  } catch (error) {
    if (isLeaseNotFound(error)) return 0;
    throw toGrpcError(error);
  }
}
