/** Keys and values: strings are UTF-8, bytes pass through. */
export type Bytes = string | Uint8Array;

const encoder = new TextEncoder();

export function toBytes(value: Bytes): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

/**
 * The range end that selects every key starting with `prefix`: the prefix with its last byte below 0xff
 * incremented and the rest dropped. An empty or all-0xff prefix means "every key from here": "\0".
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let index = prefix.length - 1; index >= 0; index--) {
    const byte = prefix[index]!;
    if (byte < 0xff) {
      const end = prefix.slice(0, index + 1);
      end[index] = byte + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}

/** `{ prefix, fromKey, rangeEnd }` → the RangeRequest `range_end`. */
export function rangeEndFor(key: Uint8Array, options: { prefix?: boolean; fromKey?: boolean; rangeEnd?: Bytes }): Uint8Array | undefined {
  if (options.prefix === true) return key.length === 0 ? new Uint8Array([0]) : prefixEnd(key);
  if (options.fromKey === true) return new Uint8Array([0]);
  return options.rangeEnd === undefined ? undefined : toBytes(options.rangeEnd);
}
