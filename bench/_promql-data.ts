/**
 * The PromQL benchmark's larger data set: the parity lab data's metric names and label scheme
 * (test/monitor/parity/_data.ts) scaled up to many instances, as an OpenMetrics file both
 * `keel monitor import` and `promtool tsdb create-blocks-from openmetrics` load.
 *
 * Every instance carries 25 series: `http_requests_total` (2 jobs × 4 method/code pairs), one
 * `node_memory_used_bytes`, one `node_temperature_celsius` (a third of the sensors stop halfway), one
 * `app_build_info` and `http_request_duration_seconds_bucket` (2 jobs × 7 buckets). 400 instances give
 * 10,000 series; a day at 15 s gives 5,760 samples each. The first instances are the lab's
 * `10.0.0.1:9100` … so the battery's instance matchers select data. Output is deterministic (fixed seeds)
 * and streamed: the file (about 6 GB at full size) is never held in memory.
 */
import { type FileHandle, open } from 'node:fs/promises';

export const scaledSeriesPerInstance = 25;
/** Instances at scale 1: 10,000 series. */
export const scaledInstancesAtScaleOne = 400;
/** Text buffered before one write to the file. */
const writeChunkCharactersMax = 4 * 1024 * 1024;

export interface ScaledDataOptions {
  readonly instances: number;
  readonly startSeconds: number;
  readonly stepSeconds: number;
  /** Samples per series. */
  readonly samples: number;
}

export interface ScaledDataSummary {
  readonly series: number;
  readonly samples: number;
  readonly bytes: number;
  readonly startSeconds: number;
  /** The newest scheduled sample time (jitter aside). */
  readonly endSeconds: number;
}

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** `10.0.0.1:9100` for instance 0, counting up through the last two octets. */
export function scaledInstanceName(index: number): string {
  const number = index + 1;
  return `10.${(number >>> 16) & 255}.${(number >>> 8) & 255}.${number & 255}:9100`;
}

/** Buffers lines and writes them in large chunks, waiting for each write (backpressure by await). */
class ChunkWriter {
  private parts: string[] = [];
  private characters = 0;
  bytes = 0;

  constructor(private readonly handle: FileHandle) {}

  /** Buffers one line; call {@link flushIfFull} between series. */
  line(text: string): void {
    this.parts.push(text);
    this.characters += text.length + 1;
  }

  async flushIfFull(): Promise<void> {
    if (this.characters >= writeChunkCharactersMax) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = `${this.parts.join('\n')}\n`;
    this.parts = [];
    this.characters = 0;
    const buffer = Buffer.from(text, 'utf8');
    this.bytes += buffer.length;
    await this.handle.write(buffer);
  }
}

interface SeriesWriter {
  readonly writer: ChunkWriter;
  /** Timestamp text per sample index, shared by all series (the jitter is per scrape). */
  readonly times: readonly string[];
}

/** One series' lines; `values` returns null for a sample that is absent. */
async function writeSeries(out: SeriesWriter, prefix: string, values: (index: number) => number | null): Promise<number> {
  let written = 0;
  for (let index = 0; index < out.times.length; index++) {
    const value = values(index);
    if (value === null) continue;
    out.writer.line(`${prefix} ${value} ${out.times[index]!}`);
    written++;
  }
  await out.writer.flushIfFull();
  return written;
}

function counterValues(random: () => number, ratePerSecond: number, stepSeconds: number, resetAt: number | null): (index: number) => number {
  let value = Math.floor(random() * 1000);
  return (index) => {
    if (index === resetAt) value = 0;
    value += Math.floor(ratePerSecond * stepSeconds * (0.5 + random()));
    return value;
  };
}

const requestShapes = [['GET', '200', 12], ['GET', '500', 0.4], ['POST', '200', 3], ['POST', '503', 0.1]] as const;
const bucketBounds = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'] as const;

async function writeRequests(out: SeriesWriter, options: ScaledDataOptions): Promise<number> {
  let samples = 0;
  out.writer.line('# HELP http_requests Requests handled.');
  out.writer.line('# TYPE http_requests counter');
  for (let instance = 0; instance < options.instances; instance++) {
    for (const job of ['api', 'web']) {
      for (const [shape, [method, code, rate]] of requestShapes.entries()) {
        const random = prng(instance * 97 + shape * 13 + (job === 'api' ? 1 : 2));
        // One series in eight restarts (a counter reset) somewhere in the day.
        const resetAt = random() < 0.125 ? Math.floor(random() * options.samples) : null;
        const prefix = `http_requests_total{job="${job}",instance="${scaledInstanceName(instance)}",method="${method}",code="${code}"}`;
        samples += await writeSeries(out, prefix, counterValues(random, rate, options.stepSeconds, resetAt));
      }
    }
  }
  return samples;
}

