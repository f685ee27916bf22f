/**
 * One shard: a bounded queue and the single sender that drains it. A batch leaves when it is full
 * (max_samples_per_send) or when the oldest waiting sample has waited batch_send_deadline; a shard has at
 * most one request in flight, so one series' samples leave in order. Private to the remote package.
 */
import { assert } from '../tsdb/index.ts';
import { SampleRing } from './_ring.ts';
import type { QueuedSeries, SampleBatch } from './_ring.ts';

/** Sends one batch, retrying as configured, and does all the counting. Must never reject. */
export type BatchSender = (batch: SampleBatch, signal: AbortSignal) => Promise<void>;

export interface ShardOptions {
  readonly capacity: number;
  readonly batchSamplesMax: number;
  readonly batchSendDeadlineMs: number;
  /** A paused shard queues but does not send (a new shard waits while the old ones drain). */
  readonly paused: boolean;
  readonly send: BatchSender;
}

export class Shard {
  readonly #ring: SampleRing;
  readonly #batchSamplesMax: number;
  readonly #batchSendDeadlineMs: number;
  readonly #send: BatchSender;
  readonly #abort = new AbortController();
  #paused: boolean;
  /** Invariant: at most one #run loop at a time. */
  #sending = false;
  #deadlineDue = false;
  #flushing = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: ShardOptions) {
    assert(options.batchSamplesMax >= 1 && options.batchSendDeadlineMs >= 0, 'a shard sends batches of at least one sample');
    this.#ring = new SampleRing(options.capacity);
    this.#batchSamplesMax = Math.min(options.batchSamplesMax, options.capacity);
    this.#batchSendDeadlineMs = options.batchSendDeadlineMs;
    this.#paused = options.paused;
    this.#send = options.send;
  }

  /** Samples waiting (not counting a batch in flight). */
  get queued(): number {
    return this.#ring.length;
  }

  /** Queues a sample; false when the queue is full or the shard was aborted. */
  enqueue(series: QueuedSeries, timestampMs: number, value: number): boolean {
    if (this.#abort.signal.aborted || !this.#ring.push(series, timestampMs, value)) return false;
    this.#kick();
    return true;
  }

  resume(): void {
    this.#paused = false;
    this.#kick();
  }

  /** Sends everything queued, partial batches included; resolves once the queue is empty and idle. */
  flush(): Promise<void> {
    this.#flushing = true;
    this.#paused = false;
    const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    this.#kick();
    return idle;
  }

  /** Hard stop: aborts the request in flight and empties the queue. Returns how many queued samples it dropped. */
  abort(): number {
    this.#abort.abort();
    this.#clearTimer();
    const dropped = this.#ring.clear();
    if (!this.#sending) this.#resolveIdle();
    return dropped;
  }

  #kick(): void {
    if (this.#sending || this.#paused) return;
    const length = this.#ring.length;
    if (length === 0 || this.#abort.signal.aborted) {
      this.#clearTimer();
      this.#resolveIdle();
      return;
    }
    if (length >= this.#batchSamplesMax || this.#deadlineDue || this.#flushing) {
      void this.#run();
      return;
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#deadlineDue = true;
        this.#kick();
      }, this.#batchSendDeadlineMs);
      // A forgotten queue must not keep the process alive; shutdown flushes explicitly.
      this.#timer.unref();
    }
  }

  async #run(): Promise<void> {
    assert(!this.#sending, 'one sender per shard');
    this.#sending = true;
    this.#clearTimer();
    try {
      while (this.#hasBatchToSend()) {
        this.#deadlineDue = false;
        await this.#send(this.#ring.take(this.#batchSamplesMax), this.#abort.signal);
      }
    } finally {
      this.#sending = false;
    }
    this.#kick();
  }

  #hasBatchToSend(): boolean {
    if (this.#abort.signal.aborted || this.#ring.length === 0) return false;
    return this.#ring.length >= this.#batchSamplesMax || this.#deadlineDue || this.#flushing;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #resolveIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
