/**
 * Remote-write benchmark: Snappy encode/decode throughput and ratio on realistic WriteRequest bodies, the
 * protobuf encoder's samples per second, and the whole sender (fanout commit → shard → WriteRequest → snappy
 * → client) against an in-process client that only counts. Prints one JSON line per measurement. Run with
 * `node --import tsx bench/remote-write.ts`.
 */
import { fileURLToPath } from 'node:url';
import { parseMonitorConfig } from '../src/monitor/config.ts';
import type { StoreResult, WriteClient } from '../src/monitor/remote/index.ts';
import { encodeWriteRequest, snappyDecode, snappyEncode, WriteStorage } from '../src/monitor/remote/index.ts';
import type { TimeSeriesInput } from '../src/monitor/remote/index.ts';
import type { Appendable } from '../src/monitor/storage.ts';
import { Labels } from '../src/monitor/tsdb/index.ts';

const seriesCount = 20_000;
const batchSamples = 500;
const startMs = 1_700_000_000_000;
const timedRounds = 3;

function seriesLabels(index: number): Labels {
  return Labels.fromRecord({
    __name__: ['keel_raft_term', 'keel_grpc_requests_total', 'keel_wal_fsync_duration_seconds_bucket', 'keel_store_keys'][index % 4]!,
    instance: `10.0.${(index >> 8) & 0xff}.${index & 0xff}:2379`, job: 'keel', cluster: 'prod-eu-1',
    ...(index % 4 === 2 ? { le: ['0.001', '0.01', '0.1', '1', '+Inf'][index % 5]! } : {}),
  });
}

function bestSeconds(work: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < timedRounds; round += 1) {
    const started = process.hrtime.bigint();
    work();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  }
  return best;
}

/** Batches as the queue builds them: 500 samples, each of a different series, one per TimeSeries. */
function batches(labels: readonly Labels[]): TimeSeriesInput[][] {
  const result: TimeSeriesInput[][] = [];
  for (let start = 0; start < labels.length; start += batchSamples) {
    result.push(labels.slice(start, start + batchSamples).map((series, index) => ({
      labels: series, samples: [{ timestampMs: startMs + index * 15, value: Math.round(Math.random() * 1e6) / 100 }],
    })));
  }
  return result;
}

function encodeAndCompress(labels: readonly Labels[]): void {
  const inputs = batches(labels);
  let bodies: Uint8Array[] = [];
  const encodeSeconds = bestSeconds(() => { bodies = inputs.map((timeseries) => encodeWriteRequest({ timeseries })); });
  let compressed: Uint8Array[] = [];
  const snappySeconds = bestSeconds(() => { compressed = bodies.map((body) => snappyEncode(body)); });
  const decodeSeconds = bestSeconds(() => { for (const block of compressed) snappyDecode(block); });
  const rawBytes = bodies.reduce((sum, body) => sum + body.length, 0);
  const compressedBytes = compressed.reduce((sum, block) => sum + block.length, 0);
  const common = { benchmark: 'remote-write', batches: inputs.length, samplesPerBatch: batchSamples };
  console.log(JSON.stringify({ ...common, measurement: 'protobuf-encode', samplesPerSecond: Math.round(labels.length / encodeSeconds), bytesPerSample: Number((rawBytes / labels.length).toFixed(1)) }));
  console.log(JSON.stringify({ ...common, measurement: 'snappy-encode', megabytesPerSecond: Number((rawBytes / snappySeconds / 1e6).toFixed(1)), compressionRatio: Number((rawBytes / compressedBytes).toFixed(2)) }));
  console.log(JSON.stringify({ ...common, measurement: 'snappy-decode', megabytesPerSecond: Number((rawBytes / decodeSeconds / 1e6).toFixed(1)) }));
}

class CountingClient implements WriteClient {
  readonly endpoint = 'bench://counting';
  async store(): Promise<StoreResult> {
    return { status: 'ok' };
  }
  close(): void {}
}

async function endToEnd(labels: readonly Labels[]): Promise<void> {
  const storage = new WriteStorage({ createClient: () => new CountingClient() });
  const yaml = 'remote_write:\n  - url: http://bench.invalid/write\n    queue_config: { capacity: 10000, max_shards: 4, min_shards: 4, batch_send_deadline: 5ms }\n';
  await storage.applyConfig(parseMonitorConfig(yaml).remoteWrite);
  const primary: Appendable = { appender: () => ({ append: () => 'ok', commit: async () => {}, rollback: () => {} }) };
  const appendable = storage.fanout(primary);
  const scrapes = 50;
  const started = process.hrtime.bigint();
  for (let scrape = 0; scrape < scrapes; scrape += 1) {
    const appender = appendable.appender();
    for (const series of labels) appender.append(series, startMs + scrape * 15_000, scrape);
    await appender.commit();
    // Let the shards drain as a scrape interval would.
    while (storage.counters().queues[0]!.samplesPending > 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const counters = storage.counters().queues[0]!;
  await storage.close();
  console.log(JSON.stringify({
    benchmark: 'remote-write', measurement: 'fanout-to-sent', series: labels.length, scrapes, shards: counters.shards,
    samplesPerSecond: Math.round(counters.samplesSent / seconds), samplesDropped: counters.samplesDropped.queue_full,
  }));
}

export async function run(): Promise<void> {
  const labels = Array.from({ length: seriesCount }, (_, index) => seriesLabels(index));
  encodeAndCompress(labels);
  await endToEnd(labels);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
