import { type ConfChange, ConfChangeTransition, ConfChangeType, type ConfChangeSingle, type ConfState, type NodeId } from './types.ts';
import type { Progress } from './tracker/progress.ts';
import { type TrackerConfig, isJoint } from './tracker/tracker.ts';

/**
 * Membership changes (Raft thesis §4.3, as etcd-io/raft's confchange package): a pure function from the
 * current configuration and a change to the next configuration, or an error naming what is wrong.
 */
export class ConfChangeError extends Error {
  readonly code = 'RAFT_INVALID_CONF_CHANGE';
  constructor(message: string) {
    super(message);
    this.name = 'ConfChangeError';
  }
}

export interface ChangeResult {
  readonly config: TrackerConfig;
  readonly progress: Map<NodeId, Progress>;
}

interface MutableConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

export interface ChangeContext {
  readonly config: TrackerConfig;
  readonly progress: ReadonlyMap<NodeId, Progress>;
  readonly lastIndex: number;
  readonly newProgress: (next: number, isLearner: boolean) => Progress;
}

/** Whether the change leaves a joint configuration (an empty change list). */
export function isLeaveJoint(change: ConfChange): boolean {
  return change.changes.length === 0;
}

/** Whether the change must go through a joint configuration. */
export function usesJoint(change: ConfChange): boolean {
  return change.transition !== ConfChangeTransition.Auto || change.changes.length > 1;
}

/** Computes the configuration after `change`; throws ConfChangeError if it is not allowed. */
export function applyChange(context: ChangeContext, change: ConfChange): ChangeResult {
  if (isLeaveJoint(change)) return leaveJoint(context);
  if (usesJoint(change)) return enterJoint(context, change.transition !== ConfChangeTransition.JointExplicit, change.changes);
  return simple(context, change.changes);
}

function copy(context: ChangeContext): { config: MutableConfig; progress: Map<NodeId, Progress> } {
  const c = context.config;
  return {
    config: {
      incoming: new Set(c.voters.incoming),
      outgoing: new Set(c.voters.outgoing),
      learners: new Set(c.learners),
      learnersNext: new Set(c.learnersNext),
      autoLeave: c.autoLeave,
    },
    progress: new Map(context.progress),
  };
}

function freeze(config: MutableConfig, progress: Map<NodeId, Progress>): ChangeResult {
  return {
    config: {
      voters: { incoming: config.incoming, outgoing: config.outgoing },
      learners: config.learners,
      learnersNext: config.learnersNext,
      autoLeave: config.autoLeave,
    },
    progress,
  };
}

function enterJoint(context: ChangeContext, autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
  if (isJoint(context.config)) throw new ConfChangeError('the configuration is already joint');
  if (context.config.voters.incoming.size === 0) throw new ConfChangeError('cannot make a zero-voter configuration joint');
  const { config, progress } = copy(context);
  config.outgoing = new Set(config.incoming);
  applyAll(context, config, progress, changes);
  config.autoLeave = autoLeave;
  return check(config, progress);
}

