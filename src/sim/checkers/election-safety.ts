import type { HardState, NodeId } from '../../raft/index.ts';
import { assert } from '../assert.ts';
import { nodeName, violated } from './violation.ts';

/**
 * Election safety (Raft Figure 3): at most one leader per term. Leaders are observed from role changes
 * and from the messages only a leader sends (appends, heartbeats, snapshots), so a node that led only
 * briefly between two Ready batches is still seen. Also checks the rule behind it on every durable hard
 * state: a node's term never decreases, and it never changes its vote within a term.
 */
export class ElectionSafetyChecker {
  readonly #leaderByTerm = new Map<number, NodeId>();

  observeLeader(node: NodeId, term: number): void {
    assert(term >= 1, 'a leader has a term');
    const known = this.#leaderByTerm.get(term);
    if (known === undefined) this.#leaderByTerm.set(term, node);
    else if (known !== node) violated('election-safety', `two leaders in term ${term}: ${nodeName(known)} and ${nodeName(node)}`);
  }

  leaderOf(term: number): NodeId | undefined {
    return this.#leaderByTerm.get(term);
  }

  /** `previous` is the durable hard state before a write, `next` the one the write made durable. */
  observeDurableHardState(node: NodeId, previous: HardState, next: HardState): void {
    if (next.term < previous.term) {
      violated('election-safety', `${nodeName(node)}'s durable term went back from ${previous.term} to ${next.term}`);
    }
    if (next.term === previous.term && previous.vote !== 0 && next.vote !== previous.vote) {
      violated('election-safety', `${nodeName(node)} voted twice in term ${next.term}: for ${nodeName(previous.vote)}, then for ${nodeName(next.vote)}`);
    }
  }
}
