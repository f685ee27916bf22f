/**
 * Chunk encodings for the time-series store: the bit stream and the Gorilla XOR float chunk.
 *
 * @example
 * import { XorChunk } from './chunkenc/index.ts';
 * const chunk = new XorChunk();
 * chunk.append(1_700_000_000_000, 42);
 */
export { BitReader, BitWriter, bitStreamBytesMax } from './bit-stream.ts';
export { ChunkEncoding, timestampMsMax, timestampMsMin } from './chunk.ts';
export type { Chunk, ChunkAppender, ChunkIterator, Sample } from './chunk.ts';
export {
  chunkBytesMax,
  chunkSamplesMax,
  chunkSamplesTarget,
  XorChunk,
  XorIterator,
} from './xor.ts';
export { acquireDecodedSamples, DecodedSamples, decodeXorSamples, releaseDecodedSamples } from './xor-decode.ts';
