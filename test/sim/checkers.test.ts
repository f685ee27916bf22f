import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Entry, EntryType, type Message, MessageType, type Ready, Role, None } from '../../src/raft/index.ts';
import { CommitMonotonicChecker } from '../../src/sim/checkers/commit-monotonic.ts';
import { CommitRuleChecker } from '../../src/sim/checkers/commit-rule.ts';
import { CommittedEntryChecker } from '../../src/sim/checkers/committed-entry.ts';
import { CommittedLog } from '../../src/sim/checkers/committed-log.ts';
import { ElectionSafetyChecker } from '../../src/sim/checkers/election-safety.ts';
import { LeaderCompletenessChecker } from '../../src/sim/checkers/leader-completeness.ts';
import { LogMatchingChecker } from '../../src/sim/checkers/log-matching.ts';
import type { LogView } from '../../src/sim/checkers/log-view.ts';
import { PersistBeforeReplyChecker } from '../../src/sim/checkers/persist-before-reply.ts';
import { ReadIndexChecker } from '../../src/sim/checkers/read-index.ts';
import { StateMachineSafetyChecker } from '../../src/sim/checkers/state-machine-safety.ts';
import { type CheckerName, ViolationError } from '../../src/sim/checkers/violation.ts';

/** Asserts that `body` reports a violation of `checker`. */
function violates(checker: CheckerName, body: () => void): void {
  assert.throws(body, (error: unknown) => error instanceof ViolationError && error.checker === checker);
}

