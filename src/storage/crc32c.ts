/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4 and etcd's WAL.
 * Computed slicing-by-8: eight 256-entry tables let the inner loop fold eight input bytes per step with
 * eight table lookups, instead of one lookup per byte.
 */

const polynomialReflected = 0x82f63b78;
const tableCount = 8;

/**
 * Table k (k = 0..7) at [k * 256 + b] holds the CRC of byte b followed by k zero bytes. Int32Array keeps the
 * values small integers for V8 (a Uint32Array would box values above 2^31 as doubles).
 */
const tables = buildTables();

function buildTables(): Int32Array {
  const result = new Int32Array(tableCount * 256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ polynomialReflected : crc >>> 1;
    result[byte] = crc;
  }
  for (let byte = 0; byte < 256; byte++) {
    let crc = result[byte]!;
    for (let table = 1; table < tableCount; table++) {
      crc = result[crc & 0xff]! ^ (crc >>> 8);
      result[table * 256 + byte] = crc;
    }
  }
  return result;
}

/**
 * The CRC-32C of `bytes`. Pass the CRC of earlier bytes as `previous` to continue it:
 * `crc32c(b, crc32c(a))` equals the CRC of `a` followed by `b`.
 *
 * @example
 * crc32c(new TextEncoder().encode('123456789')) === 0xe3069283;
 */
/**
 * One byte folded into a CRC register (the complemented state `crc32cRange` runs on), for callers that feed
 * a few bytes at a time: the kv hash's revision keys and varints.
 */
export function crc32cRegisterByte(register: number, byte: number): number {
  return tables[(register ^ byte) & 0xff]! ^ (register >>> 8);
}

export function crc32c(bytes: Uint8Array, previous = 0): number {
  return crc32cRange(bytes, 0, bytes.length, previous);
}

/** The CRC-32C of bytes[start, end), continuing `previous`; no view is allocated (the WAL's hot path). */
export function crc32cRange(bytes: Uint8Array, start: number, end: number, previous = 0): number {
  if (start < 0 || end > bytes.length || start > end) throw new RangeError(`crc32c range [${start}, ${end}) is outside ${bytes.length} bytes`);
  let crc = ~previous;
  const wordsEnd = end - ((end - start) % 8);
  let index = start;
  while (index < wordsEnd) {
    const low = crc ^ (bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) | (bytes[index + 3]! << 24));
    const high = bytes[index + 4]! | (bytes[index + 5]! << 8) | (bytes[index + 6]! << 16) | (bytes[index + 7]! << 24);
    crc =
      tables[7 * 256 + (low & 0xff)]! ^
      tables[6 * 256 + ((low >>> 8) & 0xff)]! ^
      tables[5 * 256 + ((low >>> 16) & 0xff)]! ^
      tables[4 * 256 + (low >>> 24)]! ^
      tables[3 * 256 + (high & 0xff)]! ^
      tables[2 * 256 + ((high >>> 8) & 0xff)]! ^
      tables[256 + ((high >>> 16) & 0xff)]! ^
      tables[high >>> 24]!;
    index += 8;
  }
  while (index < end) {
    crc = tables[(crc ^ bytes[index]!) & 0xff]! ^ (crc >>> 8);
    index++;
  }
  return ~crc >>> 0;
}
