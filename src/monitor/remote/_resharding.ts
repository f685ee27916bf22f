/**
 * Dynamic sharding as Prometheus 2.42's QueueManager does it (calculateDesiredShards): every 10 s, the
 * exponentially weighted rates of samples in, samples out, samples dropped and time spent sending predict
 * how many concurrent senders keep up, plus 5 % of the backlog per second. Pure functions, so the arithmetic
 * is tested without timers. Private to the remote package.
 */
import { assert } from '../tsdb/index.ts';

/** How often the desired shard count is recomputed. */
export const shardUpdateIntervalMs = 10_000;
/** The weight of the newest interval in each moving average. */
export const ewmaWeight = 0.2;
/** Shard counts within ±30 % of the current one are left alone. */
export const shardToleranceFraction = 0.3;
/** Share of the backlog to catch up on per second. */
const backlogCatchupFraction = 0.05;
/** No downsharding while the newest sent sample is more than this far behind the newest received one. */
const downshardDelaySecondsMax = 10;

/** An exponentially weighted moving average of a per-second rate, ticked every interval. */
export class EwmaRate {
  readonly #intervalSeconds: number;
  #newEvents = 0;
  #rate = 0;
  #initialised = false;

  constructor(intervalMs: number) {
    assert(intervalMs > 0, 'an EWMA interval is positive');
    this.#intervalSeconds = intervalMs / 1000;
  }

  increment(count: number): void {
    this.#newEvents += count;
  }

  /** Folds the events since the last tick into the average; the first non-empty interval sets it. */
  tick(): void {
    const instantRate = this.#newEvents / this.#intervalSeconds;
    if (this.#initialised) this.#rate += ewmaWeight * (instantRate - this.#rate);
    else if (this.#newEvents > 0) {
      this.#initialised = true;
      this.#rate = instantRate;
    }
    this.#newEvents = 0;
  }

  get rate(): number {
    return this.#rate;
  }
}

export interface ShardingInputs {
  readonly shards: number;
  readonly minShards: number;
  readonly maxShards: number;
  /** Per-second rates (EWMA). */
  readonly samplesInRate: number;
  readonly samplesOutRate: number;
  readonly samplesDroppedRate: number;
  /** Seconds spent sending per second. */
  readonly sendSecondsRate: number;
  /** Newest timestamp received and newest sent, in seconds. */
  readonly highestReceivedSeconds: number;
  readonly highestSentSeconds: number;
}

/**
 * The shard count to move to: the current one when nothing was sent, when the estimate is within the
 * tolerance, or when downsharding while far behind; otherwise the estimate clamped to [min, max].
 *
 * @example
 * desiredShards({ shards: 1, minShards: 1, maxShards: 10, samplesInRate: 1000, samplesOutRate: 1000, samplesDroppedRate: 0,
 *   sendSecondsRate: 4, highestReceivedSeconds: 100, highestSentSeconds: 100 }); // 4
 */
export function desiredShards(inputs: ShardingInputs): number {
  assert(inputs.minShards >= 1 && inputs.minShards <= inputs.maxShards, 'shard bounds are ordered');
  if (inputs.samplesOutRate <= 0) return inputs.shards;
  const keptRatio = inputs.samplesOutRate / (inputs.samplesDroppedRate + inputs.samplesOutRate);
  const delaySeconds = inputs.highestReceivedSeconds - inputs.highestSentSeconds;
  const pendingSamples = delaySeconds * inputs.samplesInRate * keptRatio;
  const secondsPerSample = inputs.sendSecondsRate / inputs.samplesOutRate;
  const estimate = Math.ceil(secondsPerSample * (inputs.samplesInRate * keptRatio + backlogCatchupFraction * pendingSamples));
  const lowerBound = inputs.shards * (1 - shardToleranceFraction);
  const upperBound = inputs.shards * (1 + shardToleranceFraction);
  if (estimate >= lowerBound && estimate <= upperBound) return inputs.shards;
  if (estimate < inputs.shards && delaySeconds > downshardDelaySecondsMax) return inputs.shards;
  const clamped = Math.min(inputs.maxShards, Math.max(inputs.minShards, estimate));
  assert(Number.isSafeInteger(clamped), 'a shard count is an integer');
  return clamped;
}
