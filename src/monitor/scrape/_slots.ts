/**
 * A counting semaphore that bounds how many scrapes run at once across all targets, so that a job with
 * thousands of targets opens at most `slotsMax` connections and buffers at most `slotsMax` bodies.
 */
import { assert } from '../tsdb/index.ts';
import { ScrapeError } from './errors.ts';

export class ScrapeSlots {
  readonly slotsMax: number;
  /** Most scrapes that may wait for a slot; each loop waits at most once, so this bounds targets too. */
  readonly waitersMax: number;
  /** Invariant: 0 ≤ #inUse ≤ slotsMax, and #waiters is empty unless #inUse === slotsMax. */
  #inUse = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(slotsMax: number, waitersMax: number) {
    assert(Number.isInteger(slotsMax) && slotsMax > 0, 'at least one scrape slot');
    assert(Number.isInteger(waitersMax) && waitersMax >= 0, 'a bounded wait queue');
    this.slotsMax = slotsMax;
    this.waitersMax = waitersMax;
  }

  get inUse(): number {
    return this.#inUse;
  }

  /**
   * Runs `work` in a slot, waiting for one if all are taken. Rejects with `SCRAPE_STOPPED` when `signal`
   * aborts while waiting.
   */
  async run<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    await this.#acquire(signal);
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  #acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(new ScrapeError('SCRAPE_STOPPED', 'scrape stopped before it started'));
    if (this.#inUse < this.slotsMax) {
      this.#inUse += 1;
      return Promise.resolve();
    }
    if (this.#waiters.length >= this.waitersMax) {
      return Promise.reject(new ScrapeError('SCRAPE_TIMEOUT', `more than ${this.waitersMax} scrapes are waiting for one of ${this.slotsMax} slots`));
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', abandon);
        resolve();
      };
      const abandon = (): void => {
        const index = this.#waiters.indexOf(grant);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new ScrapeError('SCRAPE_STOPPED', 'scrape stopped while waiting for a slot'));
      };
      signal.addEventListener('abort', abandon, { once: true });
      this.#waiters.push(grant);
    });
  }

  #release(): void {
    assert(this.#inUse > 0, 'a release follows an acquire');
    const next = this.#waiters.shift();
    if (next !== undefined) next(); // The slot passes straight to the next waiter.
    else this.#inUse -= 1;
  }
}
