/**
 * keel's deterministic simulator: drives the Raft core (`src/raft`) under a simulated network, disks and
 * clocks, from one seed, and checks it.
 *
 * - `random.ts`: the seeded PRNG (sfc32), one independent stream per component and per node.
 * - `event-queue.ts`: the simulated clock, a heap of events ordered by (time, sequence).
 * - `network.ts`: delays, loss, duplication, reordering, full and one-way partitions, clogged links.
 * - `disk.ts`: fsync latency, slow fsyncs, crashes that lose or tear the unsynced write.
 * - `member.ts`: one member's driver (the Ready loop, KV state machine `kv.ts`, snapshots, clients).
 * - `cluster.ts`: members and networks; crashes, restarts, pauses (missed ticks delivered on resume),
 *   clock drift; `nemesis.ts` injects the faults; `membership.ts` changes membership and leadership.
 * - `workload.ts`: clients doing get, put and compare-and-set with timeouts (unknown outcomes).
 * - `swarm.ts`: each seed's options (swarm testing: a mix and intensity of faults per seed).
 * - `checkers/`: one module per invariant, run on every event; `linearizability.ts` at the end.
 * - `run.ts`: one seed, a safety phase with faults then a liveness phase in which they heal.
 *
 * @example
 * import { runSeed } from './src/sim/index.ts';
 * const result = runSeed({ seed: 1, swarm: true, nodesCount: null, bug: null, trace: true });
 * console.log(result.traceLines.join('\n'));
 */
export { runSeed, type RunOptions, type SeedResult, eventsPerRunMax } from './run.ts';
export { PseudoRandom } from './random.ts';
export { EventQueue } from './event-queue.ts';
export { Network, type NetworkOptions, type Delivery, type SendOutcome } from './network.ts';
export { Disk, type DiskOptions, type DiskWrite, type CrashOutcome } from './disk.ts';
export { KvStateMachine, encodeCommand, decodeCommand, type Command } from './kv.ts';
export {
  simulationOptions, describeOptions, type SimulationOptions, type DrawOptions, tickMs, electionTicks, clockDriftMax,
  leaseMarginTicks, livenessLeaderBoundMs, livenessBoundMs,
} from './swarm.ts';
export { Trace, formatTraceLine } from './trace.ts';
export { type CheckerName, type Violation } from './checkers/index.ts';
export { checkLinearizability, type Operation } from './linearizability.ts';
export { SimulatorError } from './assert.ts';
