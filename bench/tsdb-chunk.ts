/**
 * XOR chunk benchmark: append and iteration throughput, and bytes per sample, for several series shapes.
 * Prints one JSON line per measurement. Run with `node --import tsx bench/tsdb-chunk.ts`.
 *
 * Data is generated up front from a fixed seed (so bytes/sample is reproducible), as raw IEEE 754 words,
 * so the timed loop measures only the chunk. Chunks are cut at chunkSamplesTarget, as the head will.
 */
import { chunkSamplesTarget, floatHighBits, floatLowBits, XorChunk } from '../src/monitor/tsdb/index.ts';
import type { ChunkIterator } from '../src/monitor/tsdb/index.ts';

const seriesCount = 500;
const samplesPerSeries = chunkSamplesTarget * 4;
const stepMs = 15_000;
const startMs = 1_700_000_000_000;
const timedRounds = 3;

interface Workload {
  readonly name: string;
  /** Returns a generator of one series' values; it may draw per-series parameters from `random`. */
  readonly createSeries: (random: () => number) => (previous: number) => number;
  /** Share of timestamps a few milliseconds off the schedule. */
  readonly jitterShare: number;
}

const workloads: readonly Workload[] = [
  { name: 'constant', createSeries: () => (previous) => previous, jitterShare: 0 },
  {
    // Rates spread over decades, as on a typical /metrics page: the test suite's 2 bytes/sample case.
    name: 'counters-0.01-to-10-per-second',
    createSeries: (random) => {
      const eventsPerScrape = 10 ** (random() * 3 - 2) * 15;
      return (previous) => previous + poisson(random, eventsPerScrape);
    },
    jitterShare: 0.05,
  },
  { name: 'counter-1-per-second', createSeries: (random) => (previous) => previous + poisson(random, 15), jitterShare: 0.05 },
  { name: 'counter-50-per-second', createSeries: (random) => (previous) => previous + poisson(random, 750), jitterShare: 0.05 },
  { name: 'counter-1-per-second-jittered-every-sample', createSeries: (random) => (previous) => previous + poisson(random, 15), jitterShare: 1 },
  { name: 'gauge-random-walk', createSeries: (random) => (previous) => previous + random() - 0.5, jitterShare: 0.05 },
  { name: 'gauge-small-integers', createSeries: (random) => () => Math.floor(random() * 8), jitterShare: 0.05 },
];

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 16), 0x21f0aaad);
    mixed = Math.imul(mixed ^ (mixed >>> 15), 0x735a2d97);
    return ((mixed ^ (mixed >>> 15)) >>> 0) / 2 ** 32;
  };
}

/** Poisson-distributed count: Knuth's method for small means, a rounded normal approximation above. */
function poisson(random: () => number, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const limit = Math.exp(-mean);
  let count = -1;
  let product = 1;
  do {
    count += 1;
    product *= random();
  } while (product > limit);
  return count;
}

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

interface SeriesData {
  readonly timestamps: Float64Array;
  readonly highs: Uint32Array;
  readonly lows: Uint32Array;
}

function generate(workload: Workload): SeriesData[] {
  const random = seededRandom(0x6b65656c);
  return Array.from({ length: seriesCount }, () => {
    const timestamps = new Float64Array(samplesPerSeries);
    const highs = new Uint32Array(samplesPerSeries);
    const lows = new Uint32Array(samplesPerSeries);
    const nextValue = workload.createSeries(random);
    let value = Math.floor(random() * 100_000);
    for (let index = 0; index < samplesPerSeries; index += 1) {
      value = nextValue(value);
      const jitterMs = random() < workload.jitterShare ? Math.floor(random() * 5) - 2 : 0;
      timestamps[index] = startMs + index * stepMs + jitterMs;
      highs[index] = floatHighBits(value);
      lows[index] = floatLowBits(value);
    }
    return { timestamps, highs, lows };
  });
}

function appendAll(data: readonly SeriesData[]): XorChunk[] {
  const chunks: XorChunk[] = [];
  for (const series of data) {
    let chunk = new XorChunk();
    for (let index = 0; index < samplesPerSeries; index += 1) {
      if (chunk.sampleCount === chunkSamplesTarget) {
        chunks.push(chunk);
        chunk = new XorChunk();
      }
      chunk.appendBits(series.timestamps[index]!, series.highs[index]!, series.lows[index]!);
    }
    chunks.push(chunk);
  }
  return chunks;
}

function iterateAll(chunks: readonly XorChunk[]): number {
  let checksum = 0;
  let iterator: ChunkIterator | undefined;
  for (const chunk of chunks) {
    iterator = chunk.iterator(iterator);
    while (iterator.next()) checksum += iterator.valueLowBits & 1;
  }
  return checksum;
}

/** Best of a few rounds: the least disturbed by other work on a shared machine. */
function bestSeconds(run: () => void): number {
  run(); // Warm-up, so the optimising compiler has seen the loop.
  let best = Infinity;
  for (let round = 0; round < timedRounds; round += 1) {
    const started = performance.now();
    run();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}

/** Appends and iterates each workload's chunks, printing JSON lines. */
export async function run(): Promise<void> {
  const totalSamples = seriesCount * samplesPerSeries;
  for (const workload of workloads) {
    const data = generate(workload);
    let chunks: XorChunk[] = [];
    const appendSeconds = bestSeconds(() => {
      chunks = appendAll(data);
    });
    const bytes = chunks.reduce((total, chunk) => total + chunk.byteSize, 0);
    const iterateSeconds = bestSeconds(() => {
      iterateAll(chunks);
    });
    const common = { benchmark: 'tsdb-chunk', workload: workload.name, stepMs, samplesPerChunk: chunkSamplesTarget, samples: totalSamples };
    console.log(JSON.stringify({ ...common, measurement: 'append', samplesPerSecond: Math.round(totalSamples / appendSeconds), bytesPerSample: Number((bytes / totalSamples).toFixed(3)) }));
    console.log(JSON.stringify({ ...common, measurement: 'iterate', samplesPerSecond: Math.round(totalSamples / iterateSeconds) }));
  }
}
