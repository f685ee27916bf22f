/**
 * What every rule keeps about its last evaluation: health, last error, when it ran and how long it took,
 * as the rules API reports them.
 */
import type { Labels } from '../tsdb/index.ts';

/** Prometheus's rule health values. */
export type RuleHealth = 'unknown' | 'ok' | 'err';

/** One sample a rule produces or consumes, at the evaluation's timestamp. */
export interface RuleSample {
  readonly labels: Labels;
  readonly value: number;
}

/** A rule's evaluation failed in a way Prometheus reports as the rule's last error. */
export class RuleEvaluationError extends Error {
  readonly code = 'RULE_EVALUATION_FAILED';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuleEvaluationError';
  }
}

export class RuleState {
  health: RuleHealth = 'unknown';
  /** The last evaluation's error message, '' when it succeeded. */
  lastError = '';
  /** Wall-clock start of the last evaluation (ms since the epoch); undefined before the first. */
  lastEvaluationMs: number | undefined = undefined;
  /** How long the last evaluation took, in milliseconds. */
  evaluationDurationMs = 0;

  /** Records an outcome: an error makes the rule unhealthy, undefined healthy. */
  setOutcome(error: string | undefined): void {
    this.health = error === undefined ? 'ok' : 'err';
    this.lastError = error ?? '';
  }
}
