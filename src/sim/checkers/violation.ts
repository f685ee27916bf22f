import type { NodeId } from '../../raft/index.ts';

/** The invariant a violation broke. Stable names: they appear in `keel sim` output and tests. */
export type CheckerName =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'commit-monotonic'
  | 'leader-commit-rule'
  | 'persist-before-reply'
  | 'read-index'
  | 'committed-entry-lost'
  | 'linearizability'
  | 'liveness'
  | 'core-assertion'
  | 'simulator-error';

export interface Violation {
  readonly checker: CheckerName;
  readonly message: string;
  /** Simulated time of the event that exposed it. */
  readonly timeMs: number;
}

/**
 * Thrown by a checker to stop the run at the first violation: the state after a broken invariant only
 * produces echoes of it. The run loop catches it and fills in the time.
 */
export class ViolationError extends Error {
  readonly code = 'SIM_VIOLATION';
  readonly checker: CheckerName;
  constructor(checker: CheckerName, message: string) {
    super(`${checker}: ${message}`);
    this.name = 'ViolationError';
    this.checker = checker;
  }
}

export function violated(checker: CheckerName, message: string): never {
  throw new ViolationError(checker, message);
}

export function nodeName(id: NodeId): string {
  return `n${id}`;
}
