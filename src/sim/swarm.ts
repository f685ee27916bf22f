import { type BugName, ReadOnlyOption } from '../raft/index.ts';
import { assert } from './assert.ts';
import type { DiskOptions } from './disk.ts';
import { type NetworkOptions, validateNetworkOptions } from './network.ts';
import { PseudoRandom } from './random.ts';

/** Simulated length of one logical tick. */
export const tickMs = 100;
export const electionTicks = 10;
export const heartbeatTicks = 1;
/** Bound on a node's clock drift: its ticks are up to this fraction faster or slower than real time. */
export const clockDriftMax = 0.05;
/** The lease margin the core needs for `clockDriftMax` (see `leaseMarginTicks` in the core's config). */
export const leaseMarginTicks = 1 + Math.ceil((electionTicks * 2 * clockDriftMax) / (1 + clockDriftMax));
export const nodesCountChoices = [3, 5] as const;
/** After the faults heal: a leader must be elected within this, and every client answered within the next. */
export const livenessLeaderBoundMs = 10_000;
export const livenessBoundMs = 20_000;

/** A fault kind's rate: mean time between occurrences, and how long one lasts at most. */
export interface FaultRate {
  readonly intervalMeanMs: number;
  readonly durationMaxMs: number;
}

export interface FaultOptions {
  /** null disables the kind. */
  readonly partition: FaultRate | null;
  readonly asymmetricPartition: FaultRate | null;
  readonly clog: FaultRate | null;
  /** durationMaxMs is the longest a node stays down before it restarts. */
  readonly crash: FaultRate | null;
  /** Every running member crashes at once (a power loss): unsynced writes are lost everywhere together. */
  readonly powerLoss: FaultRate | null;
  readonly pause: FaultRate | null;
  /** Crashed plus paused nodes at any time. */
  readonly faultyNodesMax: number;
  /**
   * The probability that a fault picks the current leader (isolates, crashes or pauses it) rather than a
   * random member, as Jepsen's leader-targeting nemeses do: leader changes are where Raft is subtle.
   */
  readonly targetLeaderProbability: number;
  /**
   * Isolates a newly elected leader (alone on its side of a partition) shortly after its election: this
   * cuts replication at its most delicate point, leaving divergent log tails behind (Raft Figure 8).
   */
  readonly leaderIsolation: LeaderIsolationOptions | null;
}

export interface LeaderIsolationOptions {
  /** The probability that one election is followed by an isolation. */
  readonly probability: number;
  readonly delayMaxMs: number;
  readonly durationMaxMs: number;
}

/** The core's options the swarm varies (the rest stay at the core's defaults). */
export interface CoreOptions {
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly readOnlyOption: ReadOnlyOption;
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
}

export interface WorkloadOptions {
  readonly clientsCount: number;
  readonly keysCount: number;
  readonly thinkTimeMeanMs: number;
  readonly clientTimeoutMs: number;
  readonly getProbability: number;
  readonly casProbability: number;
  /** Gets through ReadIndex; the others go through the log. */
  readonly readIndexProbability: number;
}

export interface SimulationOptions {
  readonly seed: number;
  readonly swarm: boolean;
  readonly nodesCount: number;
  readonly bug: BugName | null;
  readonly safetyPhaseMs: number;
  readonly clockDrift: boolean;
  readonly network: NetworkOptions;
  /** The network once the faults heal (the liveness phase). */
  readonly networkHealed: NetworkOptions;
  /** Between clients and members: delays only (the faults under test are between members). */
  readonly clientNetwork: NetworkOptions;
  readonly disk: DiskOptions;
  readonly faults: FaultOptions;
  readonly core: CoreOptions;
  readonly workload: WorkloadOptions;
  /** null: never snapshot. Otherwise a snapshot every this many applied entries. */
  readonly snapshotIntervalEntries: number | null;
  /** Entries kept behind a snapshot for slow followers. */
  readonly snapshotKeepTailEntries: number;
  /** Membership changes (add a learner, promote it, remove a voter); null disables. */
  readonly membershipIntervalMeanMs: number | null;
  readonly transferIntervalMeanMs: number | null;
}

