/** keel's HTTP/2 server layer: connections and streams (connection.ts), frames (frames.ts), HPACK (hpack.ts). */
export { H2Connection, H2Stream, encodeHeaderObject } from './connection.ts';
export type { H2ConnectionOptions, RequestHeaders, StreamConsumer } from './connection.ts';
export { ErrorCode } from './frames.ts';
