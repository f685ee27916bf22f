import { assert } from './assert.ts';

/**
 * The simulated clock: a binary min-heap of events keyed by (time, sequence). The sequence number is the
 * order of scheduling, so events at the same simulated time run in the order they were scheduled and a
 * run never depends on the heap's internal layout. Time only moves forward, to the next event's time.
 *
 * @example
 * const queue = new EventQueue<string>(1000);
 * queue.schedule(5, 'b');
 * queue.schedule(5, 'c');
 * queue.schedule(1, 'a');
 * queue.pop(); // { timeMs: 1, event: 'a' }, then 'b', then 'c'
 */
export class EventQueue<T> {
  readonly #times: number[] = [];
  readonly #sequences: number[] = [];
  readonly #events: T[] = [];
  #nextSequence = 0;
  #nowMs = 0;
  /** Invariant: size() <= eventsQueuedMax. A queue that grows without bound is a runaway simulation. */
  readonly eventsQueuedMax: number;

  constructor(eventsQueuedMax: number) {
    assert(Number.isInteger(eventsQueuedMax) && eventsQueuedMax >= 1, 'eventsQueuedMax must be a positive integer');
    this.eventsQueuedMax = eventsQueuedMax;
  }

  /** The simulated time of the last event popped. */
  get nowMs(): number {
    return this.#nowMs;
  }

  size(): number {
    return this.#events.length;
  }

  /** Schedules `event` at `timeMs`, which may not be in the past. */
  schedule(timeMs: number, event: T): void {
    assert(Number.isFinite(timeMs), () => `event time must be finite, got ${timeMs}`);
    assert(timeMs >= this.#nowMs, () => `event scheduled in the past: ${timeMs} < ${this.#nowMs}`);
    assert(this.#events.length < this.eventsQueuedMax, () => `event queue full (${this.eventsQueuedMax})`);
    this.#times.push(timeMs);
    this.#sequences.push(this.#nextSequence++);
    this.#events.push(event);
    this.#siftUp(this.#events.length - 1);
  }

  /** The time of the next event, or null when the queue is empty. */
  peekTimeMs(): number | null {
    return this.#times[0] ?? null;
  }

  /** Removes the earliest event and advances the clock to its time. */
  pop(): { timeMs: number; event: T } | null {
    const count = this.#events.length;
    if (count === 0) return null;
    const timeMs = this.#times[0]!;
    const event = this.#events[0]!;
    this.#moveLastTo(0);
    if (count > 1) this.#siftDown(0);
    assert(timeMs >= this.#nowMs, 'the clock never runs backwards');
    this.#nowMs = timeMs;
    return { timeMs, event };
  }

  #moveLastTo(index: number): void {
    const time = this.#times.pop()!;
    const sequence = this.#sequences.pop()!;
    const event = this.#events.pop()!;
    if (index === this.#events.length) return;
    this.#times[index] = time;
    this.#sequences[index] = sequence;
    this.#events[index] = event;
  }

  #less(i: number, j: number): boolean {
    const timeI = this.#times[i]!;
    const timeJ = this.#times[j]!;
    return timeI < timeJ || (timeI === timeJ && this.#sequences[i]! < this.#sequences[j]!);
  }

  #swap(i: number, j: number): void {
    const time = this.#times[i]!;
    this.#times[i] = this.#times[j]!;
    this.#times[j] = time;
    const sequence = this.#sequences[i]!;
    this.#sequences[i] = this.#sequences[j]!;
    this.#sequences[j] = sequence;
    const event = this.#events[i]!;
    this.#events[i] = this.#events[j]!;
    this.#events[j] = event;
  }

  #siftUp(start: number): void {
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.#less(index, parent)) return;
      this.#swap(index, parent);
      index = parent;
    }
  }

  #siftDown(start: number): void {
    const count = this.#events.length;
    let index = start;
    while (true) {
      const left = 2 * index + 1;
      if (left >= count) return;
      const right = left + 1;
      const child = right < count && this.#less(right, left) ? right : left;
      if (!this.#less(child, index)) return;
      this.#swap(child, index);
      index = child;
    }
  }
}
