// A randomized test against a deliberately simple model of the log: a plain array rewritten on every
// overwrite. Random appends, Raft overwrites, commits, snapshot markers, releases and reopens must always
// replay to what the model holds. The seed is in every failure message so a failure can be replayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry, HardState } from '../../src/raft/types.ts';
import { Wal } from '../../src/storage/index.ts';
import type { SnapshotMarker } from '../../src/storage/index.ts';
import { describeEntries, entry, memberMetadata, recordingLogger, temporaryDirectory } from './_fixtures.ts';

const operationsPerSeedMax = 150;
const seeds = [1, 2, 3, 4];

function seededRandom(seed: number): (bound: number) => number {
  let state = seed >>> 0;
  return (bound) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed);
    return (((mixed ^ (mixed >>> 14)) >>> 0) % bound);
  };
}

/** The model: every entry ever kept, from index 1, and the newest marker. */
class LogModel {
  entries: Entry[] = [];
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  marker: SnapshotMarker | null = null;
  term = 1;

  get lastIndex(): number {
    return this.entries.length;
  }

  write(batch: readonly Entry[]): void {
    this.entries.length = batch[0]!.index - 1;
    this.entries.push(...batch);
  }

  expectedReplay(): Entry[] {
    return this.entries.slice(this.marker?.index ?? 0);
  }
}

async function checkReplay(directory: string, model: LogModel, label: string): Promise<Wal> {
  const { logger, warnings } = recordingLogger();
  const { wal, replay } = await Wal.open(directory, { logger, segmentBytesMax: 4096 });
  assert.deepEqual(describeEntries(replay.entries), describeEntries(model.expectedReplay()), label);
  assert.deepEqual(replay.hardState, model.hardState, label);
  assert.deepEqual(replay.snapshot, model.marker, label);
  assert.deepEqual(warnings(), [], label);
  return wal;
}

for (const seed of seeds) {
  test(`random saves, overwrites, markers, releases and reopens replay like the model (seed ${seed})`, async (context) => {
    const directory = await temporaryDirectory(context);
    const random = seededRandom(seed);
    const model = new LogModel();
    const { logger } = recordingLogger();
    let wal = await Wal.create(directory, { logger, metadata: memberMetadata, segmentBytesMax: 4096 });
    const counts = { overwrites: 0, markers: 0, segmentsReleased: 0, reopens: 0 };
    for (let step = 0; step < operationsPerSeedMax; step++) {
      const label = `seed ${seed} step ${step}`;
      const choice = random(100);
      const floor = Math.max(model.hardState.commit, model.marker?.index ?? 0);
      if (choice < 40 || model.lastIndex === floor) {
        const batch = Array.from({ length: 1 + random(20) }, (_, offset) => entry(model.lastIndex + 1 + offset, model.term, `s${step}`));
        model.write(batch);
        await wal.save(null, batch);
      } else if (choice < 55) {
        // Raft overwrites only entries above the commit index, with a newer term.
        model.term++;
        const from = floor + 1 + random(model.lastIndex - floor);
        const batch = Array.from({ length: 1 + random(5) }, (_, offset) => entry(from + offset, model.term, `o${step}`));
        model.write(batch);
        counts.overwrites++;
        model.hardState = { term: model.term, vote: 0, commit: model.hardState.commit };
        await wal.save(model.hardState, batch);
      } else if (choice < 75) {
        const commit = model.hardState.commit + random(model.lastIndex - model.hardState.commit + 1);
        model.hardState = { term: model.term, vote: model.hardState.term === model.term ? model.hardState.vote : 1, commit };
        await wal.save(model.hardState, []);
      } else if (choice < 88 && model.hardState.commit > (model.marker?.index ?? 0)) {
        const markerIndex = model.hardState.commit - random(model.hardState.commit - (model.marker?.index ?? 0));
        model.marker = { index: markerIndex, term: model.entries[markerIndex - 1]!.term };
        await wal.saveSnapshotMarker(model.marker);
        counts.markers++;
        if (random(2) === 0) counts.segmentsReleased += await wal.releaseTo(markerIndex);
      } else {
        await wal.close();
        wal = await checkReplay(directory, model, label);
        counts.reopens++;
      }
    }
    await wal.close();
    await (await checkReplay(directory, model, `seed ${seed} at the end`)).close();
    // The run must have exercised what it claims to.
    for (const [name, count] of Object.entries(counts)) assert.ok(count > 0, `seed ${seed}: no ${name} (${JSON.stringify(counts)})`);
  });
}