export interface DrawOptions {
  readonly seed: number;
  readonly swarm: boolean;
  /** null: 3 without --swarm; drawn per seed with it. */
  readonly nodesCount: number | null;
  readonly bug: BugName | null;
}

/** The options of one seed: drawn from the seed under --swarm, otherwise a moderate fixed mix. */
export function simulationOptions(draw: DrawOptions): SimulationOptions {
  assert(draw.nodesCount === null || (nodesCountChoices as readonly number[]).includes(draw.nodesCount), 'nodes must be 3 or 5');
  const options = draw.swarm ? drawSwarmOptions(draw) : fixedOptions(draw);
  validateSimulationOptions(options);
  return options;
}

const clientNetwork: NetworkOptions = {
  latencyTypicalMs: 2, latencyMaxMs: 20, lossProbability: 0, duplicationProbability: 0, reorderProbability: 0, reorderDelayMaxMs: 0,
};

function healedNetwork(network: NetworkOptions): NetworkOptions {
  return { ...network, lossProbability: 0, duplicationProbability: 0, reorderProbability: 0 };
}

function fixedOptions(draw: DrawOptions): SimulationOptions {
  const network: NetworkOptions = {
    latencyTypicalMs: 5, latencyMaxMs: 100, lossProbability: 0.02, duplicationProbability: 0.01, reorderProbability: 0.05, reorderDelayMaxMs: 50,
  };
  return {
    seed: draw.seed, swarm: false, nodesCount: draw.nodesCount ?? 3, bug: draw.bug, safetyPhaseMs: 30_000, clockDrift: true,
    network, networkHealed: healedNetwork(network), clientNetwork,
    disk: { fsyncLatencyTypicalMs: 2, fsyncLatencyMaxMs: 20, slowFsyncProbability: 0.01, slowFsyncLatencyMs: 200, tornWriteProbability: 0.3 },
    faults: {
      partition: { intervalMeanMs: 6_000, durationMaxMs: 3_000 },
      asymmetricPartition: { intervalMeanMs: 10_000, durationMaxMs: 3_000 },
      clog: { intervalMeanMs: 8_000, durationMaxMs: 2_000 },
      crash: { intervalMeanMs: 8_000, durationMaxMs: 3_000 },
      powerLoss: { intervalMeanMs: 20_000, durationMaxMs: 1_000 },
      pause: { intervalMeanMs: 10_000, durationMaxMs: 2_000 },
      faultyNodesMax: 1,
      targetLeaderProbability: 0.3,
      leaderIsolation: { probability: 0.2, delayMaxMs: 200, durationMaxMs: 2_000 },
    },
    core: { preVote: true, checkQuorum: true, readOnlyOption: ReadOnlyOption.Safe, maxSizePerMsgBytes: 1024 * 1024, maxInflightMsgs: 256 },
    workload: {
      clientsCount: 4, keysCount: 3, thinkTimeMeanMs: 100, clientTimeoutMs: 3_000, getProbability: 0.4, casProbability: 0.3,
      readIndexProbability: 0.8,
    },
    snapshotIntervalEntries: 50, snapshotKeepTailEntries: 10, membershipIntervalMeanMs: null, transferIntervalMeanMs: 15_000,
  };
}

