/**
 * Sample values as raw IEEE 754 bits, split into two unsigned 32-bit words.
 *
 * Why words and not numbers: a JavaScript number cannot carry every float64 bit pattern. V8 quiets
 * signalling NaNs when it loads them (Prometheus's staleness marker 0x7ff0000000000002 becomes
 * 0x7ff8000000000002) and canonicalises NaN payloads when it stores them in some containers (a Map, a
 * double array). So anything that must survive bit-exactly, the staleness marker above all, travels as
 * `(high, low)` words; numbers are a convenience for ordinary values.
 */

const scratchFloat = new Float64Array(1);
const scratchWords = new Uint32Array(scratchFloat.buffer);
const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const highWordIndex = isLittleEndian ? 1 : 0;
const lowWordIndex = isLittleEndian ? 0 : 1;

/** High word of Prometheus's staleness marker: a signalling NaN, bits 0x7ff0000000000002. */
export const staleMarkerHighBits = 0x7ff0_0000;
/** Low word of Prometheus's staleness marker. */
export const staleMarkerLowBits = 0x0000_0002;

/**
 * The upper 32 bits of `value`'s IEEE 754 representation, as an unsigned integer.
 *
 * @example
 * floatHighBits(1); // 0x3ff00000
 */
export function floatHighBits(value: number): number {
  scratchFloat[0] = value;
  return scratchWords[highWordIndex]!;
}

/**
 * The lower 32 bits of `value`'s IEEE 754 representation, as an unsigned integer.
 *
 * @example
 * floatLowBits(1); // 0
 */
export function floatLowBits(value: number): number {
  scratchFloat[0] = value;
  return scratchWords[lowWordIndex]!;
}

/**
 * The number whose IEEE 754 bits are `(high, low)`. NaN payloads may not survive (see the file comment).
 *
 * @example
 * floatFromBits(0x3ff00000, 0); // 1
 */
export function floatFromBits(high: number, low: number): number {
  scratchWords[highWordIndex] = high;
  scratchWords[lowWordIndex] = low;
  return scratchFloat[0]!;
}

/**
 * Whether `(high, low)` is exactly Prometheus's staleness marker. Compare bits, never numbers: every NaN
 * compares unequal, and the engine may have rewritten the payload of a NaN held as a number.
 *
 * @example
 * isStaleMarkerBits(staleMarkerHighBits, staleMarkerLowBits); // true
 */
export function isStaleMarkerBits(high: number, low: number): boolean {
  return high === staleMarkerHighBits && low === staleMarkerLowBits;
}
