/**
 * One remote_write endpoint's sender, after Prometheus 2.42's QueueManager: samples get the external labels
 * and the endpoint's write_relabel_configs, then go to one of several shards (by a hash of the series), each
 * a bounded queue with one sender. Batches are encoded as a WriteRequest, snappy-compressed and POSTed;
 * retryable failures back off exponentially from min_backoff to max_backoff. Every 10 s the shard count is
 * re-estimated from the rates in and out (see _resharding.ts) and the shards are replaced, the old ones
 * drained before the new ones send so that each series stays in order.
 *
 * Where keel differs, because it queues in memory instead of tailing a WAL: a full shard drops the sample
 * and counts it (Prometheus blocks the WAL reader instead), and a batch is given up after
 * `sendAttemptsMax` attempts (Prometheus retries for as long as the WAL keeps the data).
 *
 * @example
 * const queue = new QueueManager({ config: remoteWriteConfig, externalLabels: Labels.fromRecord({ cluster: 'a' }) });
 * queue.append(Labels.fromRecord({ __name__: 'up', job: 'keel' }), Date.now(), 1);
 * await queue.stop();
 * queue.counters().samplesSent; // 1
 */
import { createHash } from 'node:crypto';
import type { RemoteWriteConfig } from '../config/types.ts';
import { relabel } from '../scrape/relabel.ts';
import { assert, Labels, metricNameLabel } from '../tsdb/index.ts';
import { HttpWriteClient } from './client.ts';
import type { StoreResult, WriteClient } from './client.ts';
import { RemoteWriteError } from './errors.ts';
import { snappyEncode } from './snappy.ts';
import { encodeWriteRequest } from './write-request.ts';
import type { SampleInput, TimeSeriesInput } from './write-request.ts';
import { desiredShards, EwmaRate, shardUpdateIntervalMs } from './_resharding.ts';
import type { QueuedSeries, SampleBatch } from './_ring.ts';
import { Shard } from './_shard.ts';

/** How long stop() and a reshard wait for queued samples to leave (Prometheus's --storage.remote.flush-deadline). */
export const flushDeadlineMsDefault = 60_000;
/** Attempts per batch before it is given up; with the default backoff, about a minute of retrying. */
export const sendAttemptsMaxDefault = 20;
/** Attempts per batch at most, whatever the options say. */
export const sendAttemptsMax = 1000;
/** Series whose relabelled labels are remembered; past this the cache starts over. */
export const seriesCacheEntriesMax = 200_000;
/** Capacity × max_shards bounds a queue's memory; refuse configurations beyond this many queued samples. */
export const queuedSamplesMax = 10_000_000;

/** Why a sample never reached a request. */
export type RemoteDropReason = 'relabel' | 'queue_full' | 'stopped';

/** A queue's counters and gauges, for the monitor to publish (keel_remote_storage_* metrics). */
export interface RemoteWriteCounters {
  /** The queue's name: `name` from the configuration, else the first 6 hex digits of a hash of it. */
  readonly remoteName: string;
  readonly url: string;
  /** Samples handed to the queue. */
  readonly samplesIn: number;
  /** Samples in requests the receiver accepted (2xx). */
  readonly samplesSent: number;
  /** Samples given up: a final error status, attempts exhausted, or still queued at a hard shutdown. */
  readonly samplesFailed: number;
  /** Samples sent again after a retryable failure, once per retry. */
  readonly samplesRetried: number;
  readonly samplesDropped: Readonly<Record<RemoteDropReason, number>>;
  /** Queued or in flight. */
  readonly samplesPending: number;
  /** Compressed request bytes put on the wire, retries included. */
  readonly bytesSent: number;
  readonly requestsSent: number;
  /** Newest timestamp in an accepted request, and newest handed to the queue; 0 before the first. */
  readonly highestSentTimestampMs: number;
  readonly highestReceivedTimestampMs: number;
  readonly shards: number;
  readonly shardsDesired: number;
  readonly shardsMin: number;
  readonly shardsMax: number;
  readonly shardCapacity: number;
  readonly maxSamplesPerSend: number;
}

