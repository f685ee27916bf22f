import { type NodeId, None, ReadOnlyOption, type Random, type Storage } from './types.ts';

/**
 * Deliberate bugs the simulator can switch on to show that its checkers catch them. Each one breaks a
 * rule of the Raft paper's Figure 2 (or of a safe read protocol). Never set outside tests and `keel sim`.
 */
export const bugNames = [
  /** Grant a vote to a second candidate in a term already voted in (breaks election safety). */
  'vote-twice',
  /** Grant votes without the "candidate's log is at least as up to date" check (§5.4.1). */
  'vote-ignores-log',
  /** Commit an entry of an earlier term by counting replicas (the Figure 8 bug, §5.4.2). */
  'commit-old-term',
  /** Append acknowledgements and votes leave before the fsync that makes them true (the leader counts its own unsynced entries too). */
  'ack-before-fsync',
  /** A follower accepts appends without checking the previous entry's term (log matching, §5.3). */
  'append-ignores-prev-term',
  /** The leader answers ReadIndex with its commit index without confirming leadership (§6.4). */
  'read-without-quorum',
] as const;
export type BugName = (typeof bugNames)[number];

export function isBugName(name: string): name is BugName {
  return (bugNames as readonly string[]).includes(name);
}

export interface Config {
  /** This node's ID; never 0. */
  readonly id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns; randomized in [e, 2e). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats. Invariant: heartbeatTicks < electionTicks. */
  readonly heartbeatTicks: number;
  readonly storage: Storage;
  /** The last index the application has applied (on restart). */
  readonly applied: number;
  readonly random: Random;
  /** Upper bound on the entry bytes in one append message (at least one entry is always sent). */
  readonly maxSizePerMsgBytes: number;
  /** Upper bound on append messages in flight to one follower in the replicate state. */
  readonly maxInflightMsgs: number;
  /** Upper bound on entry bytes in flight to one follower; 0 means only maxInflightMsgs applies. */
  readonly maxInflightBytes: number;
  /** Upper bound on the bytes of proposed but not yet committed entries on the leader. */
  readonly maxUncommittedEntriesBytes: number;
  /** Upper bound on the bytes of committed entries handed out in one Ready. */
  readonly maxCommittedSizePerReadyBytes: number;
  /** Upper bound on ReadIndex requests waiting on one node. */
  readonly maxPendingReadIndexRequests: number;
  /** Upper bound on proposals a follower holds in one forwarded message. */
  readonly maxForwardedProposalEntries: number;
  /** The leader steps down when it has not heard from a quorum for an election timeout. */
  readonly checkQuorum: boolean;
  /** Campaign in a pre-vote round first, so a partitioned node does not disrupt the cluster (§9.6). */
  readonly preVote: boolean;
  readonly readOnlyOption: ReadOnlyOption;
  /**
   * Ticks shaved off the leader's lease to cover clock drift and tick granularity. Must be at least 1.
   * With drift bound d (fraction) use 1 + ceil(electionTicks * 2d / (1 + d)).
   */
  readonly leaseMarginTicks: number;
  /** Followers drop proposals instead of forwarding them to the leader. */
  readonly disableProposalForwarding: boolean;
  /** Deliberate bugs for the simulator (see bugNames). Empty in production. */
  readonly bugs: readonly BugName[];
}

export const defaultConfig = {
  electionTicks: 10,
  heartbeatTicks: 1,
  applied: 0,
  maxSizePerMsgBytes: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 32 * 1024 * 1024,
  maxUncommittedEntriesBytes: 64 * 1024 * 1024,
  maxCommittedSizePerReadyBytes: 64 * 1024 * 1024,
  maxPendingReadIndexRequests: 10_000,
  maxForwardedProposalEntries: 4096,
  checkQuorum: true,
  preVote: true,
  readOnlyOption: ReadOnlyOption.Safe,
  leaseMarginTicks: 2,
  disableProposalForwarding: false,
  bugs: [] as readonly BugName[],
} satisfies Partial<Config>;

export type ConfigInput = Pick<Config, 'id' | 'storage' | 'random'> & Partial<Omit<Config, 'id' | 'storage' | 'random'>>;

export class ConfigError extends Error {
  readonly code = 'RAFT_INVALID_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Fills defaults and checks every bound; throws ConfigError naming the field. */
export function validateConfig(input: ConfigInput): Config {
  const config: Config = { ...defaultConfig, ...input };
  const fail = (message: string): never => {
    throw new ConfigError(message);
  };
  if (config.id === None || !Number.isSafeInteger(config.id) || config.id < 0) fail('id must be a positive integer');
  const wholeNumberFields = [
    'electionTicks', 'heartbeatTicks', 'applied', 'maxSizePerMsgBytes', 'maxInflightMsgs', 'maxInflightBytes',
    'maxUncommittedEntriesBytes', 'maxCommittedSizePerReadyBytes', 'maxPendingReadIndexRequests',
    'maxForwardedProposalEntries', 'leaseMarginTicks',
  ] as const;
  for (const field of wholeNumberFields) {
    if (!Number.isSafeInteger(config[field]) || config[field] < 0) fail(`${field} must be a whole number`);
  }
  if (!(config.heartbeatTicks >= 1)) fail('heartbeatTicks must be at least 1');
  if (!(config.electionTicks > config.heartbeatTicks)) fail('electionTicks must be greater than heartbeatTicks');
  if (!(config.maxSizePerMsgBytes >= 1)) fail('maxSizePerMsgBytes must be positive');
  if (!(config.maxInflightMsgs >= 1)) fail('maxInflightMsgs must be at least 1');
  if (config.maxInflightBytes !== 0 && config.maxInflightBytes < config.maxSizePerMsgBytes) {
    fail('maxInflightBytes must be 0 or at least maxSizePerMsgBytes');
  }
  if (!(config.maxUncommittedEntriesBytes >= 1)) fail('maxUncommittedEntriesBytes must be positive');
  if (!(config.maxCommittedSizePerReadyBytes >= 1)) fail('maxCommittedSizePerReadyBytes must be positive');
  if (!(config.maxPendingReadIndexRequests >= 1)) fail('maxPendingReadIndexRequests must be at least 1');
  if (!(config.maxForwardedProposalEntries >= 1)) fail('maxForwardedProposalEntries must be at least 1');
  if (config.readOnlyOption === ReadOnlyOption.LeaseBased && !config.checkQuorum) {
    fail('readOnlyOption lease-based requires checkQuorum');
  }
  if (!(config.leaseMarginTicks >= 1 && config.leaseMarginTicks < config.electionTicks)) {
    fail('leaseMarginTicks must be in [1, electionTicks)');
  }
  return config;
}
