// Shared helpers for the key-value store tests.
import assert from 'node:assert/strict';
import { KvError, KvStore, type KeyValue, type KvErrorCode, type KvStoreOptions } from '../../src/kv/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function text(value: Uint8Array | undefined): string {
  return value === undefined ? '<undefined>' : decoder.decode(value);
}

/** The range end "\0": every key from the start key on. */
export const fromKey = new Uint8Array([0]);

/** The prefix range end etcd clients compute: the last byte below 0xff incremented. */
export function prefixEnd(prefix: string): Uint8Array {
  const end = bytes(prefix).slice();
  for (let index = end.length - 1; index >= 0; index--) {
    if ((end[index] as number) < 0xff) {
      end[index] = (end[index] as number) + 1;
      return end.subarray(0, index + 1);
    }
  }
  return fromKey;
}

export class ManualClock {
  nowMs = 1_000_000;

  now(): number {
    return this.nowMs;
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export function newStore(options: Partial<KvStoreOptions> = {}): { store: KvStore; clock: ManualClock } {
  const clock = new ManualClock();
  return { store: new KvStore({ clock, ...options }), clock };
}

export function put(store: KvStore, key: string, value: string, extra: { lease?: number } = {}): number {
  return store.put({ key: bytes(key), value: bytes(value), ...extra }).header.revision;
}

/** [key, value, version, createRevision, modRevision] tuples: compact to compare. */
export function describeKvs(kvs: readonly KeyValue[]): Array<[string, string, number, number, number]> {
  return kvs.map((kv) => [text(kv.key), text(kv.value), kv.version, kv.createRevision, kv.modRevision]);
}

export function keysOf(kvs: readonly KeyValue[]): string[] {
  return kvs.map((kv) => text(kv.key));
}

/** Asserts `action` throws a KvError with `code`, and that its message and gRPC code are etcd's. */
export function assertKvError(action: () => unknown, code: KvErrorCode, message?: string): KvError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof KvError, `expected KvError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  if (message !== undefined) assert.equal(caught.message, message);
  return caught;
}

/** A small deterministic PRNG (mulberry32) for property tests; the seed is printed on failure by the caller. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  assert.ok(item !== undefined);
  return item;
}