export interface QueueManagerOptions {
  readonly config: RemoteWriteConfig;
  /** Added to every series that lacks the label (global.external_labels). */
  readonly externalLabels?: Labels;
  /** Default: an {@link HttpWriteClient} for the configuration. */
  readonly client?: WriteClient;
  readonly basicAuth?: { readonly username: string; readonly password: string };
  readonly bearerToken?: string;
  readonly flushDeadlineMs?: number;
  readonly sendAttemptsMax?: number;
  /** How often the shard count is re-estimated; default 10 s. */
  readonly shardUpdateIntervalMs?: number;
  /** Told about every batch given up and every retry; default silent. */
  readonly onError?: (error: RemoteWriteError, samples: number, willRetry: boolean) => void;
}

interface CachedSeries {
  readonly input: Labels;
  /** undefined: relabelling dropped the series. */
  readonly series: QueuedSeries | undefined;
}

type MutableCounters = { -readonly [K in keyof RemoteWriteCounters]: RemoteWriteCounters[K] } & { samplesDropped: Record<RemoteDropReason, number> };

export class QueueManager {
  readonly name: string;
  readonly #config: RemoteWriteConfig;
  readonly #externalLabels: Labels;
  readonly #client: WriteClient;
  readonly #flushDeadlineMs: number;
  readonly #sendAttemptsMax: number;
  readonly #onError: QueueManagerOptions['onError'];
  readonly #counters: MutableCounters;
  readonly #seriesCache = new Map<number, CachedSeries[]>();
  #seriesCacheEntries = 0;
  /** Invariant: #shards.length within [minShards, maxShards]. */
  #shards: Shard[];
  #reshard: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  readonly #shardTimer: ReturnType<typeof setInterval>;
  readonly #rates: { samplesIn: EwmaRate; samplesOut: EwmaRate; samplesDropped: EwmaRate; sendSeconds: EwmaRate };
  #lastSendMs = 0;

