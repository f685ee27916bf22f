/**
 * V8 tuning shared by keel's long-running processes (`keel serve`, `keel monitor`).
 */
import { type PerformanceEntry, PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring. When objects from one allocation site survive a scavenge
 * often enough, V8 starts allocating that site's objects straight into the old generation; dead there,
 * they wait for a full collection and keep the young objects they point to alive through every scavenge.
 *
 * - A member under a steady request load: the objects of an in-flight call (its promise, its waiter, the
 *   HTTP/2 stream's objects) got pretenured, scavenges promoted megabytes per second, and each pause grew
 *   to 7-20 ms (docs/architecture.md, "Member process GC").
 * - The monitor: a range query holds its inputs for the whole query, so the per-step vector elements built
 *   from them got pretenured too; one query over 3,200 series then left 110 MB in the old generation instead
 *   of 63 MB, and the queries after it paid for the full collection.
 *
 * The flag is read at each GC, so setting it at start-up, before the process allocates, is enough.
 */
export function tuneGarbageCollector(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}

/** Below this much live heap a member lets its heap grow fourfold between full collections. */
export const generousHeapBytesMax = 128 * 1024 * 1024;

/**
 * How far the old generation may grow past the live heap before the next full collection, as V8's
 * `--heap-growing-percent` (0: V8's own factor). See {@link followHeapGrowth}.
 */
export function heapGrowingPercent(liveHeapBytes: number): number {
  return liveHeapBytes < generousHeapBytesMax ? 300 : 0;
}

export interface HeapGrowthHooks {
  readonly setFlags: (flags: string) => void;
  readonly heapUsedBytes: () => number;
}

const v8Hooks: HeapGrowthHooks = { setFlags: setFlagsFromString, heapUsedBytes: () => getHeapStatistics().used_heap_size };

/**
 * A member's heap grows fourfold between full collections while its live heap is under 128 MiB, and by
 * V8's own factor above that; the choice is made again after every full collection.
 *
 * Under a write load a member's old generation grows by what the store and the Raft log keep. V8 sets the
 * next full collection's start at the live heap times a factor it derives from collection and mutator
 * speeds, which here came out at 1.3-1.5: a 35 MB heap was collected at 47 MB. Each full collection's
 * marking steps and final pause stall every request in flight for 5-18 ms, several times over 50 ms, and
 * in the put benchmark they were the slow requests: every request at or above the p99 fell in a stall of
 * a member's full collection or of a scavenge. With the fourfold factor the benchmark's rounds saw about
 * half as many full collections. Above 128 MiB the extra memory that fourfold growth would hold is not
 * worth it, and V8 decides. The flag is read when a collection sets the next limit, so changing it at run
 * time takes effect from the next one.
 */
export function followHeapGrowth(hooks: HeapGrowthHooks = v8Hooks): { stop(): void } {
  let current = -1;
  const choose = (): void => {
    const percent = heapGrowingPercent(hooks.heapUsedBytes());
    if (percent === current) return;
    current = percent;
    hooks.setFlags(`--heap-growing-percent=${percent}`);
  };
  choose();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        choose();
        return;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { stop: () => observer.disconnect() };
}
