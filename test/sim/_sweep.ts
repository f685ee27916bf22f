import { type SeedResult, runSeed } from '../../src/sim/index.ts';
import { failureLine } from '../../src/cli/sim.ts';

/** Runs swarm seeds; returns the failure lines (with replay commands) and the cluster sizes seen. */
export function sweep(seeds: readonly number[], nodesCount: number | null): { failures: string[]; sizes: Set<number>; results: SeedResult[] } {
  const failures: string[] = [];
  const sizes = new Set<number>();
  const results: SeedResult[] = [];
  for (const seed of seeds) {
    const result = runSeed({ seed, swarm: true, nodesCount, bug: null, trace: false });
    sizes.add(result.options.nodesCount);
    results.push(result);
    if (result.violation !== null) failures.push(failureLine(result));
  }
  return { failures, sizes, results };
}

export function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}