  constructor(options: QueueManagerOptions) {
    const config = options.config;
    validateQueueOptions(options);
    this.#config = config;
    this.name = config.name !== '' ? config.name : configHash(config).slice(0, 6);
    this.#externalLabels = options.externalLabels ?? Labels.empty;
    this.#client = options.client ?? new HttpWriteClient({
      url: config.url, timeoutMs: config.remoteTimeoutMs, headers: config.headers, retryOnRateLimit: config.queueConfig.retryOnRateLimit,
      ...(options.basicAuth === undefined ? {} : { basicAuth: options.basicAuth }),
      ...(options.bearerToken === undefined ? {} : { bearerToken: options.bearerToken }),
    });
    this.#flushDeadlineMs = options.flushDeadlineMs ?? flushDeadlineMsDefault;
    this.#sendAttemptsMax = options.sendAttemptsMax ?? sendAttemptsMaxDefault;
    this.#onError = options.onError;
    const queue = config.queueConfig;
    this.#counters = {
      remoteName: this.name, url: config.url, samplesIn: 0, samplesSent: 0, samplesFailed: 0, samplesRetried: 0,
      samplesDropped: { relabel: 0, queue_full: 0, stopped: 0 }, samplesPending: 0, bytesSent: 0, requestsSent: 0,
      highestSentTimestampMs: 0, highestReceivedTimestampMs: 0, shards: queue.minShards, shardsDesired: queue.minShards,
      shardsMin: queue.minShards, shardsMax: queue.maxShards, shardCapacity: queue.capacity, maxSamplesPerSend: queue.maxSamplesPerSend,
    };
    this.#shards = this.#createShards(queue.minShards, false);
    const intervalMs = options.shardUpdateIntervalMs ?? shardUpdateIntervalMs;
    this.#rates = { samplesIn: new EwmaRate(intervalMs), samplesOut: new EwmaRate(intervalMs), samplesDropped: new EwmaRate(intervalMs), sendSeconds: new EwmaRate(intervalMs) };
    this.#shardTimer = setInterval(() => this.#updateShards(), intervalMs);
    this.#shardTimer.unref();
  }

  /** A snapshot of the counters. */
  counters(): RemoteWriteCounters {
    return { ...this.#counters, samplesDropped: { ...this.#counters.samplesDropped } };
  }

  /**
   * Queues one committed sample. Never blocks and never throws for a sample it cannot take: a series
   * relabelled away, a full shard or a stopped queue are counted in `samplesDropped`.
   */
  append(labels: Labels, timestampMs: number, value: number): void {
    if (this.#stopped !== undefined) {
      this.#counters.samplesDropped.stopped += 1;
      return;
    }
    this.#counters.samplesIn += 1;
    this.#rates.samplesIn.increment(1);
    if (timestampMs > this.#counters.highestReceivedTimestampMs) this.#counters.highestReceivedTimestampMs = timestampMs;
    const series = this.#lookupSeries(labels);
    if (series === undefined) {
      this.#counters.samplesDropped.relabel += 1;
      this.#rates.samplesDropped.increment(1);
      return;
    }
    const shard = this.#shards[series.shardKey % this.#shards.length]!;
    if (!shard.enqueue(series, timestampMs, value)) {
      this.#counters.samplesDropped.queue_full += 1;
      return;
    }
    this.#counters.samplesPending += 1;
  }

  /**
   * Stops taking samples and sends what is queued, waiting at most `flushDeadlineMs`; then aborts what is
   * still in flight and counts what is left as failed. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    clearInterval(this.#shardTimer);
    if (this.#reshard !== undefined) await this.#reshard;
    await this.#drain(this.#shards);
    this.#client.close();
    assert(this.#counters.samplesPending === 0, 'nothing is pending after a drain');
  }

  #lookupSeries(labels: Labels): QueuedSeries | undefined {
    const hash = labels.hash();
    const entries = this.#seriesCache.get(hash);
    const cached = entries?.find((entry) => entry.input.equals(labels));
    if (cached !== undefined) return cached.series;
    if (this.#seriesCacheEntries >= seriesCacheEntriesMax) {
      this.#seriesCache.clear();
      this.#seriesCacheEntries = 0;
    }
    const entry: CachedSeries = { input: labels, series: this.#prepareSeries(labels, hash) };
    const bucket = this.#seriesCache.get(hash);
    if (bucket === undefined) this.#seriesCache.set(hash, [entry]);
    else bucket.push(entry);
    this.#seriesCacheEntries += 1;
    return entry.series;
  }

  /** External labels (the series' own win), then write relabelling; undefined when dropped or nameless. */
  #prepareSeries(labels: Labels, hash: number): QueuedSeries | undefined {
    let withExternal = labels;
    for (const { name, value } of this.#externalLabels) {
      if (!withExternal.has(name)) withExternal = withExternal.with(name, value);
    }
    let relabelled: Labels | undefined;
    try {
      relabelled = relabel(withExternal, this.#config.writeRelabelConfigs);
    } catch {
      return undefined; // A rule wrote an invalid label name or metric name: the series cannot be sent.
    }
    if (relabelled === undefined || !relabelled.has(metricNameLabel)) return undefined;
    return { labels: relabelled, shardKey: hash };
  }

  #createShards(count: number, paused: boolean): Shard[] {
    const queue = this.#config.queueConfig;
    assert(count >= queue.minShards && count <= queue.maxShards, 'shard count within its bounds');
    const shards: Shard[] = [];
    for (let index = 0; index < count; index += 1) {
      shards.push(new Shard({
        capacity: queue.capacity, batchSamplesMax: queue.maxSamplesPerSend, batchSendDeadlineMs: queue.batchSendDeadlineMs, paused,
        send: (batch, signal) => this.#sendBatch(batch, signal),
      }));
    }
    return shards;
  }

  /** Flushes the shards, waiting at most the flush deadline, then aborts the rest and counts it as failed. */
  async #drain(shards: readonly Shard[]): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<'deadline'>((resolve) => { timer = setTimeout(() => resolve('deadline'), this.#flushDeadlineMs); });
    const flushed = Promise.all(shards.map((shard) => shard.flush()));
    const outcome = await Promise.race([flushed.then(() => 'flushed' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'flushed') return;
    for (const shard of shards) {
      const dropped = shard.abort();
      this.#counters.samplesFailed += dropped;
      this.#counters.samplesPending -= dropped;
    }
    await flushed; // The requests in flight see the abort and finish at once.
  }

  #updateShards(): void {
    this.#rates.samplesIn.tick();
    this.#rates.samplesOut.tick();
    this.#rates.samplesDropped.tick();
    this.#rates.sendSeconds.tick();
    const queue = this.#config.queueConfig;
    const desired = desiredShards({
      shards: this.#shards.length, minShards: queue.minShards, maxShards: queue.maxShards,
      samplesInRate: this.#rates.samplesIn.rate, samplesOutRate: this.#rates.samplesOut.rate,
      samplesDroppedRate: this.#rates.samplesDropped.rate, sendSecondsRate: this.#rates.sendSeconds.rate,
      highestReceivedSeconds: this.#counters.highestReceivedTimestampMs / 1000, highestSentSeconds: this.#counters.highestSentTimestampMs / 1000,
    });
    this.#counters.shardsDesired = desired;
    // Prometheus does not reshard while the endpoint is failing: more senders would not help.
    const recentlySent = Date.now() - this.#lastSendMs <= 2 * queue.batchSendDeadlineMs;
    if (desired === this.#shards.length || !recentlySent || this.#reshard !== undefined || this.#stopped !== undefined) return;
    this.#reshard = this.#replaceShards(desired).finally(() => { this.#reshard = undefined; });
  }

  /** New shards queue while the old ones drain, then start sending, so no series is sent out of order. */
  async #replaceShards(count: number): Promise<void> {
    const old = this.#shards;
    this.#shards = this.#createShards(count, true);
    this.#counters.shards = count;
    await this.#drain(old);
    for (const shard of this.#shards) shard.resume();
  }

  /** Encodes, compresses and sends one batch with retries, then counts the outcome. Never rejects. */
  async #sendBatch(batch: SampleBatch, signal: AbortSignal): Promise<void> {
    const sampleCount = batch.series.length;
    const startedMs = performance.now();
    try {
      const body = snappyEncode(encodeWriteRequest({ timeseries: groupBySeries(batch) }));
      await this.#sendWithBackoff(body, sampleCount, highestTimestampMs(batch), signal);
    } catch (error) {
      this.#counters.samplesFailed += sampleCount;
      const wrapped = error instanceof RemoteWriteError ? error : new RemoteWriteError('REMOTE_INVALID_ARGUMENT', `Cannot encode a batch: ${String(error)}`, { cause: error });
      this.#onError?.(wrapped, sampleCount, false);
    } finally {
      this.#rates.samplesOut.increment(sampleCount);
      this.#rates.sendSeconds.increment((performance.now() - startedMs) / 1000);
      this.#lastSendMs = Date.now();
      this.#counters.samplesPending -= sampleCount;
      assert(this.#counters.samplesPending >= 0, 'pending samples never go negative');
    }
  }

  async #sendWithBackoff(body: Uint8Array, sampleCount: number, highestMs: number, signal: AbortSignal): Promise<void> {
    const queue = this.#config.queueConfig;
    let backoffMs = queue.minBackoffMs;
    for (let attempt = 1; attempt <= this.#sendAttemptsMax; attempt += 1) {
      this.#counters.requestsSent += 1;
      this.#counters.bytesSent += body.length;
      const result: StoreResult = await this.#client.store(body, signal);
      if (result.status === 'ok') {
        this.#counters.samplesSent += sampleCount;
        this.#counters.highestSentTimestampMs = Math.max(this.#counters.highestSentTimestampMs, highestMs);
        return;
      }
      const willRetry = result.status === 'retry' && attempt < this.#sendAttemptsMax && !signal.aborted;
      this.#onError?.(result.error, sampleCount, willRetry);
      if (result.status === 'fail' || !willRetry) break;
      const waitMs = result.retryAfterMs > 0 ? result.retryAfterMs : backoffMs;
      if (!(await sleep(waitMs, signal))) break;
      this.#counters.samplesRetried += sampleCount;
      backoffMs = Math.min(waitMs * 2, queue.maxBackoffMs);
    }
    this.#counters.samplesFailed += sampleCount;
  }
}