function drawSwarmOptions(draw: DrawOptions): SimulationOptions {
  const random = PseudoRandom.fromSeed(draw.seed, 'swarm');
  // Drawn even when given, so that `--nodes N` replays a seed whose swarm picked N with identical options.
  const drawnNodesCount = random.pick(nodesCountChoices);
  const nodesCount = draw.nodesCount ?? drawnNodesCount;
  const network = drawNetwork(random);
  const checkQuorum = random.chance(0.7);
  const readOnlyOption = checkQuorum && random.chance(0.4) ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe;
  return {
    seed: draw.seed, swarm: true, nodesCount, bug: draw.bug, safetyPhaseMs: random.range(20, 40) * 1000,
    clockDrift: random.chance(0.7), network, networkHealed: healedNetwork(network), clientNetwork,
    disk: drawDisk(random), faults: drawFaults(random, nodesCount),
    core: {
      preVote: random.chance(0.7), checkQuorum, readOnlyOption,
      maxSizePerMsgBytes: random.chance(0.5) ? random.pick([64, 256, 1024]) : 1024 * 1024,
      maxInflightMsgs: random.chance(0.5) ? random.range(1, 4) : 256,
    },
    workload: {
      clientsCount: random.range(2, 6), keysCount: random.range(1, 5), thinkTimeMeanMs: random.pick([20, 100, 300]),
      clientTimeoutMs: random.range(15, 40) * 100, getProbability: random.floatRange(0.2, 0.6), casProbability: random.floatRange(0, 0.5),
      readIndexProbability: random.floatRange(0.5, 1),
    },
    snapshotIntervalEntries: random.chance(0.6) ? random.pick([5, 20, 100]) : null,
    snapshotKeepTailEntries: random.pick([0, 2, 20]),
    membershipIntervalMeanMs: random.chance(0.3) ? random.range(5, 15) * 1000 : null,
    transferIntervalMeanMs: random.chance(0.3) ? random.range(3, 15) * 1000 : null,
  };
}

function drawNetwork(random: PseudoRandom): NetworkOptions {
  const latencyTypicalMs = random.pick([1, 5, 20]);
  return {
    latencyTypicalMs,
    latencyMaxMs: latencyTypicalMs * random.pick([2, 10, 30]),
    lossProbability: random.chance(0.5) ? random.floatRange(0, 0.1) : 0,
    duplicationProbability: random.chance(0.4) ? random.floatRange(0, 0.05) : 0,
    reorderProbability: random.chance(0.5) ? random.floatRange(0, 0.2) : 0,
    reorderDelayMaxMs: random.pick([10, 100, 500]),
  };
}

function drawDisk(random: PseudoRandom): DiskOptions {
  const fsyncLatencyTypicalMs = random.pick([0.5, 2, 10, 50]);
  return {
    fsyncLatencyTypicalMs, fsyncLatencyMaxMs: fsyncLatencyTypicalMs * random.pick([2, 10]),
    slowFsyncProbability: random.chance(0.3) ? random.floatRange(0, 0.05) : 0, slowFsyncLatencyMs: random.pick([100, 500]),
    tornWriteProbability: random.floatRange(0, 0.8),
  };
}

function drawFaults(random: PseudoRandom, nodesCount: number): FaultOptions {
  const rate = (probability: number, intervalsMs: readonly number[], durationsMs: readonly number[]): FaultRate | null =>
    random.chance(probability) ? { intervalMeanMs: random.pick(intervalsMs), durationMaxMs: random.pick(durationsMs) } : null;
  // Intervals down to a second: some seeds get a storm of one kind of fault, which is where rare
  // interleavings (a crash inside an fsync window, a leader isolated mid-replication) show up.
  return {
    partition: rate(0.6, [1_000, 3_000, 8_000], [500, 2_000, 6_000]),
    asymmetricPartition: rate(0.4, [2_000, 6_000], [1_000, 4_000]),
    clog: rate(0.4, [1_000, 4_000], [500, 2_000, 5_000]),
    crash: rate(0.6, [1_000, 3_000, 8_000], [300, 2_000, 6_000]),
    powerLoss: rate(0.25, [3_000, 10_000], [200, 1_000, 3_000]),
    pause: rate(0.4, [2_000, 6_000], [500, 1_500, 4_000]),
    // Usually a minority, so the cluster makes progress between faults; sometimes a majority.
    faultyNodesMax: random.chance(0.8) ? Math.floor((nodesCount - 1) / 2) : nodesCount - 1,
    targetLeaderProbability: random.pick([0, 0.5, 0.9]),
    leaderIsolation: random.chance(0.4)
      ? { probability: random.pick([0.3, 0.7]), delayMaxMs: random.pick([50, 200, 1_000]), durationMaxMs: random.pick([500, 2_000, 5_000]) }
      : null,
  };
}

