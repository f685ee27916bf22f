import { assert } from './assert.ts';

/** Bound on the lines one run's trace keeps; later lines are counted, not kept. */
export const traceLinesMax = 200_000;

/**
 * The readable timeline of one run: elections, faults, membership, summarised commits, the violation.
 * When disabled, `record` does nothing and the text callback is never called, so an untraced run pays
 * nothing for formatting.
 *
 * @example
 * const trace = new Trace(true);
 * trace.record(12_300, () => 'n2 became leader term 3');
 * trace.lines(); // ['[  12.300s] n2 became leader term 3']
 */
export class Trace {
  readonly enabled: boolean;
  readonly #lines: string[] = [];
  #droppedLinesCount = 0;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  record(timeMs: number, text: () => string): void {
    if (!this.enabled) return;
    if (this.#lines.length >= traceLinesMax) {
      this.#droppedLinesCount++;
      return;
    }
    this.#lines.push(formatTraceLine(timeMs, text()));
  }

  lines(): readonly string[] {
    if (this.#droppedLinesCount === 0) return this.#lines;
    return [...this.#lines, `(${this.#droppedLinesCount} more lines not kept)`];
  }
}

/** `[  12.300s] text`: simulated seconds with millisecond precision, right-aligned. */
export function formatTraceLine(timeMs: number, text: string): string {
  assert(Number.isFinite(timeMs) && timeMs >= 0, 'trace times are finite and non-negative');
  return `[${(timeMs / 1000).toFixed(3).padStart(8)}s] ${text}`;
}
