/**
 * Service descriptors: what the generated code says about each RPC, so that the gRPC server (and later
 * the client) can be typed from them without knowing any message.
 */

/** How many messages each side sends: one (unary) or a stream. */
export type MethodKind = 'unary' | 'server-stream' | 'client-stream' | 'bidirectional-stream';

/**
 * One RPC. `Request` and `Response` are the decoded shapes (every field present); `RequestInit` and
 * `ResponseInit` are what the encoders accept (every field optional). A decoded message is always a valid
 * init, so a handler can pass decoded messages straight back to an encoder.
 *
 * Encoders take `reservedBytes`: that many bytes at the front of the result are left unwritten for a
 * frame header, so the gRPC layer frames a message without copying it.
 *
 * @example
 * const response = KVService.methods.Range.decodeResponse(bytes);
 */
export interface MethodDefinition<Request, Response, RequestInit = Request, ResponseInit = Response, Kind extends MethodKind = MethodKind> {
  /** The method's name inside its service, e.g. `Range`. */
  readonly name: string;
  /** The HTTP/2 `:path`: `/package.Service/Method`. */
  readonly path: string;
  readonly kind: Kind;
  // Method syntax (not arrow properties) keeps the parameter bivariant, so that any concrete method is
  // assignable to MethodDefinition<unknown, ...>.
  encodeRequest(message: RequestInit, reservedBytes?: number): Uint8Array;
  decodeRequest(bytes: Uint8Array): Request;
  encodeResponse(message: ResponseInit, reservedBytes?: number): Uint8Array;
  decodeResponse(bytes: Uint8Array): Response;
}

/** Any method, for code that handles methods generically. */
export type AnyMethodDefinition = MethodDefinition<unknown, unknown, unknown, unknown, MethodKind>;

/**
 * One gRPC service: its fully qualified name and its methods by name.
 *
 * @example
 * for (const method of Object.values(KVService.methods)) console.log(method.path);
 */
export interface ServiceDefinition {
  /** `package.Service`, e.g. `etcdserverpb.KV`. */
  readonly name: string;
  readonly methods: { readonly [name: string]: AnyMethodDefinition };
}
