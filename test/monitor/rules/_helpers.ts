/**
 * Shared pieces of the rule tests: a store with samples, a manager over it whose groups come from YAML
 * text, and instant queries that return `labels value` lines.
 */
import { Engine, MemoryStorage } from '../../../src/monitor/promql/index.ts';
import type { NotifierAlert } from '../../../src/monitor/notifier/index.ts';
import { parseRuleFile, RuleManager } from '../../../src/monitor/rules/index.ts';
import type { RuleGroup } from '../../../src/monitor/rules/index.ts';
import { Labels } from '../../../src/monitor/tsdb/index.ts';

/** A fixed start, so times in failures read the same on every run. */
export const startMs = 1_700_000_000_000;

export interface Harness {
  readonly storage: MemoryStorage;
  readonly manager: RuleManager;
  /** Every batch the manager handed to the notifier, in order. */
  readonly sent: NotifierAlert[][];
  group(name?: string): RuleGroup;
  /** Adds samples: [labels, offset from startMs in seconds, value]. */
  add(samples: readonly (readonly [Record<string, string>, number, number])[]): Promise<void>;
  /** Evaluates every group at startMs + seconds. */
  evaluateAt(seconds: number): Promise<void>;
  /** `labels value` lines of an instant query at startMs + seconds, sorted. */
  query(expression: string, seconds: number): Promise<string[]>;
}

export async function harness(rulesYaml: string, options: { resendDelayMs?: number; externalLabels?: Record<string, string>; externalUrl?: string; evaluationIntervalMs?: number } = {}): Promise<Harness> {
  const storage = new MemoryStorage();
  const engine = new Engine();
  const sent: NotifierAlert[][] = [];
  const manager = new RuleManager({
    queryable: storage,
    appendable: storage,
    engine,
    notify: (alerts) => sent.push([...alerts]),
    resendDelayMs: options.resendDelayMs ?? 60_000,
    externalUrl: options.externalUrl ?? 'http://monitor.example:9090',
  });
  await manager.loadGroups(parseRuleFile(rulesYaml, 'test.yml'), {
    evaluationIntervalMs: options.evaluationIntervalMs ?? 10_000,
    externalLabels: Labels.fromRecord(options.externalLabels ?? {}),
  });
  return {
    storage,
    manager,
    sent,
    group(name) {
      const found = manager.groups().find((group) => name === undefined || group.name === name);
      if (found === undefined) throw new Error(`no group ${name ?? ''}`);
      return found;
    },
    async add(samples) {
      const appender = storage.appender();
      for (const [labels, seconds, value] of samples) appender.append(Labels.fromRecord(labels), startMs + seconds * 1000, value);
      await appender.commit();
    },
    evaluateAt: (seconds) => manager.evaluateAll(startMs + seconds * 1000),
    async query(expression, seconds) {
      const result = await engine.instantQuery(storage, expression, startMs + seconds * 1000);
      if (result.resultType !== 'vector') throw new Error(`expected a vector, got ${result.resultType}`);
      return result.result.map((sample) => `${sample.labels.toString()} ${sample.value}`).sort();
    },
  };
}

/** A series of one value every 10 s from `fromSeconds` to `toSeconds` inclusive. */
export function steady(labels: Record<string, string>, fromSeconds: number, toSeconds: number, value: number): [Record<string, string>, number, number][] {
  const samples: [Record<string, string>, number, number][] = [];
  for (let seconds = fromSeconds; seconds <= toSeconds; seconds += 10) samples.push([labels, seconds, value]);
  return samples;
}

/** Polls `condition` every few milliseconds until it holds or `timeoutMs` passes. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
