import {
  type Entry, type HardState, type MemoryStorage, MessageType, type NodeId, type Ready, Role, type Snapshot,
} from '../../raft/index.ts';
import { CommitMonotonicChecker } from './commit-monotonic.ts';
import { CommitRuleChecker } from './commit-rule.ts';
import { PersistBeforeReplyChecker } from './persist-before-reply.ts';
import { ReadIndexChecker } from './read-index.ts';
import { CommittedEntryChecker } from './committed-entry.ts';
import { CommittedLog } from './committed-log.ts';
import { ElectionSafetyChecker } from './election-safety.ts';
import { LeaderCompletenessChecker } from './leader-completeness.ts';
import { LogMatchingChecker } from './log-matching.ts';
import { pendingWriteView, storageView } from './log-view.ts';
import { StateMachineSafetyChecker } from './state-machine-safety.ts';

export { type CheckerName, type Violation, ViolationError, violated, nodeName } from './violation.ts';
export { type LogView, storageView, pendingWriteView } from './log-view.ts';
export { entryIdentity } from './entry-identity.ts';

/** Messages only a leader sends: seeing one from a node proves it led the message's term. */
const leaderOnlyMessageTypes: ReadonlySet<MessageType> = new Set([
  MessageType.App, MessageType.Heartbeat, MessageType.Snap, MessageType.TimeoutNow,
]);

/**
 * The per-event invariant checkers, one module each, fed by the simulator's driver at the points where
 * the invariants can change: a Ready handed out, a write made durable, an entry applied, a restart.
 * Every Ready is taken right after the event that caused it, so together these run after every event.
 * A broken invariant throws ViolationError.
 */
export class Checkers {
  readonly committed = new CommittedLog();
  readonly electionSafety = new ElectionSafetyChecker();
  readonly logMatching = new LogMatchingChecker();
  readonly leaderCompleteness = new LeaderCompletenessChecker(this.committed);
  readonly committedEntry = new CommittedEntryChecker(this.committed);
  readonly stateMachineSafety = new StateMachineSafetyChecker();
  readonly commitMonotonic = new CommitMonotonicChecker();
  readonly commitRule = new CommitRuleChecker();
  readonly persistBeforeReply = new PersistBeforeReplyChecker();
  readonly readIndex = new ReadIndexChecker();
  /** Per node, the last term in which its leader completeness was checked. */
  readonly #completenessCheckedTerm = new Map<NodeId, number>();

  /**
   * `node` handed out `ready`; `storage` is its disk before the Ready is written. `leaderTerm` is the
   * node's term when the Ready says it is leader (the caller reads it from the core's status).
   */
  observeReady(node: NodeId, incarnation: number, ready: Ready, storage: MemoryStorage, leaderTerm: number | null): void {
    for (const m of ready.messages) {
      if (leaderOnlyMessageTypes.has(m.type) && m.from === node) this.electionSafety.observeLeader(node, m.term);
    }
    this.persistBeforeReply.observeReady(node, ready, storage.hardState());
    if (ready.softState?.role === Role.Leader && leaderTerm !== null) this.#observeLeader(node, leaderTerm, storage, ready);
    const first = ready.entries[0];
    if (first !== undefined) {
      const previousTerm = pendingWriteView(storage, ready.snapshot, []).termAt(first.index - 1);
      this.logMatching.observeEntries(node, ready.entries, previousTerm);
    }
    const previousCommit = this.commitMonotonic.latestCommit(node, incarnation);
    this.committedEntry.observeWrite(node, previousCommit, ready.snapshot, ready.entries);
    if (ready.hardState === null && ready.softState === null) return;
    const view = pendingWriteView(storage, ready.snapshot, ready.entries);
    const hardState = ready.hardState;
    if (hardState !== null) {
      this.commitMonotonic.observeCommit(node, incarnation, hardState.commit);
      this.committedEntry.observeCommit(node, incarnation, hardState, view);
    }
    const change = { role: ready.softState?.role ?? null, term: hardState?.term ?? null, commit: hardState?.commit ?? null };
    this.commitRule.observeReady(node, incarnation, change, view);
  }

  #observeLeader(node: NodeId, term: number, storage: MemoryStorage, ready: Ready): void {
    this.electionSafety.observeLeader(node, term);
    if (this.#completenessCheckedTerm.get(node) === term) return;
    this.#completenessCheckedTerm.set(node, term);
    this.leaderCompleteness.observeNewLeader(node, term, pendingWriteView(storage, ready.snapshot, ready.entries));
  }

  /** A write of `node` became durable: its hard state went from `previous` to `next`. */
  observeDurableHardState(node: NodeId, previous: HardState, next: HardState): void {
    this.electionSafety.observeDurableHardState(node, previous, next);
    this.commitMonotonic.observeDurableHardState(node, previous, next);
  }

  /** The highest commit index any node has known: what a read beginning now must cover. */
  committedIndexNow(): number {
    return this.committed.commitIndex;
  }

  observeReadState(node: NodeId, readIndex: number, committedAtArrival: number): void {
    this.readIndex.observeReadState(node, readIndex, committedAtArrival);
  }

  observeApply(node: NodeId, entry: Entry): void {
    this.stateMachineSafety.observeApply(node, entry);
  }

  observeSnapshotInstalled(node: NodeId, snapshot: Snapshot): void {
    this.stateMachineSafety.observeSnapshotInstalled(node, snapshot.metadata.index, snapshot.metadata.term);
  }

  /** `node` started its `incarnation` over `storage`. */
  observeRestart(node: NodeId, incarnation: number, storage: MemoryStorage): void {
    const durableCommit = storage.hardState().commit;
    this.committedEntry.observeRestart(node, durableCommit, storageView(storage));
    this.commitMonotonic.observeCommit(node, incarnation, durableCommit);
    this.commitRule.observeStart(node, incarnation, storage.hardState().term, durableCommit);
  }
}
