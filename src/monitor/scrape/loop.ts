/**
 * The scrape loop of one target, with Prometheus's behaviour: scrapes at a stable offset within the
 * interval; timestamps aligned to the ideal tick when within 2 ms (better chunk compression); the
 * synthetic series `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
 * `scrape_samples_post_metric_relabeling` and `scrape_series_added`; and staleness markers for series
 * that were in the previous scrape but not in this one, for every series when a scrape fails, and for
 * everything, report series included, when the target goes away.
 *
 * Nothing thrown escapes: a refused connection, a timeout, a malformed or oversized body or a broken
 * limit becomes `up` 0 and a recorded `lastError`.
 */
import type http from 'node:http';
import type https from 'node:https';
import type { Appendable, Appender, AppendOutcome } from '../storage.ts';
import type { TargetHealth, TargetStatus } from '../targets.ts';
import { assert, floatFromBits, metricNameLabel, staleMarkerHighBits, staleMarkerLowBits } from '../tsdb/index.ts';
import type { Labels } from '../tsdb/index.ts';
import { fetchExposition } from './_http.ts';
import type { ScrapeResponse } from './_http.ts';
import { MutationCache, processSamples } from './_samples.ts';
import type { ProcessedSample, SampleSettings } from './_samples.ts';
import type { ScrapeSlots } from './_slots.ts';
import { ScrapeError } from './errors.ts';
import { formatFromContentType, parseExposition } from './parse.ts';
import type { ParseResult } from './parse.ts';
import { ParseError } from './parse-errors.ts';
import type { MetricMetadata } from './parse-families.ts';
import type { Target } from './target.ts';

/** Largest body read when `body_size_limit` is unset or larger: bodies are held whole for parsing. */
export const scrapeBodyBytesMax = 128 * 1024 * 1024;
/** A scrape starting this close after its ideal tick takes the tick's timestamp (Prometheus's tolerance). */
export const scrapeTimestampToleranceMs = 2;
/** Scrapes a series may be absent before it counts as added again in `scrape_series_added`. */
export const seriesSeenIterationsMax = 10;
/** Most series remembered per target for `scrape_series_added`; beyond it the memory restarts. */
export const seriesSeenMax = 1_000_000;

/** The names of the synthetic series, in the order they are written. */
export const reportMetricNames = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'] as const;

export interface LoopSettings extends SampleSettings {
  readonly honorTimestamps: boolean;
  /** 0 means {@link scrapeBodyBytesMax}. */
  readonly bodySizeLimitBytes: number;
}

export interface LoopEnvironment {
  readonly appendable: Appendable;
  readonly slots: ScrapeSlots;
  readonly agents: { readonly http: http.Agent; readonly https: https.Agent };
  /** Wall clock in milliseconds since the epoch. */
  readonly now: () => number;
  readonly jitterSeed: number;
}

/** What a loop hands to the loop that replaces it on a reload, so staleness tracking carries on. */
export interface LoopState {
  readonly previousSeries: ReadonlyMap<string, Labels>;
  readonly lastAppendMs: number | undefined;
  readonly health: TargetHealth;
  readonly lastError: string;
  readonly lastScrapeMs: number | undefined;
  readonly lastScrapeDurationSeconds: number;
  readonly metadata: readonly MetricMetadata[];
}

/** How a loop ends: the target went away, a new loop takes over, or the server shuts down. */
export type StopMode = 'stale' | 'handover' | 'shutdown';

interface Report {
  readonly up: number;
  readonly durationSeconds: number;
  readonly total: number;
  readonly postRelabel: number;
}

/**
 * Scrapes one target until stopped.
 *
 * @example
 * const loop = new ScrapeLoop(target, settings, environment);
 * loop.start();
 * // ...
 * await loop.stop('stale');
 */
