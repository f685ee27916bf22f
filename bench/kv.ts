// Benchmarks of the key-value state machine. Prints one JSON line per measurement.
import { KvStore, CompareResult, CompareTarget } from '../src/kv/index.ts';

const keyCount = 100_000;
const bigKeyCount = 1_000_000;
const encoder = new TextEncoder();

function keyBytes(index: number): Uint8Array {
  return encoder.encode(`/registry/pods/ns${index % 100}/pod-${String(index).padStart(7, '0')}`);
}

/** A fixed pseudo-random permutation, so inserts do not arrive in key order. */
function shuffled(count: number): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  let state = 12345;
  for (let index = count - 1; index > 0; index--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const other = state % (index + 1);
    [order[index], order[other]] = [order[other] as number, order[index] as number];
  }
  return order;
}

function measure(name: string, operations: number, action: () => void, extra: Record<string, number> = {}): void {
  const started = performance.now();
  action();
  const seconds = (performance.now() - started) / 1000;
  const perSecond = Math.round(operations / seconds);
  console.log(JSON.stringify({ bench: `kv.${name}`, operations, seconds: Number(seconds.toFixed(4)), perSecond, ...extra }));
}

function benchWrites(store: KvStore, keys: Uint8Array[], order: number[]): void {
  const value = new Uint8Array(64).fill(0x61);
  measure('put.new_keys', keyCount, () => {
    for (const index of order) store.put({ key: keys[index] as Uint8Array, value });
  });
  measure('put.existing_keys', keyCount, () => {
    for (const index of order) store.put({ key: keys[index] as Uint8Array, value });
  });
  const guard = { key: keys[0] as Uint8Array, target: CompareTarget.Version, version: 0, result: CompareResult.Greater };
  measure('txn.compare_and_put', keyCount / 5, () => {
    for (let index = 0; index < keyCount / 5; index++) {
      store.txn({ compare: [guard], success: [{ requestPut: { key: keys[index] as Uint8Array, value } }] });
    }
  });
}

function benchReads(store: KvStore, keys: Uint8Array[], order: number[]): void {
  measure('range.single_key', keyCount, () => {
    for (const index of order) store.range({ key: keys[index] as Uint8Array });
  });
  const prefixEnd = encoder.encode('/registry/pods0');
  measure('range.limit_100', 10_000, () => {
    for (let index = 0; index < 10_000; index++) store.range({ key: keys[order[index] as number] as Uint8Array, rangeEnd: prefixEnd, limit: 100 });
  });
  measure('range.count_all', 100, () => {
    for (let index = 0; index < 100; index++) store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), countOnly: true });
  }, { keys: keyCount });
  measure('range.all_keys', 10, () => {
    for (let index = 0; index < 10; index++) store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
  }, { keys: keyCount });
  measure('range.history', keyCount / 10, () => {
    for (let index = 0; index < keyCount / 10; index++) store.range({ key: keys[order[index] as number] as Uint8Array, revision: keyCount });
  });
}

function benchMaintenance(store: KvStore): void {
  const revisions = store.revision;
  measure('compact', 1, () => store.compact({ revision: revisions - 1000 }), { revisions });
  let snapshot: Uint8Array = new Uint8Array(0);
  measure('snapshot', 1, () => {
    snapshot = store.snapshot();
  });
  console.log(JSON.stringify({ bench: 'kv.snapshot.size', bytes: snapshot.length, keys: keyCount }));
  measure('restore', 1, () => new KvStore({ clock: { now: () => 0 } }).restore(snapshot));
  measure('hash_kv', 1, () => store.hashKv());
}

function benchWatch(keys: Uint8Array[]): void {
  const store = new KvStore({ clock: { now: () => 0 } });
  for (let index = 0; index < 1000; index++) store.watchHub.watch({ key: keys[index] as Uint8Array });
  for (let index = 0; index < 10; index++) store.watchHub.watch({ key: encoder.encode('/registry/pods/'), rangeEnd: encoder.encode('/registry/pods0') });
  const value = new Uint8Array(16);
  measure('put.with_1010_watchers', 20_000, () => {
    for (let index = 0; index < 20_000; index++) store.put({ key: keys[index % 2000] as Uint8Array, value });
  });
}

function benchMillionKeys(): void {
  const store = new KvStore({ clock: { now: () => 0 } });
  const value = new Uint8Array(8);
  measure('put.sequential_1m', bigKeyCount, () => {
    for (let index = 0; index < bigKeyCount; index++) store.put({ key: encoder.encode(`k${String(index).padStart(8, '0')}`), value });
  });
  measure('range.count_1m', 5, () => {
    for (let index = 0; index < 5; index++) store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), countOnly: true });
  }, { keys: bigKeyCount });
  measure('range.all_of_1m', 1, () => {
    store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), keysOnly: true });
  }, { keys: bigKeyCount });
  measure('range.count_1m_history', 1, () => {
    store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), countOnly: true, revision: bigKeyCount / 2 });
  }, { keys: bigKeyCount });
  measure('range.limit_10_of_1m', 1000, () => {
    for (let index = 0; index < 1000; index++) store.range({ key: encoder.encode(`k${String(index * 997).padStart(8, '0')}`), rangeEnd: new Uint8Array([0]), limit: 10, countOnly: false });
  }, { keys: bigKeyCount });
}

export async function run(): Promise<void> {
  const keys = Array.from({ length: keyCount }, (_, index) => keyBytes(index));
  const order = shuffled(keyCount);
  const store = new KvStore({ clock: { now: () => 0 } });
  benchWrites(store, keys, order);
  benchReads(store, keys, order);
  benchMaintenance(store);
  benchWatch(keys);
  benchMillionKeys();
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
