/**
 * V8 tuning shared by keel's long-running processes (`keel serve`, `keel monitor`).
 */
import { setFlagsFromString } from 'node:v8';

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