export class ScrapeLoop {
  readonly target: Target;
  readonly settings: LoopSettings;
  readonly #environment: LoopEnvironment;
  readonly #abort = new AbortController();
  readonly #staleAbort = new AbortController();
  readonly #cache = new MutationCache();
  readonly #reportLabels: readonly Labels[];
  readonly #outcomes = new Map<AppendOutcome, number>();
  #running: Promise<void> | undefined;
  #staleTask: Promise<void> | undefined;
  #forcedError: ScrapeError | undefined;
  /** Invariant: the series of the last scrape whose samples carried no timestamp of their own. */
  #previousSeries: ReadonlyMap<string, Labels> = new Map();
  readonly #seriesSeen = new Map<string, number>();
  #iteration = 0;
  #nextScrapeMs = 0;
  #alignedMs: number | undefined;
  #lastAppendMs: number | undefined;
  #health: TargetHealth = 'unknown';
  #lastError = '';
  #lastScrapeMs: number | undefined;
  #lastScrapeDurationSeconds = 0;
  #metadata: readonly MetricMetadata[] = [];

  constructor(target: Target, settings: LoopSettings, environment: LoopEnvironment, inherited?: LoopState) {
    this.target = target;
    this.settings = settings;
    this.#environment = environment;
    this.#reportLabels = reportMetricNames.map((name) => target.labels.with(metricNameLabel, name));
    if (inherited !== undefined) this.#inherit(inherited);
  }

