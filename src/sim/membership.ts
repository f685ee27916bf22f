import {
  type ConfChange, ConfChangeTransition, ConfChangeType, type ConfChangeSingle, type NodeId, Role,
} from '../raft/index.ts';
import { assert } from './assert.ts';
import { type Cluster, describeConfChange, membersCreatedMax } from './cluster.ts';
import type { Member } from './member.ts';
import type { SimEvent } from './events.ts';
import type { PseudoRandom } from './random.ts';
import type { SimulationOptions } from './swarm.ts';
import type { Trace } from './trace.ts';

export interface MembershipEnvironment {
  readonly trace: Trace;
  nowMs(): number;
  schedule(atMs: number, event: SimEvent): void;
}

/** Bound on members added by membership changes in one run. */
export const membersAddedMax = 4;
const emptyContext = new Uint8Array(0);

/**
 * The operator of the simulated cluster: during the safety phase it changes the membership through the
 * current leader (add a learner, promote it, remove a voter; sometimes promote and remove in one joint
 * change) and transfers leadership. Each step looks at the leader's applied configuration and proposes
 * the next change; a change that is refused or lost is simply proposed again at a later step.
 */
export class MembershipDriver {
  readonly #options: SimulationOptions;
  readonly #random: PseudoRandom;
  readonly #cluster: Cluster;
  readonly #environment: MembershipEnvironment;
  #active = true;
  /** A member created to join, not yet seen as a learner. */
  #joining: NodeId | null = null;
  #addedCount = 0;

  constructor(options: SimulationOptions, random: PseudoRandom, cluster: Cluster, environment: MembershipEnvironment) {
    this.#options = options;
    this.#random = random;
    this.#cluster = cluster;
    this.#environment = environment;
  }

  start(): void {
    this.#scheduleNext('membership-step', this.#options.membershipIntervalMeanMs);
    this.#scheduleNext('transfer-leader', this.#options.transferIntervalMeanMs);
  }

  stop(): void {
    this.#active = false;
  }

  #scheduleNext(kind: 'membership-step' | 'transfer-leader', intervalMeanMs: number | null): void {
    if (intervalMeanMs === null || !this.#active) return;
    this.#environment.schedule(this.#environment.nowMs() + this.#random.exponential(intervalMeanMs), { kind });
  }

  onMembershipStep(): void {
    if (!this.#active) return;
    const leader = this.#cluster.leader();
    if (leader !== null) this.#proposeNextChange(leader);
    this.#scheduleNext('membership-step', this.#options.membershipIntervalMeanMs);
  }

  onTransferLeader(): void {
    if (!this.#active) return;
    const leader = this.#cluster.leader();
    if (leader !== null) {
      const voters = leader.raft!.status().confState.voters.filter((id) => id !== leader.id);
      if (voters.length > 0) {
        const target = this.#random.pick(voters);
        this.#environment.trace.record(this.#environment.nowMs(), () => `leadership transfer n${leader.id} -> n${target} requested`);
        leader.raft!.transferLeader(target);
        leader.drain();
      }
    }
    this.#scheduleNext('transfer-leader', this.#options.transferIntervalMeanMs);
  }

  #proposeNextChange(leader: Member): void {
    const raft = leader.raft;
    assert(raft !== null && raft.status().role === Role.Leader, 'changes are proposed through the leader');
    const confState = raft.status().confState;
    if (confState.votersOutgoing.length > 0) return;
    if (this.#joining !== null && confState.learners.includes(this.#joining)) this.#joining = null;
    const learner = confState.learners[0];
    let changes: ConfChangeSingle[];
    let transition = ConfChangeTransition.Auto;
    if (learner !== undefined) {
      changes = [{ type: ConfChangeType.AddNode, nodeId: learner }];
      if (confState.voters.length >= this.#options.nodesCount && this.#random.chance(0.5)) {
        changes.push({ type: ConfChangeType.RemoveNode, nodeId: this.#random.pick(confState.voters) });
        transition = ConfChangeTransition.JointImplicit;
      }
    } else if (confState.voters.length > this.#options.nodesCount) {
      changes = [{ type: ConfChangeType.RemoveNode, nodeId: this.#random.pick(confState.voters) }];
    } else {
      const joining = this.#joiningMember();
      if (joining === null) return;
      changes = [{ type: ConfChangeType.AddLearner, nodeId: joining }];
    }
    const change: ConfChange = { transition, changes, context: emptyContext };
    const accepted = raft.proposeConfChange(change);
    this.#environment.trace.record(this.#environment.nowMs(), () =>
      `n${leader.id} proposes conf change: ${describeConfChange(change)}${accepted ? '' : ' (refused)'}`);
    leader.drain();
  }

  #joiningMember(): NodeId | null {
    if (this.#joining !== null) return this.#joining;
    if (this.#addedCount >= membersAddedMax || this.#cluster.members.size >= membersCreatedMax) return null;
    this.#addedCount++;
    this.#joining = this.#cluster.createJoiningMember();
    return this.#joining;
  }
}