async function writeNode(out: SeriesWriter, options: ScaledDataOptions): Promise<number> {
  let samples = 0;
  out.writer.line('# HELP node_memory_used_bytes Memory in use.');
  out.writer.line('# TYPE node_memory_used_bytes gauge');
  for (let instance = 0; instance < options.instances; instance++) {
    const random = prng(1_000_003 + instance);
    let bytes = 2e9 + random() * 1e9;
    samples += await writeSeries(out, `node_memory_used_bytes{job="node",instance="${scaledInstanceName(instance)}"}`, () => {
      bytes += (random() - 0.45) * 5e6;
      return Math.round(bytes);
    });
  }
  out.writer.line('# HELP node_temperature_celsius Sensor temperature.');
  out.writer.line('# TYPE node_temperature_celsius gauge');
  for (let instance = 0; instance < options.instances; instance++) {
    const random = prng(2_000_003 + instance);
    let celsius = -5 + random() * 10;
    // As in the lab data, the third instance's sensor (and every third after it) stops reporting halfway.
    const stopsAt = instance % 3 === 2 ? options.samples / 2 : options.samples;
    samples += await writeSeries(out, `node_temperature_celsius{job="node",instance="${scaledInstanceName(instance)}",sensor="cpu"}`, (index) => {
      celsius += random() - 0.5;
      return index >= stopsAt ? null : Math.round(celsius * 1000) / 1000;
    });
  }
  return samples;
}

async function writeBuildInfo(out: SeriesWriter, options: ScaledDataOptions): Promise<number> {
  let samples = 0;
  out.writer.line('# HELP app_build_info Build information.');
  out.writer.line('# TYPE app_build_info gauge');
  for (let instance = 0; instance < options.instances; instance++) {
    const job = instance % 2 === 0 ? 'api' : 'web';
    samples += await writeSeries(out, `app_build_info{job="${job}",instance="${scaledInstanceName(instance)}",version="1.2.${instance % 5}"}`, () => 1);
  }
  return samples;
}

/** Cumulative bucket counts of one (job, instance) pair, all buckets advanced together per scrape. */
async function writeBucketsOf(out: SeriesWriter, options: ScaledDataOptions, job: string, instance: number): Promise<number> {
  const random = prng(3_000_003 + instance * 2 + (job === 'web' ? 1 : 0));
  const counts = new Float64Array(options.samples * bucketBounds.length);
  const running = bucketBounds.map(() => 0);
  const bounds = bucketBounds.map((bound) => (bound === '+Inf' ? Infinity : Number(bound)));
  for (let index = 0; index < options.samples; index++) {
    const observations = Math.floor(20 + random() * 40);
    for (let observation = 0; observation < observations; observation++) {
      const latency = Math.exp(random() * 3 - 3.5) * (job === 'web' ? 2 : 1);
      for (let bucket = 0; bucket < bounds.length; bucket++) if (latency <= bounds[bucket]!) running[bucket]! += 1;
    }
    for (let bucket = 0; bucket < bounds.length; bucket++) counts[index * bounds.length + bucket] = running[bucket]!;
  }
  let samples = 0;
  for (const [bucket, bound] of bucketBounds.entries()) {
    const prefix = `http_request_duration_seconds_bucket{job="${job}",instance="${scaledInstanceName(instance)}",le="${bound}"}`;
    samples += await writeSeries(out, prefix, (index) => counts[index * bucketBounds.length + bucket]!);
  }
  return samples;
}

async function writeBuckets(out: SeriesWriter, options: ScaledDataOptions): Promise<number> {
  let samples = 0;
  out.writer.line('# HELP http_request_duration_seconds_bucket Request latency buckets.');
  out.writer.line('# TYPE http_request_duration_seconds_bucket unknown');
  for (let instance = 0; instance < options.instances; instance++) {
    for (const job of ['api', 'web']) samples += await writeBucketsOf(out, options, job, instance);
  }
  return samples;
}

function check(options: ScaledDataOptions): void {
  for (const name of ['instances', 'startSeconds', 'stepSeconds', 'samples'] as const) {
    if (!Number.isSafeInteger(options[name]) || options[name] < 1) throw new Error(`scaled data: ${name} must be a positive integer, not ${options[name]}`);
  }
  if (options.instances > 65_535) throw new Error(`scaled data: at most 65535 instances, not ${options.instances}`);
}

/**
 * Writes the scaled data set to `path` (replacing it) and returns what it holds.
 *
 * @example
 * const data = await writeScaledOpenMetrics('/tmp/big.om', { instances: 40, startSeconds: 1_767_225_600, stepSeconds: 15, samples: 5760 });
 * data.series; // 1000
 */
export async function writeScaledOpenMetrics(path: string, options: ScaledDataOptions): Promise<ScaledDataSummary> {
  check(options);
  const jitter = prng(7);
  const times = Array.from({ length: options.samples }, (_, index) => {
    const timestampMs = (options.startSeconds + index * options.stepSeconds) * 1000 + Math.floor(jitter() * 40) - 20;
    return (timestampMs / 1000).toFixed(3);
  });
  const handle = await open(path, 'w');
  try {
    const out: SeriesWriter = { writer: new ChunkWriter(handle), times };
    let samples = 0;
    samples += await writeRequests(out, options);
    samples += await writeNode(out, options);
    samples += await writeBuildInfo(out, options);
    samples += await writeBuckets(out, options);
    out.writer.line('# EOF');
    await out.writer.flush();
    const endSeconds = options.startSeconds + (options.samples - 1) * options.stepSeconds;
    return { series: options.instances * scaledSeriesPerInstance, samples, bytes: out.writer.bytes, startSeconds: options.startSeconds, endSeconds };
  } finally {
    await handle.close();
  }
}
