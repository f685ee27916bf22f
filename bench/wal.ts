// WAL benchmarks, printed as JSON lines: batch appends with fsync, group commit under concurrency,
// large-batch bandwidth, and replay time for one million small entries. Bounded to about 30 seconds.
// Run: node --import tsx bench/wal.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../src/raft/types.ts';
import { EntryType } from '../src/raft/types.ts';
import { Wal, crc32c } from '../src/storage/index.ts';
import type { StorageLogger } from '../src/storage/index.ts';

const phaseSecondsMax = 4;
const replayEntryCount = 1_000_000;
const replayBatchEntries = 10_000;
const quietLogger: StorageLogger = { info: () => {}, warn: () => {} };

function entries(firstIndex: number, count: number, dataBytes: number): Entry[] {
  const data = new Uint8Array(dataBytes).fill(0x61);
  return Array.from({ length: count }, (_, offset) => ({ term: 1, index: firstIndex + offset, type: EntryType.Normal, data }));
}

function report(result: Record<string, string | number>): void {
  console.log(JSON.stringify(result));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Sequential saves, each awaited: one fdatasync per batch. */
async function benchBatchAppends(directory: string, batchEntries: number, entryBytes: number): Promise<void> {
  const wal = await Wal.create(directory, { logger: quietLogger, metadata: new Uint8Array(8) });
  const started = performance.now();
  let nextIndex = 1;
  let batches = 0;
  while (performance.now() - started < phaseSecondsMax * 1000) {
    await wal.save({ term: 1, vote: 1, commit: nextIndex - 1 }, entries(nextIndex, batchEntries, entryBytes));
    nextIndex += batchEntries;
    batches++;
  }
  const seconds = (performance.now() - started) / 1000;
  const { bytesWritten, syncCount } = wal.statistics;
  await wal.close();
  report({
    bench: 'wal.append', batchEntries, entryBytes, batches, syncs: syncCount,
    batchesPerSecond: round(batches / seconds), entriesPerSecond: round((batches * batchEntries) / seconds),
    megabytesPerSecond: round(bytesWritten / seconds / 1e6),
  });
}

/** Many saves in flight at once: group commit turns them into few fdatasyncs. */
async function benchGroupCommit(directory: string, concurrency: number): Promise<void> {
  const wal = await Wal.create(directory, { logger: quietLogger, metadata: new Uint8Array(8) });
  const started = performance.now();
  let nextIndex = 1;
  let saves = 0;
  while (performance.now() - started < phaseSecondsMax * 1000) {
    const round = [];
    for (let client = 0; client < concurrency; client++) round.push(wal.save(null, entries(nextIndex++, 1, 128)));
    await Promise.all(round);
    saves += concurrency;
  }
  const seconds = (performance.now() - started) / 1000;
  const { syncCount } = wal.statistics;
  await wal.close();
  report({ bench: 'wal.group-commit', concurrency, saves, syncs: syncCount, savesPerSecond: round(saves / seconds), savesPerSync: round(saves / syncCount) });
}

async function benchReplay(directory: string): Promise<void> {
  const wal = await Wal.create(directory, { logger: quietLogger, metadata: new Uint8Array(8) });
  const writeStarted = performance.now();
  for (let first = 1; first <= replayEntryCount; first += replayBatchEntries) {
    await wal.save({ term: 1, vote: 1, commit: first - 1 }, entries(first, replayBatchEntries, 16));
  }
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  const { bytesWritten, segmentCount } = wal.statistics;
  await wal.close();
  const replayStarted = performance.now();
  const { wal: reopened, replay } = await Wal.open(directory, { logger: quietLogger });
  const replaySeconds = (performance.now() - replayStarted) / 1000;
  await reopened.close();
  if (replay.entries.length !== replayEntryCount) throw new Error(`replayed ${replay.entries.length} entries`);
  report({
    bench: 'wal.replay', entries: replayEntryCount, entryBytes: 16, walBytes: bytesWritten, segments: segmentCount,
    writeSeconds: round(writeSeconds), replaySeconds: round(replaySeconds),
    replayEntriesPerSecond: round(replayEntryCount / replaySeconds), replayMegabytesPerSecond: round(bytesWritten / replaySeconds / 1e6),
  });
}

function benchCrc(): void {
  const bytes = new Uint8Array(16 * 1024 * 1024).map((_, position) => position * 31);
  const started = performance.now();
  let checksum = 0;
  for (let pass = 0; pass < 8; pass++) checksum = crc32c(bytes, checksum);
  const seconds = (performance.now() - started) / 1000;
  report({ bench: 'crc32c', megabytesPerSecond: round((8 * bytes.length) / seconds / 1e6), checksum });
}

/** Runs every WAL benchmark in a temporary directory, printing JSON lines. */
export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'keel-bench-wal-'));
  try {
    benchCrc();
    await benchBatchAppends(join(root, 'small'), 100, 128);
    await benchBatchAppends(join(root, 'large'), 1000, 1024);
    await benchGroupCommit(join(root, 'group'), 64);
    await benchReplay(join(root, 'replay'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
