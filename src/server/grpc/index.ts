/**
 * keel's gRPC server: gRPC over its own HTTP/2 layer (h2/) with plain HTTP on the same port. See README.md here.
 *
 * @example
 * import { GrpcServer, GrpcError, Status } from './index.ts';
 * import { KVService } from '../proto/index.ts';
 * const server = new GrpcServer();
 * server.addService(KVService, { Range: () => { throw new GrpcError(Status.UNAVAILABLE, 'etcdserver: no leader'); } });
 * await server.listen({ host: '127.0.0.1', port: 2379 });
 */
export { GrpcServer, shutdownGraceMsDefault } from './server.ts';
export { GrpcError, Status, encodeGrpcMessage, decodeGrpcMessage, isStatus } from './status.ts';
export type { GrpcErrorCode } from './status.ts';
export { unary, serverStream, clientStream, bidirectionalStream, implementService } from './handlers.ts';
export type {
  Cancellation, CallContext, ServerStreamCall, MethodHandler, MethodImplementation, ServiceImplementation,
  UnaryMethodHandler, ServerStreamMethodHandler, ClientStreamMethodHandler, BidirectionalStreamMethodHandler,
} from './handlers.ts';
export { RequestStream } from './request-stream.ts';
export { HealthChecker } from './health.ts';
export { grpcServerDefaults, validateGrpcServerOptions, GrpcOptionsError } from './options.ts';
export type { GrpcCallObserver, GrpcCallRecorder, GrpcServerOptions, ResolvedGrpcServerOptions, HttpRequestHandler, HttpRequestView, HttpResponseView } from './options.ts';
export { MessageDeframer, frameMessage, writeFrameHeader, frameHeaderBytes, parseGrpcTimeout, acceptedEncodings } from './framing.ts';
export { http2Preface, classifyPrefix } from './sniff.ts';
