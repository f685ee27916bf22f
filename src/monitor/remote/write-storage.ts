/**
 * All remote_write endpoints together (Prometheus's WriteStorage), and the fanout that feeds them: an
 * Appendable wrapping the TSDB, so that every sample the TSDB accepts and commits is also queued for each
 * endpoint. Only committed samples leave, as with Prometheus, which sends what reached its WAL: samples the
 * TSDB refused (out of order, out of bounds, ...) and rolled-back batches are never sent.
 *
 * @example
 * const remote = new WriteStorage();
 * await remote.applyConfig(config.remoteWrite, config.global.externalLabels);
 * const appendable = remote.fanout(tsdb); // give this to the scrape manager instead of the TSDB
 * ...
 * await remote.close();
 */
import type { RemoteWriteConfig } from '../config/types.ts';
import type { Appendable, Appender, AppendOutcome } from '../storage.ts';
import { assert, Labels } from '../tsdb/index.ts';
import type { WriteClient } from './client.ts';
import { RemoteWriteError } from './errors.ts';
import { configHash, QueueManager } from './queue-manager.ts';
import type { QueueManagerOptions, RemoteWriteCounters } from './queue-manager.ts';

/** Most samples one fanout appender holds for the queues until its commit; the rest are counted and not sent. */
export const fanoutBatchSamplesMax = 1_000_000;

export interface WriteStorageOptions {
  /** Per-queue options shared by every endpoint. */
  readonly flushDeadlineMs?: number;
  readonly sendAttemptsMax?: number;
  readonly shardUpdateIntervalMs?: number;
  readonly onError?: QueueManagerOptions['onError'];
  /** Builds the client for an endpoint; default HTTP. Tests substitute their own. */
  readonly createClient?: (config: RemoteWriteConfig) => WriteClient;
}

/** The storage-wide counters plus each queue's. */
export interface WriteStorageCounters {
  /** Samples committed through the fanout while at least one endpoint was configured. */
  readonly samplesIn: number;
  /** Samples the fanout could not hold because one appender batch exceeded {@link fanoutBatchSamplesMax}. */
  readonly samplesDroppedBatchFull: number;
  readonly queues: readonly RemoteWriteCounters[];
}

export class WriteStorage {
  readonly #options: WriteStorageOptions;
  /** Queues by configuration hash, in configuration order. */
  #queues = new Map<string, QueueManager>();
  #externalLabels = Labels.empty;
  #samplesIn = 0;
  #samplesDroppedBatchFull = 0;
  #closed = false;

  constructor(options: WriteStorageOptions = {}) {
    this.#options = options;
  }

  /** Whether any endpoint is configured; the fanout buffers nothing when none is. */
  get active(): boolean {
    return this.#queues.size > 0;
  }