function entry(index: number, term: number, data = `e${index}.${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) };
}

/** A log holding entries 1..terms.length with the given terms. */
function logOf(terms: readonly number[], snapshotIndex = 0): LogView {
  return {
    termAt: (index) => (index >= Math.max(1, snapshotIndex) && index <= terms.length ? terms[index - 1] : undefined),
    lastIndex: () => terms.length,
    snapshotIndex: () => snapshotIndex,
  };
}

function message(fields: Partial<Message> & { type: MessageType }): Message {
  return {
    from: 1, to: 2, term: 2, logTerm: 0, index: 0, entries: [], commit: 0, snapshot: null, reject: false, rejectHint: 0,
    context: null, leaseTick: 0, ...fields,
  };
}

function ready(fields: Partial<Ready>): Ready {
  return {
    softState: null, hardState: null, entries: [], snapshot: null, committedEntries: [], messages: [], messagesAfterPersist: [],
    readStates: [], ...fields,
  };
}

test('election safety: a second leader in a term is a violation, the same one is not', () => {
  const checker = new ElectionSafetyChecker();
  checker.observeLeader(1, 5);
  checker.observeLeader(1, 5);
  checker.observeLeader(2, 6);
  violates('election-safety', () => checker.observeLeader(3, 5));
});

test('election safety: a durable vote changed within a term, or a term going back, is a violation', () => {
  const checker = new ElectionSafetyChecker();
  checker.observeDurableHardState(1, { term: 3, vote: None, commit: 0 }, { term: 3, vote: 2, commit: 0 });
  checker.observeDurableHardState(1, { term: 3, vote: 2, commit: 0 }, { term: 4, vote: 3, commit: 0 });
  violates('election-safety', () => checker.observeDurableHardState(1, { term: 3, vote: 2, commit: 0 }, { term: 3, vote: 3, commit: 0 }));
  violates('election-safety', () => checker.observeDurableHardState(1, { term: 4, vote: 2, commit: 0 }, { term: 3, vote: 2, commit: 0 }));
});

test('log matching: a different entry, or a different predecessor, at the same index and term is a violation', () => {
  const checker = new LogMatchingChecker();
  checker.observeEntries(1, [entry(5, 2, 'x'), entry(6, 2, 'y')], 1);
  checker.observeEntries(2, [entry(5, 2, 'x'), entry(6, 2, 'y')], 1);
  violates('log-matching', () => checker.observeEntries(3, [entry(6, 2, 'other')], 2));
  violates('log-matching', () => checker.observeEntries(3, [entry(5, 2, 'x')], 3));
});

test('leader completeness: a leader lacking an entry committed in an earlier term is a violation', () => {
  const committed = new CommittedLog();
  committed.record(1, 1, 1);
  committed.record(2, 2, 2);
  committed.raiseCommitIndex(2);
  const checker = new LeaderCompletenessChecker(committed);
  checker.observeNewLeader(1, 3, logOf([1, 2, 3]));
  // An entry committed in term 3 need not be in the log of term 3's own (or an earlier) leader.
  committed.record(3, 3, 3);
  committed.raiseCommitIndex(3);
  checker.observeNewLeader(2, 3, logOf([1, 2]));
  violates('leader-completeness', () => checker.observeNewLeader(2, 4, logOf([1, 2])));
  violates('leader-completeness', () => checker.observeNewLeader(2, 4, logOf([1, 4, 4])));
});

test('state-machine safety: two different entries applied at one index is a violation', () => {
  const checker = new StateMachineSafetyChecker();
  checker.observeApply(1, entry(7, 2, 'a'));
  checker.observeApply(2, entry(7, 2, 'a'));
  violates('state-machine-safety', () => checker.observeApply(3, entry(7, 2, 'b')));
  violates('state-machine-safety', () => checker.observeSnapshotInstalled(3, 7, 3));
});

test('commit monotonic: within an incarnation and on disk, the commit index never goes back', () => {
  const checker = new CommitMonotonicChecker();
  checker.observeCommit(1, 1, 10);
  checker.observeCommit(1, 2, 5); // a restart may know less
  violates('commit-monotonic', () => checker.observeCommit(1, 2, 4));
  violates('commit-monotonic', () => checker.observeDurableHardState(1, { term: 2, vote: 1, commit: 9 }, { term: 2, vote: 1, commit: 8 }));
});

test('committed entries: commits must agree, and a committed entry may not be replaced', () => {
  const committed = new CommittedLog();
  const checker = new CommittedEntryChecker(committed);
  checker.observeCommit(1, 1, { term: 3, vote: 1, commit: 3 }, logOf([1, 2, 3]));
  assert.equal(committed.commitIndex, 3);
  violates('committed-entry-lost', () => checker.observeCommit(2, 1, { term: 3, vote: 1, commit: 3 }, logOf([1, 2, 2])));
  // A stale leader's older entry reaching a lagging follower is allowed...
  checker.observeWrite(2, 1, null, [entry(3, 2)]);
  // ...but not over the follower's own committed prefix, nor from a leader of a later term.
  violates('committed-entry-lost', () => checker.observeWrite(2, 3, null, [entry(3, 2)]));
  violates('committed-entry-lost', () => checker.observeWrite(2, 1, null, [entry(3, 4)]));
  violates('committed-entry-lost', () => checker.observeRestart(3, 3, logOf([1, 2, 2])));
});

test('the leader commit rule: a leader committing an entry of an earlier term is a violation', () => {
  const checker = new CommitRuleChecker();
  checker.observeStart(1, 1, 3, 2);
  checker.observeReady(1, 1, { role: Role.Leader, term: 4, commit: 3 }, logOf([1, 2, 3])); // learned before leading
  checker.observeReady(1, 1, { role: null, term: null, commit: 5 }, logOf([1, 2, 3, 4, 4]));
  violates('leader-commit-rule', () => checker.observeReady(1, 1, { role: null, term: null, commit: 6 }, logOf([1, 2, 3, 4, 4, 3])));
});

test('persist before reply: an acknowledgement or a vote sent before its write is a violation', () => {
  const checker = new PersistBeforeReplyChecker();
  const durable = { term: 2, vote: 3, commit: 0 };
  checker.observeReady(2, ready({ entries: [entry(5, 2)], messagesAfterPersist: [message({ type: MessageType.AppResp, index: 5 })] }), durable);
  checker.observeReady(2, ready({ entries: [entry(5, 2)], messages: [message({ type: MessageType.AppResp, index: 4 })] }), durable);
  violates('persist-before-reply', () =>
    checker.observeReady(2, ready({ entries: [entry(5, 2)], messages: [message({ type: MessageType.AppResp, index: 5 })] }), durable));
  checker.observeReady(2, ready({ messages: [message({ type: MessageType.VoteResp, to: 3, term: 2 })] }), durable);
  violates('persist-before-reply', () => checker.observeReady(2, ready({ messages: [message({ type: MessageType.VoteResp, to: 4, term: 3 })] }), durable));
});

test('read index: a read index below what was committed when the read began is a violation', () => {
  const checker = new ReadIndexChecker();
  checker.observeReadState(1, 10, 10);
  violates('read-index', () => checker.observeReadState(1, 9, 10));
});