function validateQueueOptions(options: QueueManagerOptions): void {
  const queue = options.config.queueConfig;
  const positive = (name: string, value: number): void => {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `${name} must be a positive integer, got ${value}.`);
  };
  positive('capacity', queue.capacity);
  positive('max_shards', queue.maxShards);
  positive('min_shards', queue.minShards);
  positive('max_samples_per_send', queue.maxSamplesPerSend);
  positive('batch_send_deadline', queue.batchSendDeadlineMs);
  positive('max_backoff', queue.maxBackoffMs);
  positive('remote_timeout', options.config.remoteTimeoutMs);
  if (queue.minShards > queue.maxShards) throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', 'min_shards must not be greater than max_shards.');
  if (!Number.isSafeInteger(queue.minBackoffMs) || queue.minBackoffMs < 0 || queue.minBackoffMs > queue.maxBackoffMs) {
    throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', 'min_backoff must be between 0 and max_backoff.');
  }
  if (queue.capacity * queue.maxShards > queuedSamplesMax) {
    throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `capacity × max_shards may queue at most ${queuedSamplesMax} samples (queuedSamplesMax), got ${queue.capacity * queue.maxShards}.`);
  }
  const attempts = options.sendAttemptsMax ?? sendAttemptsMaxDefault;
  if (!Number.isSafeInteger(attempts) || attempts < 1 || attempts > sendAttemptsMax) {
    throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `sendAttemptsMax must be in [1, ${sendAttemptsMax}], got ${attempts}.`);
  }
  const flushMs = options.flushDeadlineMs ?? flushDeadlineMsDefault;
  if (!Number.isSafeInteger(flushMs) || flushMs < 0) throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `flushDeadlineMs must be a non-negative integer, got ${flushMs}.`);
}

