/**
 * A deliberately simple Appendable and Queryable for the API tests: every series in a list, every query a
 * scan. It stands in for the TSDB where a test needs a store that can misbehave on purpose.
 */
import type { Appendable, Appender, AppendOutcome, Querier, Queryable, SampleIterator, Series } from '../../../src/monitor/storage.ts';
import type { Matcher } from '../../../src/monitor/tsdb/index/matcher.ts';
import { compareStrings, Labels } from '../../../src/monitor/tsdb/labels.ts';

interface Stored {
  readonly labels: Labels;
  readonly samples: [number, number][];
}

export class MemoryStore implements Appendable, Queryable {
  readonly #series: Stored[] = [];
  /** How many queriers are open; a test checks the API closes each one. */
  openQueriers = 0;

  appender(): Appender {
    const pending: [Labels, number, number][] = [];
    return {
      append: (labels: Labels, timestampMs: number, value: number): AppendOutcome => {
        pending.push([labels, timestampMs, value]);
        return 'ok';
      },
      commit: async () => {
        for (const [labels, timestampMs, value] of pending) this.#add(labels, timestampMs, value);
      },
      rollback: () => {
        pending.length = 0;
      },
    };
  }

  querier(minTimeMs: number, maxTimeMs: number): Querier {
    this.openQueriers += 1;
    const inRange = (stored: Stored) => stored.samples.filter(([timeMs]) => timeMs >= minTimeMs && timeMs <= maxTimeMs);
    const matching = (matchers: readonly Matcher[] | undefined) =>
      this.#series
        .filter((stored) => inRange(stored).length > 0)
        .filter((stored) => (matchers ?? []).every((matcher) => matcher.matches(stored.labels.get(matcher.name))))
        .sort((left, right) => Labels.compare(left.labels, right.labels));
    return {
      minTimeMs,
      maxTimeMs,
      select: (matchers) => matching(matchers).map((stored): Series => ({ labels: stored.labels, iterator: () => iterate(inRange(stored)) })),
      labelNames: (matchers) => [...new Set(matching(matchers).flatMap((stored) => [...stored.labels].map((label) => label.name)))].sort(compareStrings),
      labelValues: (name, matchers) => [...new Set(matching(matchers).map((stored) => stored.labels.get(name)).filter((value) => value !== ''))].sort(compareStrings),
      close: () => {
        this.openQueriers -= 1;
      },
    };
  }

  #add(labels: Labels, timestampMs: number, value: number): void {
    let stored = this.#series.find((candidate) => candidate.labels.equals(labels));
    if (stored === undefined) this.#series.push((stored = { labels, samples: [] }));
    stored.samples.push([timestampMs, value]);
  }
}

function iterate(samples: readonly [number, number][]): SampleIterator {
  let index = -1;
  return {
    next: () => ++index < samples.length,
    seek(timestampMs: number) {
      while (index < samples.length && (index < 0 || samples[index]![0] < timestampMs)) index += 1;
      return index < samples.length;
    },
    get timestampMs() {
      return samples[index]![0];
    },
    get value() {
      return samples[index]![1];
    },
  };
}
