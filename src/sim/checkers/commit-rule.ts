import { type NodeId, Role } from '../../raft/index.ts';
import type { LogView } from './log-view.ts';
import { nodeName, violated } from './violation.ts';

interface NodeState {
  readonly incarnation: number;
  readonly role: Role;
  readonly term: number;
  readonly commit: number;
}

/**
 * The leader's commit rule (Raft §5.4.2, Figure 2): a leader advances its commit index only to an entry
 * of its current term, counting replicas; entries of earlier terms are committed only indirectly, by a
 * later entry of the current term. Breaking it is the Figure 8 bug, whose end-to-end effect (a committed
 * entry overwritten) needs a rare sequence of elections; this checks the rule where it is applied.
 *
 * Checked across two consecutive Ready batches of one node that was leader of the same term in both, so a
 * commit index learned as a follower before winning an election is never mistaken for the leader's own.
 */
export class CommitRuleChecker {
  readonly #states = new Map<NodeId, NodeState>();

  /** `node` started an incarnation with this durable term and commit index (as a follower). */
  observeStart(node: NodeId, incarnation: number, term: number, commit: number): void {
    this.#states.set(node, { incarnation, role: Role.Follower, term, commit });
  }

  /**
   * A Ready of `node`: its role if it changed, its term and commit if they changed, and its log as of the
   * Ready.
   */
  observeReady(node: NodeId, incarnation: number, change: { role: Role | null; term: number | null; commit: number | null }, log: LogView): void {
    const previous = this.#states.get(node);
    if (previous === undefined || previous.incarnation !== incarnation) return;
    const next: NodeState = {
      incarnation, role: change.role ?? previous.role, term: change.term ?? previous.term, commit: change.commit ?? previous.commit,
    };
    this.#states.set(node, next);
    const stayedLeader = previous.role === Role.Leader && next.role === Role.Leader && previous.term === next.term;
    if (!stayedLeader || next.commit <= previous.commit) return;
    const committedTerm = log.termAt(next.commit);
    if (committedTerm !== undefined && committedTerm !== next.term) {
      violated('leader-commit-rule', `${nodeName(node)}, leader of term ${next.term}, advanced its commit index to ${next.commit}, an entry of term ${committedTerm}`);
    }
  }
}
