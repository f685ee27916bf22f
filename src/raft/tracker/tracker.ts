import { assert } from '../assert.ts';
import { type JointVoters, type VoteResult, allVoters, jointCommitted, jointVoteResult } from '../quorum.ts';
import type { ConfState, NodeId } from '../types.ts';
import { Progress } from './progress.ts';

/** The membership as the leader tracks it. */
export interface TrackerConfig {
  readonly voters: JointVoters;
  readonly learners: ReadonlySet<NodeId>;
  /** Voters in the outgoing half that become learners when the joint configuration is left. */
  readonly learnersNext: ReadonlySet<NodeId>;
  readonly autoLeave: boolean;
}

export function emptyTrackerConfig(): TrackerConfig {
  return { voters: { incoming: new Set(), outgoing: new Set() }, learners: new Set(), learnersNext: new Set(), autoLeave: false };
}

export function isJoint(config: TrackerConfig): boolean {
  return config.voters.outgoing.size > 0;
}

export function confStateOf(config: TrackerConfig): ConfState {
  const sorted = (ids: ReadonlySet<NodeId>) => [...ids].sort((a, b) => a - b);
  return {
    voters: sorted(config.voters.incoming),
    votersOutgoing: sorted(config.voters.outgoing),
    learners: sorted(config.learners),
    learnersNext: sorted(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

/** Follower progress, votes and the current configuration (etcd-io/raft's tracker.ProgressTracker). */
export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  readonly inflightCountMax: number;
  readonly inflightBytesMax: number;

  constructor(inflightCountMax: number, inflightBytesMax: number) {
    this.inflightCountMax = inflightCountMax;
    this.inflightBytesMax = inflightBytesMax;
  }

  newProgress(next: number, isLearner: boolean): Progress {
    return new Progress(next, isLearner, this.inflightCountMax, this.inflightBytesMax);
  }

  /** The highest index replicated on a quorum (of both halves, when joint). */
  committed(): number {
    return jointCommitted(this.config.voters, (id) => this.progress.get(id)?.match ?? 0);
  }

  /** The highest value of `value` held by a quorum, for any per-progress quantity. */
  quorumValue(value: (id: NodeId, progress: Progress) => number): number {
    return jointCommitted(this.config.voters, (id) => {
      const progress = this.progress.get(id);
      return progress === undefined ? -Infinity : value(id, progress);
    });
  }

  /** Whether a quorum was heard from since the last check (the leader counts itself). */
  quorumActive(self: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, progress] of this.progress) {
      if (!progress.isLearner) votes.set(id, id === self || progress.recentActive);
    }
    return jointVoteResult(this.config.voters, votes) === 'won';
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  voterIds(): NodeId[] {
    return allVoters(this.config.voters);
  }

  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voterIds()) {
      const vote = this.votes.get(id);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }

  /** Checks the configuration's invariants against the progress map. */
  checkInvariants(): void {
    const { voters, learners, learnersNext } = this.config;
    for (const id of [...voters.incoming, ...voters.outgoing, ...learners, ...learnersNext]) {
      assert(this.progress.has(id), () => `member ${id} has no progress`);
    }
    for (const id of learners) {
      assert(!voters.incoming.has(id) && !voters.outgoing.has(id), () => `${id} is both learner and voter`);
      assert(this.progress.get(id)!.isLearner, () => `learner ${id} progress is not marked learner`);
    }
    for (const id of learnersNext) {
      assert(voters.outgoing.has(id) && !voters.incoming.has(id), () => `next learner ${id} must be an outgoing voter only`);
    }
    if (!isJoint(this.config)) {
      assert(learnersNext.size === 0 && !this.config.autoLeave, 'learnersNext and autoLeave need a joint configuration');
    }
    for (const [id, progress] of this.progress) {
      const member = this.isVoter(id) || learners.has(id);
      assert(member, () => `progress for non-member ${id}`);
      assert(progress.isLearner === learners.has(id), () => `progress learner flag of ${id} disagrees with the configuration`);
    }
  }
}
