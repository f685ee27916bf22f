/**
 * The etcd v3 gRPC API (KV, Watch, Lease, Cluster, Maintenance) over a MemberBackend. See README.md.
 *
 * @example
 * import { createApiServices } from './index.ts';
 * const server = new GrpcServer();
 * const services = createApiServices(backend, { server });
 * await server.listen({ host: '127.0.0.1', port: 2379 });
 */
export { createApiServices, registerApiServices } from './services.ts';
export { apiDefaults, resolveApiOptions, ApiOptionsError } from './options.ts';
export { kvService } from './kv-service.ts';
export { leaseService } from './lease-service.ts';
export { clusterService, memberBadUrlsMessage } from './cluster-service.ts';
export { maintenanceService } from './maintenance-service.ts';
export { toGrpcError, requestTooLargeMessage } from './_errors.ts';
export { paddingTrailer, snapshotPadMagic, snapshotAlignmentBytes, snapshotTrailerBytesMin } from './_snapshot-stream.ts';
export { fragments as watchResponseFragments, emptyWatcherRangeReason, duplicateWatchIdReason, broadcastWatchId } from './_watch-stream.ts';

export type { ApiServices } from './services.ts';
export type { ApiOptions, ResolvedApiOptions } from './options.ts';
