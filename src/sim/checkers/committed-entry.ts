import type { Entry, HardState, NodeId, Snapshot } from '../../raft/index.ts';
import { assert } from '../assert.ts';
import type { CommittedLog } from './committed-log.ts';
import type { LogView } from './log-view.ts';
import { nodeName, violated } from './violation.ts';

/**
 * No committed entry is ever lost or replaced, across crashes included (Raft §5.4). Maintains the
 * committed prefix: when a node learns a commit index, the terms in its log up to it become committed
 * (and must agree with what other nodes committed). Then:
 * - a node never writes, at an index it knows committed, an entry or snapshot of another term;
 * - no leader of a term after an entry's commit term creates a different entry at its index (a stale
 *   leader's older entries may still reach a lagging follower: that is allowed);
 * - after a restart, the durable log agrees with the committed prefix up to the durable commit index.
 */
export class CommittedEntryChecker {
  readonly #committed: CommittedLog;
  /** Per node: the incarnation and the index up to which its log was compared with the committed prefix. */
  readonly #verified = new Map<NodeId, { incarnation: number; upTo: number }>();

  constructor(committed: CommittedLog) {
    this.#committed = committed;
  }

  /** `node` now knows `hardState.commit` is committed; `log` is its log at that moment. */
  observeCommit(node: NodeId, incarnation: number, hardState: HardState, log: LogView): void {
    const commit = hardState.commit;
    assert(commit <= log.lastIndex(), () => `${nodeName(node)} commits ${commit} past its last index ${log.lastIndex()}`);
    const verified = this.#verified.get(node);
    const from = verified !== undefined && verified.incarnation === incarnation ? verified.upTo + 1 : 1;
    for (let index = Math.max(from, log.snapshotIndex()); index <= commit; index++) {
      const term = log.termAt(index);
      if (term === undefined) continue;
      const committedTerm = this.#committed.termAt(index);
      if (committedTerm !== undefined && committedTerm !== term) {
        violated('committed-entry-lost', `${nodeName(node)} commits index ${index} with term ${term}, but term ${committedTerm} was committed there`);
      }
      this.#committed.record(index, term, Math.max(term, hardState.term));
    }
    this.#committed.raiseCommitIndex(commit);
    this.#verified.set(node, { incarnation, upTo: Math.max(commit, from - 1) });
  }

  /** `node`, whose commit index is `nodeCommit`, writes `snapshot` and `entries`. */
  observeWrite(node: NodeId, nodeCommit: number, snapshot: Snapshot | null, entries: readonly Entry[]): void {
    if (snapshot !== null) this.#checkWrite(node, nodeCommit, snapshot.metadata.index, snapshot.metadata.term, 'a snapshot');
    for (const entry of entries) {
      if (entry.index > this.#committed.commitIndex) break;
      this.#checkWrite(node, nodeCommit, entry.index, entry.term, 'an entry');
    }
  }

  #checkWrite(node: NodeId, nodeCommit: number, index: number, term: number, what: string): void {
    const committedTerm = this.#committed.termAt(index);
    if (committedTerm === undefined || committedTerm === term) return;
    const commitTerm = this.#committed.commitTermAt(index)!;
    if (index <= nodeCommit) {
      violated('committed-entry-lost', `${nodeName(node)} overwrites its committed index ${index} (term ${committedTerm}) with ${what} of term ${term}`);
    }
    if (term > commitTerm) {
      violated('committed-entry-lost', `${nodeName(node)} writes ${what} of term ${term} at index ${index}, where an entry of term ${committedTerm} was committed in term ${commitTerm}`);
    }
  }

  /** After a restart, the durable log must agree with the committed prefix up to its durable commit index. */
  observeRestart(node: NodeId, durableCommit: number, log: LogView): void {
    const last = Math.min(log.lastIndex(), durableCommit);
    for (let index = Math.max(1, log.snapshotIndex()); index <= last; index++) {
      const term = log.termAt(index);
      const committedTerm = this.#committed.termAt(index);
      if (term !== undefined && committedTerm !== undefined && term !== committedTerm) {
        violated('committed-entry-lost', `${nodeName(node)} restarted with term ${term} at its committed index ${index}, where term ${committedTerm} was committed`);
      }
    }
  }
}
