/**
 * keel's protobuf codec for the etcd v3.4 API: message types, encoders and decoders, and service
 * descriptors generated from proto/ by scripts/generate-proto.ts. See README.md in this folder for the
 * number/bigint rule and what decoding accepts.
 *
 * @example
 * import { encodePutRequest, decodePutRequest } from './index.ts';
 * const bytes = encodePutRequest({ key: new TextEncoder().encode('a'), value: new TextEncoder().encode('1') });
 * decodePutRequest(bytes).key; // Uint8Array [0x61]
 */
export * from './_generated/mvccpb.ts';
export * from './_generated/authpb.ts';
export * from './_generated/etcdserverpb.ts';
export * from './_generated/health.ts';
export { ProtoError, nestingDepthMax } from './errors.ts';
export type { ProtoErrorCode } from './errors.ts';
export { Reader, Writer, SizeCache, encodeWith, decodeWith, fieldNumberMax } from './wire.ts';
export type { MethodDefinition, MethodKind, ServiceDefinition, AnyMethodDefinition } from './service.ts';