export function validateSimulationOptions(options: SimulationOptions): void {
  assert(Number.isSafeInteger(options.seed) && options.seed >= 0, 'seed must be a non-negative integer');
  assert((nodesCountChoices as readonly number[]).includes(options.nodesCount), 'nodesCount must be 3 or 5');
  assert(options.safetyPhaseMs > 0, 'safetyPhaseMs must be positive');
  validateNetworkOptions(options.network);
  validateNetworkOptions(options.networkHealed);
  validateNetworkOptions(options.clientNetwork);
  assert(options.networkHealed.lossProbability === 0, 'the healed network loses nothing');
  assert(options.faults.targetLeaderProbability >= 0 && options.faults.targetLeaderProbability <= 1, 'targetLeaderProbability in [0, 1]');
  assert(options.faults.faultyNodesMax >= 0 && options.faults.faultyNodesMax < options.nodesCount, 'faultyNodesMax below nodesCount');
  assert(options.workload.clientsCount >= 1 && options.workload.keysCount >= 1, 'at least one client and key');
  assert(options.workload.clientTimeoutMs < livenessBoundMs / 2, 'a client can retry within the liveness bound');
  assert(options.core.readOnlyOption !== ReadOnlyOption.LeaseBased || options.core.checkQuorum, 'lease reads need checkQuorum');
  assert(options.snapshotIntervalEntries === null || options.snapshotIntervalEntries >= 1, 'snapshot interval positive');
  assert(leaseMarginTicks >= 1 && leaseMarginTicks < electionTicks, 'lease margin within an election timeout');
}

/** One line naming the seed's mix, for the top of a trace. */
export function describeOptions(options: SimulationOptions): string {
  const faults = options.faults;
  const kinds = (['partition', 'asymmetricPartition', 'clog', 'crash', 'powerLoss', 'pause'] as const)
    .filter((kind) => faults[kind] !== null)
    .map((kind) => `${kind}/${faults[kind]!.intervalMeanMs / 1000}s`);
  const network = options.network;
  const core = options.core;
  return [
    `nodes=${options.nodesCount}`, `safety=${options.safetyPhaseMs / 1000}s`,
    `latency=${network.latencyTypicalMs}..${network.latencyMaxMs}ms`, `loss=${percent(network.lossProbability)}`,
    `dup=${percent(network.duplicationProbability)}`, `reorder=${percent(network.reorderProbability)}`,
    `faults=[${kinds.join(' ')}] faultyMax=${faults.faultyNodesMax} targetLeader=${faults.targetLeaderProbability}`,
    `isolateNewLeaders=${faults.leaderIsolation === null ? 'no' : `${faults.leaderIsolation.probability}/${faults.leaderIsolation.delayMaxMs}ms`}`, `fsync=${options.disk.fsyncLatencyTypicalMs}ms`,
    `torn=${percent(options.disk.tornWriteProbability)}`, `drift=${options.clockDrift}`,
    `preVote=${core.preVote}`, `checkQuorum=${core.checkQuorum}`, `reads=${core.readOnlyOption}`,
    `maxMsg=${core.maxSizePerMsgBytes}B`, `inflight=${core.maxInflightMsgs}`,
    `snapshot=${options.snapshotIntervalEntries ?? 'never'}`, `membership=${options.membershipIntervalMeanMs !== null}`,
    `transfers=${options.transferIntervalMeanMs !== null}`, `clients=${options.workload.clientsCount}`,
    `keys=${options.workload.keysCount}`, `bug=${options.bug ?? 'none'}`,
  ].join(' ');
}

function percent(probability: number): string {
  return `${(probability * 100).toFixed(1)}%`;
}