/** A stable hash of everything that identifies an endpoint's configuration (regexes by their source). */
export function configHash(config: RemoteWriteConfig): string {
  const text = JSON.stringify(config, (_key, value: unknown) => {
    if (value instanceof RegExp) return value.source;
    return typeof value === 'bigint' ? value.toString() : value;
  });
  return createHash('sha256').update(text).digest('hex');
}

/** One TimeSeries per series in the batch, samples in timestamp order (commits may interleave). */
function groupBySeries(batch: SampleBatch): TimeSeriesInput[] {
  const bySeries = new Map<QueuedSeries, SampleInput[]>();
  for (let index = 0; index < batch.series.length; index += 1) {
    const series = batch.series[index]!;
    let samples = bySeries.get(series);
    if (samples === undefined) {
      samples = [];
      bySeries.set(series, samples);
    }
    samples.push({ timestampMs: batch.timestampsMs[index]!, value: batch.values[index]! });
  }
  const timeseries: TimeSeriesInput[] = [];
  for (const [series, samples] of bySeries) {
    if (!isSorted(samples)) samples.sort((left, right) => left.timestampMs - right.timestampMs);
    timeseries.push({ labels: series.labels, samples });
  }
  return timeseries;
}

function isSorted(samples: readonly SampleInput[]): boolean {
  for (let index = 1; index < samples.length; index += 1) {
    if (samples[index]!.timestampMs < samples[index - 1]!.timestampMs) return false;
  }
  return true;
}

function highestTimestampMs(batch: SampleBatch): number {
  let highest = 0;
  for (const timestampMs of batch.timestampsMs) highest = Math.max(highest, timestampMs);
  return highest;
}

/** Waits `delayMs`; resolves false at once if `signal` aborts. */
function sleep(delayMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, delayMs);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