function leaveJoint(context: ChangeContext): ChangeResult {
  if (!isJoint(context.config)) throw new ConfChangeError('cannot leave a configuration that is not joint');
  const { config, progress } = copy(context);
  for (const id of config.learnersNext) {
    config.learners.add(id);
    progress.set(id, withLearner(progress.get(id)!, true, context));
  }
  config.learnersNext.clear();
  for (const id of config.outgoing) {
    if (!config.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
  }
  config.outgoing.clear();
  config.autoLeave = false;
  return check(config, progress);
}

function simple(context: ChangeContext, changes: readonly ConfChangeSingle[]): ChangeResult {
  if (isJoint(context.config)) throw new ConfChangeError('cannot apply a simple change to a joint configuration');
  const { config, progress } = copy(context);
  applyAll(context, config, progress, changes);
  let difference = 0;
  for (const id of config.incoming) if (!context.config.voters.incoming.has(id)) difference++;
  for (const id of context.config.voters.incoming) if (!config.incoming.has(id)) difference++;
  if (difference > 1) throw new ConfChangeError('more than one voter changed without joint consensus');
  return check(config, progress);
}

function applyAll(context: ChangeContext, config: MutableConfig, progress: Map<NodeId, Progress>, changes: readonly ConfChangeSingle[]): void {
  for (const change of changes) {
    if (change.nodeId === 0) continue; // etcd ignores changes naming node 0
    if (change.type === ConfChangeType.AddNode) makeVoter(context, config, progress, change.nodeId);
    else if (change.type === ConfChangeType.AddLearner) makeLearner(context, config, progress, change.nodeId);
    else remove(config, progress, change.nodeId);
  }
  if (config.incoming.size === 0) throw new ConfChangeError('removed all voters');
}

function makeVoter(context: ChangeContext, config: MutableConfig, progress: Map<NodeId, Progress>, id: NodeId): void {
  const existing = progress.get(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
  config.incoming.add(id);
  progress.set(id, existing === undefined ? fresh(context, false) : withLearner(existing, false, context));
}

function makeLearner(context: ChangeContext, config: MutableConfig, progress: Map<NodeId, Progress>, id: NodeId): void {
  const existing = progress.get(id);
  if (existing !== undefined && existing.isLearner) return;
  config.incoming.delete(id);
  // A voter of the outgoing half stays a voter until the joint configuration is left.
  if (config.outgoing.has(id)) {
    config.learnersNext.add(id);
    if (existing === undefined) progress.set(id, fresh(context, false));
  } else {
    config.learners.add(id);
    progress.set(id, existing === undefined ? fresh(context, true) : withLearner(existing, true, context));
  }
}

function remove(config: MutableConfig, progress: Map<NodeId, Progress>, id: NodeId): void {
  config.incoming.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
  if (!config.outgoing.has(id)) progress.delete(id);
}

function fresh(context: ChangeContext, isLearner: boolean): Progress {
  const progress = context.newProgress(Math.max(context.lastIndex, 1), isLearner);
  // A new member counts as active so that check-quorum does not depose the leader right away.
  progress.recentActive = true;
  return progress;
}

/** Progress objects are shared with the previous configuration: copy before changing the learner flag. */
function withLearner(progress: Progress, isLearner: boolean, context: ChangeContext): Progress {
  if (progress.isLearner === isLearner) return progress;
  const copy = context.newProgress(progress.next, isLearner);
  copy.match = progress.match;
  copy.recentActive = progress.recentActive;
  copy.leaseAckTick = progress.leaseAckTick;
  return copy;
}

function check(config: MutableConfig, progress: Map<NodeId, Progress>): ChangeResult {
  for (const id of config.learners) {
    if (config.incoming.has(id) || config.outgoing.has(id)) throw new ConfChangeError(`${id} is in voters and learners`);
  }
  for (const id of config.learnersNext) {
    if (!config.outgoing.has(id)) throw new ConfChangeError(`${id} is in learnersNext but not an outgoing voter`);
  }
  return freeze(config, progress);
}

/** Builds the configuration recorded in a snapshot. */
export function restoreConfig(confState: ConfState, lastIndex: number, newProgress: (next: number, isLearner: boolean) => Progress): ChangeResult {
  const config: MutableConfig = {
    incoming: new Set(confState.voters),
    outgoing: new Set(confState.votersOutgoing),
    learners: new Set(confState.learners),
    learnersNext: new Set(confState.learnersNext),
    autoLeave: confState.autoLeave,
  };
  const progress = new Map<NodeId, Progress>();
  for (const id of [...config.incoming, ...config.outgoing, ...config.learners, ...config.learnersNext]) {
    if (!progress.has(id)) {
      const created = newProgress(Math.max(lastIndex, 1), config.learners.has(id));
      created.recentActive = true;
      progress.set(id, created);
    }
  }
  return check(config, progress);
}