  /** Starts scraping; the first scrape happens at the target's offset within the interval. */
  start(): void {
    assert(this.#running === undefined, 'a loop starts once');
    this.#running = this.#run();
  }

  /** Makes every scrape fail with `error` without contacting the target (the job broke target_limit). */
  setForcedError(error: ScrapeError | undefined): void {
    this.#forcedError = error;
  }

  /**
   * Stops the loop, interrupting a scrape in flight, and returns its state. With 'stale', staleness
   * markers for every series follow once the next scrape would have been ingested (Prometheus waits so
   * that a target recreated elsewhere writes first); see {@link staleness}.
   */
  async stop(mode: StopMode): Promise<LoopState> {
    this.#abort.abort();
    await this.#running;
    if (mode === 'stale') this.#staleTask = this.#endOfRunStaleness();
    return this.#state();
  }

  /** The pending end-of-run staleness write, if any; settles when written or cancelled. */
  get staleness(): Promise<void> | undefined {
    return this.#staleTask;
  }

  /** Cancels pending staleness markers (the server shuts down and will carry on where it was). */
  cancelStaleness(): void {
    this.#staleAbort.abort();
  }

  /** Append outcomes other than 'ok', counted per reason since the loop started. */
  appendOutcomes(): ReadonlyMap<AppendOutcome, number> {
    return this.#outcomes;
  }

  status(): TargetStatus {
    return {
      scrapePool: this.target.scrapePool,
      discoveredLabels: this.target.discoveredLabels,
      labels: this.target.labels,
      scrapeUrl: this.target.url,
      health: this.#health,
      lastError: this.#lastError,
      lastScrapeMs: this.#lastScrapeMs,
      lastScrapeDurationSeconds: this.#lastScrapeDurationSeconds,
      scrapeIntervalMs: this.target.scrapeIntervalMs,
      scrapeTimeoutMs: this.target.scrapeTimeoutMs,
    };
  }

  /** HELP/TYPE/UNIT of the metric families in the last parsed exposition. */
  metadata(): readonly MetricMetadata[] {
    return this.#metadata;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const intervalMs = this.target.scrapeIntervalMs;
    const offsetMs = this.target.offsetMs(this.#environment.jitterSeed);
    this.#nextScrapeMs = nextTickMs(this.#environment.now(), offsetMs, intervalMs);
    while (!signal.aborted) {
      await sleep(this.#nextScrapeMs - this.#environment.now(), signal);
      if (signal.aborted) break;
      try {
        await this.#scrapeAndReport(signal);
      } catch (error) {
        // A bug, not bad input (those are handled inside): keep the loop alive and the cause visible.
        this.#health = 'down';
        this.#lastError = `internal error: ${error instanceof Error ? error.message : String(error)}`;
      }
      // A scrape that overran its interval skips the ticks it missed, as Go's ticker drops them.
      this.#nextScrapeMs = nextTickMs(Math.max(this.#environment.now(), this.#nextScrapeMs + 1), offsetMs, intervalMs);
    }
  }

  async #scrapeAndReport(signal: AbortSignal): Promise<void> {
    const startMs = this.#environment.now();
    const appendTimeMs = this.#alignTimestamp(startMs);
    let parsed: ParseResult | undefined;
    let samples: ProcessedSample[] | undefined;
    let error: ScrapeError | undefined;
    let counts = { total: 0, postRelabel: 0 };
    try {
      if (this.#forcedError !== undefined) throw this.#forcedError;
      parsed = parseBody(await this.#environment.slots.run(signal, () => this.#fetch(signal)));
      const processed = processSamples(parsed.samples, this.target.labels, this.settings, this.#cache);
      counts = { total: processed.total, postRelabel: processed.postRelabel };
      error = processed.error;
      if (error === undefined) samples = processed.samples;
    } catch (caught) {
      error = asScrapeError(caught);
    }
    if (signal.aborted) return; // The loop is stopping: an interrupted scrape writes nothing.
    if (parsed !== undefined) this.#metadata = parsed.metadata;
    const durationSeconds = (this.#environment.now() - startMs) / 1000;
    const report = { up: error === undefined ? 1 : 0, durationSeconds, ...counts };
    const appendError = await this.#append(appendTimeMs, samples, report);
    error ??= appendError;
    if (error === undefined) this.#cache.finishIteration();
    this.#health = error === undefined ? 'up' : 'down';
    this.#lastError = error === undefined ? '' : error.message;
    this.#lastScrapeMs = startMs;
    this.#lastScrapeDurationSeconds = durationSeconds;
  }

  #fetch(signal: AbortSignal): Promise<ScrapeResponse> {
    const limit = this.settings.bodySizeLimitBytes;
    return fetchExposition({
      url: this.target.url,
      timeoutMs: this.target.scrapeTimeoutMs,
      bodyBytesMax: limit > 0 ? Math.min(limit, scrapeBodyBytesMax) : scrapeBodyBytesMax,
      signal,
      agents: this.#environment.agents,
    });
  }

  /**
   * Writes one scrape: its samples (none when it failed), staleness markers for the series it no longer
   * has, and the report series, in one batch. Returns the error when the store refused the batch.
   */
  async #append(appendTimeMs: number, samples: readonly ProcessedSample[] | undefined, report: Report): Promise<ScrapeError | undefined> {
    const appender = this.#environment.appendable.appender();
    try {
      const current = new Map<string, Labels>();
      let seriesAdded = 0;
      for (const sample of samples ?? []) {
        const ownTimestampMs = this.settings.honorTimestamps ? sample.timestampMs : undefined;
        this.#count(appender.append(sample.labels, ownTimestampMs ?? appendTimeMs, sample.value));
        const key = sample.labels.toString();
        // Prometheus 2.42 tracks staleness only for samples stamped with the scrape's time.
        if (ownTimestampMs === undefined) current.set(key, sample.labels);
        if (!this.#seriesSeen.has(key)) seriesAdded += 1;
        this.#seriesSeen.set(key, this.#iteration);
      }
      this.#appendStaleMarkers(appender, [...this.#previousSeries].filter(([key]) => !current.has(key)).map(([, labels]) => labels), appendTimeMs);
      this.#previousSeries = current;
      const values = [report.up, report.durationSeconds, report.total, report.postRelabel, seriesAdded];
      this.#reportLabels.forEach((labels, index) => this.#count(appender.append(labels, appendTimeMs, values[index]!)));
      await appender.commit();
      this.#lastAppendMs = appendTimeMs;
      if (samples !== undefined) this.#forgetUnseenSeries();
      return undefined;
    } catch (caught) {
      safeRollback(appender);
      return new ScrapeError('SCRAPE_APPEND_FAILED', `appending the scrape failed: ${(caught as Error).message}`, { cause: caught });
    }
  }

  /** Staleness markers; out-of-order and duplicate refusals are expected (a recreated target wrote first) and not counted. */
  #appendStaleMarkers(appender: Appender, series: readonly Labels[], timestampMs: number): void {
    for (const labels of series) {
      const outcome = appender.append(labels, timestampMs, staleMarkerValue());
      if (outcome !== 'out_of_order' && outcome !== 'duplicate_sample') this.#count(outcome);
    }
  }

  async #endOfRunStaleness(): Promise<void> {
    if (this.#lastAppendMs === undefined) return; // Never scraped: nothing to mark.
    const intervalMs = this.target.scrapeIntervalMs;
    const staleTimeMs = Math.max(this.#nextScrapeMs, this.#lastAppendMs + 1);
    await sleep(staleTimeMs + intervalMs + intervalMs / 10 - this.#environment.now(), this.#staleAbort.signal);
    if (this.#staleAbort.signal.aborted) return;
    const appender = this.#environment.appendable.appender();
    try {
      this.#appendStaleMarkers(appender, [...this.#previousSeries.values(), ...this.#reportLabels], staleTimeMs);
      await appender.commit();
      this.#previousSeries = new Map();
    } catch (caught) {
      safeRollback(appender);
      this.#lastError = `writing staleness markers failed: ${(caught as Error).message}`;
    }
  }

  #alignTimestamp(startMs: number): number {
    const intervalMs = this.target.scrapeIntervalMs;
    if (this.#alignedMs === undefined || intervalMs <= 100 * scrapeTimestampToleranceMs || startMs < this.#alignedMs) {
      this.#alignedMs = startMs;
      return startMs;
    }
    this.#alignedMs += Math.floor((startMs - this.#alignedMs) / intervalMs) * intervalMs;
    assert(startMs - this.#alignedMs < intervalMs, 'the aligned tick is the latest one at or before the start');
    return startMs - this.#alignedMs <= scrapeTimestampToleranceMs ? this.#alignedMs : startMs;
  }

  #forgetUnseenSeries(): void {
    this.#iteration += 1;
    if (this.#seriesSeen.size > seriesSeenMax) this.#seriesSeen.clear();
    const oldest = this.#iteration - seriesSeenIterationsMax;
    for (const [key, iteration] of this.#seriesSeen) if (iteration < oldest) this.#seriesSeen.delete(key);
  }

  #count(outcome: AppendOutcome): void {
    if (outcome !== 'ok') this.#outcomes.set(outcome, (this.#outcomes.get(outcome) ?? 0) + 1);
  }

  #state(): LoopState {
    return {
      previousSeries: this.#previousSeries,
      lastAppendMs: this.#lastAppendMs,
      health: this.#health,
      lastError: this.#lastError,
      lastScrapeMs: this.#lastScrapeMs,
      lastScrapeDurationSeconds: this.#lastScrapeDurationSeconds,
      metadata: this.#metadata,
    };
  }

  #inherit(state: LoopState): void {
    this.#previousSeries = state.previousSeries;
    this.#lastAppendMs = state.lastAppendMs;
    this.#health = state.health;
    this.#lastError = state.lastError;
    this.#lastScrapeMs = state.lastScrapeMs;
    this.#lastScrapeDurationSeconds = state.lastScrapeDurationSeconds;
    this.#metadata = state.metadata;
  }
}

/**
 * Prometheus's staleness marker as a number, made fresh on each call: a stored copy may have its
 * signalling-NaN payload quieted by the engine (see tsdb/value.ts), so the bits are rebuilt every time.
 */
export function staleMarkerValue(): number {
  return floatFromBits(staleMarkerHighBits, staleMarkerLowBits);
}

/** The first time ≥ `nowMs` that is `offsetMs` past a multiple of the interval (pinned to absolute time). */
export function nextTickMs(nowMs: number, offsetMs: number, intervalMs: number): number {
  assert(intervalMs > 0 && offsetMs >= 0 && offsetMs < intervalMs, 'an offset lies within the interval');
  const tickMs = Math.ceil((nowMs - offsetMs) / intervalMs) * intervalMs + offsetMs;
  assert(tickMs >= nowMs && tickMs - nowMs < intervalMs, 'the next tick is within one interval');
  return tickMs;
}

function parseBody(response: ScrapeResponse): ParseResult {
  try {
    return parseExposition(response.body, { format: formatFromContentType(response.contentType) });
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    const code = error.code === 'SCRAPE_SAMPLE_LIMIT_EXCEEDED' ? 'SCRAPE_SAMPLE_LIMIT' : 'SCRAPE_PARSE_FAILED';
    throw new ScrapeError(code, `${error.message} (${error.code})`, { cause: error });
  }
}

function asScrapeError(error: unknown): ScrapeError {
  if (error instanceof ScrapeError) return error;
  return new ScrapeError('SCRAPE_PARSE_FAILED', `unexpected scrape failure: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function safeRollback(appender: Appender): void {
  try {
    appender.rollback();
  } catch {
    // The batch is already gone; nothing more to undo.
  }
}

function sleep(delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const wake = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, Math.max(0, delayMs));
    signal.addEventListener('abort', wake, { once: true });
  });
}
