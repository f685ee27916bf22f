import type { NodeId } from './types.ts';

/**
 * Quorum arithmetic, kept pure so it can be property-tested against a naive version (etcd-io/raft's
 * quorum package does the same). A joint configuration (Raft thesis §4.3) needs both halves to agree.
 */
export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * The largest value v such that a majority of `voters` have acked(id) >= v. An empty configuration
 * returns +Infinity, so that min() over a joint configuration ignores an empty half.
 */
export function majorityCommitted(voters: ReadonlySet<NodeId>, acked: (id: NodeId) => number): number {
  const size = voters.size;
  if (size === 0) return Infinity;
  const values: number[] = [];
  for (const id of voters) values.push(acked(id));
  values.sort((a, b) => b - a);
  return values[Math.floor(size / 2)]!;
}

export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}

/** A configuration: incoming voters, and outgoing voters while a joint change is in progress. */
export interface JointVoters {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId>;
}

export function jointCommitted(config: JointVoters, acked: (id: NodeId) => number): number {
  return Math.min(majorityCommitted(config.incoming, acked), majorityCommitted(config.outgoing, acked));
}

export function jointVoteResult(config: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const incoming = majorityVoteResult(config.incoming, votes);
  const outgoing = majorityVoteResult(config.outgoing, votes);
  if (incoming === outgoing) return incoming;
  if (incoming === 'lost' || outgoing === 'lost') return 'lost';
  return 'pending';
}

export function isVoter(config: JointVoters, id: NodeId): boolean {
  return config.incoming.has(id) || config.outgoing.has(id);
}

export function allVoters(config: JointVoters): NodeId[] {
  const ids = new Set<NodeId>([...config.incoming, ...config.outgoing]);
  return [...ids].sort((a, b) => a - b);
}