  /**
   * Starts a queue per endpoint. On a reload, queues whose configuration (and the external labels) did not
   * change keep running; the others are stopped (flushed within the flush deadline) and replaced.
   */
  async applyConfig(configs: readonly RemoteWriteConfig[], externalLabels: Labels = Labels.empty): Promise<void> {
    if (this.#closed) throw new RemoteWriteError('REMOTE_INVALID_ARGUMENT', 'The remote write storage is closed.');
    const labelsChanged = !externalLabels.equals(this.#externalLabels);
    const next = new Map<string, QueueManager>();
    try {
      this.#buildQueues(configs, externalLabels, labelsChanged, next);
    } catch (error) {
      // Nothing changes on a bad configuration: stop the queues this call started, keep the running ones.
      const started = [...next].filter(([hash, queue]) => this.#queues.get(hash) !== queue).map(([, queue]) => queue);
      await Promise.all(started.map((queue) => queue.stop()));
      throw error;
    }
    const retired = [...this.#queues].filter(([hash, queue]) => next.get(hash) !== queue).map(([, queue]) => queue);
    this.#queues = next;
    this.#externalLabels = externalLabels;
    await Promise.all(retired.map((queue) => queue.stop()));
  }

  /**
   * An Appendable that appends to `primary` and, after each successful commit, queues the samples
   * `primary` accepted for every endpoint.
   */
  fanout(primary: Appendable): Appendable {
    return { appender: () => new FanoutAppender(primary.appender(), this) };
  }

  /** Queues committed samples for every endpoint. The fanout calls this; so may a caller with its own commits. */
  appendCommitted(labels: readonly Labels[], timestampsMs: readonly number[], values: readonly number[]): void {
    assert(labels.length === timestampsMs.length && labels.length === values.length, 'one timestamp and value per label set');
    if (this.#queues.size === 0) return;
    this.#samplesIn += labels.length;
    for (const queue of this.#queues.values()) {
      for (let index = 0; index < labels.length; index += 1) queue.append(labels[index]!, timestampsMs[index]!, values[index]!);
    }
  }

  /** @internal The fanout reports samples it could not hold. */
  countBatchFull(count: number): void {
    this.#samplesDroppedBatchFull += count;
  }

  counters(): WriteStorageCounters {
    return {
      samplesIn: this.#samplesIn,
      samplesDroppedBatchFull: this.#samplesDroppedBatchFull,
      queues: [...this.#queues.values()].map((queue) => queue.counters()),
    };
  }

  /** Stops every queue, flushing within the flush deadline. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const queues = [...this.#queues.values()];
    this.#queues = new Map();
    await Promise.all(queues.map((queue) => queue.stop()));
  }

  #buildQueues(configs: readonly RemoteWriteConfig[], externalLabels: Labels, labelsChanged: boolean, next: Map<string, QueueManager>): void {
    const names = new Set<string>();
    for (const config of configs) {
      const hash = configHash(config);
      if (next.has(hash)) throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `Duplicate remote write configuration for ${config.url}.`);
      const queue = (labelsChanged ? undefined : this.#queues.get(hash)) ?? this.#createQueue(config, externalLabels);
      next.set(hash, queue);
      if (names.has(queue.name)) throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `Duplicate remote write queue name ${JSON.stringify(queue.name)}.`);
      names.add(queue.name);
    }
  }

  #createQueue(config: RemoteWriteConfig, externalLabels: Labels): QueueManager {
    const options = this.#options;
    return new QueueManager({
      config, externalLabels,
      ...(options.createClient === undefined ? {} : { client: options.createClient(config) }),
      ...(options.flushDeadlineMs === undefined ? {} : { flushDeadlineMs: options.flushDeadlineMs }),
      ...(options.sendAttemptsMax === undefined ? {} : { sendAttemptsMax: options.sendAttemptsMax }),
      ...(options.shardUpdateIntervalMs === undefined ? {} : { shardUpdateIntervalMs: options.shardUpdateIntervalMs }),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    });
  }
}

/** Appends through to the primary appender and keeps the accepted samples until the commit. */
class FanoutAppender implements Appender {
  readonly #primary: Appender;
  readonly #storage: WriteStorage;
  #labels: Labels[] = [];
  #timestampsMs: number[] = [];
  #values: number[] = [];
  #overflow = 0;

  constructor(primary: Appender, storage: WriteStorage) {
    this.#primary = primary;
    this.#storage = storage;
  }

  append(labels: Labels, timestampMs: number, value: number): AppendOutcome {
    const outcome = this.#primary.append(labels, timestampMs, value);
    if (outcome !== 'ok' || !this.#storage.active) return outcome;
    if (this.#labels.length >= fanoutBatchSamplesMax) {
      this.#overflow += 1;
      return outcome;
    }
    this.#labels.push(labels);
    this.#timestampsMs.push(timestampMs);
    this.#values.push(value);
    return outcome;
  }

  async commit(): Promise<void> {
    const labels = this.#labels;
    const timestampsMs = this.#timestampsMs;
    const values = this.#values;
    const overflow = this.#overflow;
    this.#reset();
    await this.#primary.commit();
    this.#storage.appendCommitted(labels, timestampsMs, values);
    if (overflow > 0) this.#storage.countBatchFull(overflow);
  }

  rollback(): void {
    this.#reset();
    this.#primary.rollback();
  }

  #reset(): void {
    this.#labels = [];
    this.#timestampsMs = [];
    this.#values = [];
    this.#overflow = 0;
  }
}
