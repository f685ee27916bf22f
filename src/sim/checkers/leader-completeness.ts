import type { NodeId } from '../../raft/index.ts';
import type { CommittedLog } from './committed-log.ts';
import type { LogView } from './log-view.ts';
import { nodeName, violated } from './violation.ts';

/**
 * Leader completeness (Raft §5.4): the leader of a term holds every entry committed in an earlier term.
 * Checked when a node first acts as leader of a term, against the committed prefix any node has learned.
 */
export class LeaderCompletenessChecker {
  readonly #committed: CommittedLog;

  constructor(committed: CommittedLog) {
    this.#committed = committed;
  }

  observeNewLeader(node: NodeId, term: number, log: LogView): void {
    const commitIndex = this.#committed.commitIndex;
    const start = Math.max(1, log.snapshotIndex());
    for (let index = start; index <= commitIndex; index++) {
      const committedTerm = this.#committed.termAt(index);
      const commitTerm = this.#committed.commitTermAt(index);
      if (committedTerm === undefined || commitTerm === undefined || commitTerm >= term) continue;
      const held = log.termAt(index);
      if (held === committedTerm) continue;
      const detail = held === undefined ? `its log ends at ${log.lastIndex()}` : `it holds term ${held} there`;
      violated('leader-completeness', `${nodeName(node)} became leader of term ${term} without entry ${index} of term ${committedTerm}, committed in term ${commitTerm} (${detail})`);
    }
  }
}
