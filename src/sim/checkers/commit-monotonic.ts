import type { HardState, NodeId } from '../../raft/index.ts';
import { nodeName, violated } from './violation.ts';

/**
 * The commit index never goes backwards: within one incarnation of a node (the in-memory commit index
 * the core hands out), and on its disk across all incarnations (a commit index once durable stays).
 */
export class CommitMonotonicChecker {
  readonly #latest = new Map<NodeId, { incarnation: number; commit: number }>();

  /** The last commit index this incarnation of `node` handed out (its durable one if none yet). */
  latestCommit(node: NodeId, incarnation: number): number {
    const latest = this.#latest.get(node);
    return latest !== undefined && latest.incarnation === incarnation ? latest.commit : 0;
  }

  observeCommit(node: NodeId, incarnation: number, commit: number): void {
    const latest = this.#latest.get(node);
    if (latest !== undefined && latest.incarnation === incarnation && commit < latest.commit) {
      violated('commit-monotonic', `${nodeName(node)}'s commit index went back from ${latest.commit} to ${commit}`);
    }
    this.#latest.set(node, { incarnation, commit });
  }

  observeDurableHardState(node: NodeId, previous: HardState, next: HardState): void {
    if (next.commit < previous.commit) {
      violated('commit-monotonic', `${nodeName(node)}'s durable commit index went back from ${previous.commit} to ${next.commit}`);
    }
  }
}
