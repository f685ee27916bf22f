import { type BugName, CodecError, ConfChangeError, ConfigError, InvariantError, StorageError } from '../raft/index.ts';
import { SimulatorError, assert } from './assert.ts';
import { Checkers, type CheckerName, type Violation, ViolationError, violated } from './checkers/index.ts';
import { Cluster } from './cluster.ts';
import { EventQueue } from './event-queue.ts';
import type { SimEvent } from './events.ts';
import { type Operation, checkLinearizability } from './linearizability.ts';
import { MembershipDriver } from './membership.ts';
import { Nemesis } from './nemesis.ts';
import { PseudoRandom } from './random.ts';
import { type SimulationOptions, describeOptions, livenessBoundMs, livenessLeaderBoundMs, simulationOptions, tickMs, validateSimulationOptions } from './swarm.ts';
import { Trace } from './trace.ts';
import { Workload } from './workload.ts';

/** Bound on events in one run; a seed is tens of simulated seconds, far below it. */
export const eventsPerRunMax = 5_000_000;
/** Bound on events waiting in the queue at once. */
export const eventsQueuedMax = 1_000_000;
/** How often the liveness phase checks for a leader and for answered clients. */
const livenessCheckIntervalMs = tickMs;

export interface RunOptions {
  readonly seed: number;
  readonly swarm: boolean;
  /** null: the default (3, or drawn per seed under swarm). */
  readonly nodesCount: number | null;
  readonly bug: BugName | null;
  readonly trace: boolean;
}

export interface SeedResult {
  readonly seed: number;
  readonly options: SimulationOptions;
  /** The first violation; the run stops there. */
  readonly violation: Violation | null;
  readonly eventsCount: number;
  readonly simulatedMs: number;
  readonly traceLines: readonly string[];
  readonly history: readonly Operation[];
}

/**
 * Runs one seed: a safety phase with the seed's faults, then a liveness phase in which they heal.
 * Deterministic: the seed decides everything, so the same seed gives the same events and trace.
 *
 * @example
 * const result = runSeed({ seed: 7, swarm: true, nodesCount: null, bug: null, trace: false });
 * if (result.violation !== null) console.log(result.violation.message);
 */
export function runSeed(run: RunOptions): SeedResult {
  const options = simulationOptions({ seed: run.seed, swarm: run.swarm, nodesCount: run.nodesCount, bug: run.bug });
  return runWithOptions(options, run.trace);
}

/** Runs one seed with options given whole (for experiments with a fault mix, and for tests). */
export function runWithOptions(options: SimulationOptions, trace: boolean): SeedResult {
  validateSimulationOptions(options);
  return new Simulation(options, new Trace(trace)).run();
}

type Phase = 'safety' | 'liveness' | 'done';

class Simulation {
  readonly #options: SimulationOptions;
  readonly #trace: Trace;
  readonly #queue = new EventQueue<SimEvent>(eventsQueuedMax);
  readonly #checkers = new Checkers();
  readonly #cluster: Cluster;
  readonly #workload: Workload;
  readonly #nemesis: Nemesis;
  readonly #membership: MembershipDriver;
  #phase: Phase = 'safety';
  #eventsCount = 0;
  #livenessStartMs = 0;
  #leaderElectedMs: number | null = null;

  constructor(options: SimulationOptions, trace: Trace) {
    this.#options = options;
    this.#trace = trace;
    const seed = options.seed;
    const queue = this.#queue;
    const schedule = (atMs: number, event: SimEvent) => queue.schedule(atMs, event);
    const nowMs = () => queue.nowMs;
    this.#cluster = new Cluster({
      options, checkers: this.#checkers, trace, queue,
      random: PseudoRandom.fromSeed(seed, 'cluster'), networkRandom: PseudoRandom.fromSeed(seed, 'network'),
    });
    const cluster = this.#cluster;
    this.#workload = new Workload(options.workload, PseudoRandom.fromSeed(seed, 'workload'), {
      nowMs, schedule, send: (request, node) => cluster.sendRequest(request, node), targets: () => cluster.clientTargets(),
    });
    this.#nemesis = new Nemesis(options.faults, PseudoRandom.fromSeed(seed, 'nemesis'), cluster, { trace, nowMs, schedule });
    this.#membership = new MembershipDriver(options, PseudoRandom.fromSeed(seed, 'membership'), cluster, { trace, nowMs, schedule });
  }

  run(): SeedResult {
    this.#trace.record(0, () => `seed ${this.#options.seed}: ${describeOptions(this.#options)}`);
    let violation = this.#capture(() => {
      this.#start();
      this.#loop();
    });
    if (violation === null) violation = this.#capture(() => this.#checkHistory());
    if (violation !== null) {
      const found = violation;
      this.#trace.record(found.timeMs, () => `VIOLATION ${found.checker}: ${found.message}`);
    }
    return {
      seed: this.#options.seed, options: this.#options, violation, eventsCount: this.#eventsCount, simulatedMs: this.#queue.nowMs,
      traceLines: this.#trace.lines(), history: this.#workload.history(),
    };
  }

  #start(): void {
    this.#cluster.bootstrap();
    this.#workload.start();
    this.#nemesis.start();
    this.#membership.start();
    this.#queue.schedule(this.#options.safetyPhaseMs, { kind: 'liveness-start' });
  }

  #loop(): void {
    while (this.#phase !== 'done') {
      const next = this.#queue.pop();
      assert(next !== null, 'the event queue ran dry before the run ended');
      this.#eventsCount++;
      assert(this.#eventsCount <= eventsPerRunMax, () => `more than ${eventsPerRunMax} events in one run`);
      this.#dispatch(next.event);
      this.#cluster.traceCommitProgress();
    }
  }

  #dispatch(event: SimEvent): void {
    const cluster = this.#cluster;
    switch (event.kind) {
      case 'tick': cluster.onTick(event.node, event.incarnation); return;
      case 'peer-message': cluster.onPeerMessage(event); return;
      case 'fsync':
      case 'snapshot-status':
      case 'unreachable': cluster.onMemberEvent(event.node, event); return;
      case 'client-packet': this.#onClientPacket(event); return;
      case 'client-issue': this.#workload.onIssue(event.clientId); return;
      case 'client-timeout': this.#workload.onTimeout(event.clientId, event.requestId); return;
      case 'fault-start': this.#nemesis.onFaultStart(event.fault); return;
      case 'fault-end': this.#nemesis.onFaultEnd(event.end); return;
      case 'leader-elected': this.#nemesis.onLeaderElected(event.node); return;
      case 'isolate-leader': this.#nemesis.onIsolateLeader(event.node); return;
      case 'membership-step': this.#membership.onMembershipStep(); return;
      case 'transfer-leader': this.#membership.onTransferLeader(); return;
      case 'decommission': cluster.decommission(event.node); return;
      case 'liveness-start': this.#startLiveness(); return;
      case 'liveness-check': this.#checkLiveness(); return;
    }
  }

  #onClientPacket(event: Extract<SimEvent, { kind: 'client-packet' }>): void {
    const delivery = event.delivery;
    const arrived = this.#cluster.clientNetwork.arrive(delivery);
    assert(arrived, 'the client network is never cut');
    const packet = delivery.payload;
    if (packet.kind === 'request') this.#cluster.onClientRequest(delivery.to, packet.request);
    else this.#workload.onResponse(packet.response);
  }

  #startLiveness(): void {
    assert(this.#phase === 'safety', 'the liveness phase follows the safety phase');
    this.#phase = 'liveness';
    const nowMs = this.#queue.nowMs;
    this.#livenessStartMs = nowMs;
    this.#trace.record(nowMs, () => 'liveness phase: every fault heals');
    this.#membership.stop();
    this.#cluster.network.setOptions(this.#options.networkHealed);
    this.#nemesis.healAll();
    this.#workload.beginLivenessPhase();
    this.#queue.schedule(nowMs + livenessCheckIntervalMs, { kind: 'liveness-check' });
  }

  #checkLiveness(): void {
    const nowMs = this.#queue.nowMs;
    const elapsedMs = nowMs - this.#livenessStartMs;
    if (this.#leaderElectedMs === null) {
      const leader = this.#cluster.leader();
      if (leader !== null) {
        this.#leaderElectedMs = nowMs;
        const term = leader.raft!.status().term;
        this.#trace.record(nowMs, () => `liveness: n${leader.id} leads term ${term}, ${(elapsedMs / 1000).toFixed(1)}s after healing`);
      } else if (elapsedMs > livenessLeaderBoundMs) {
        violated('liveness', `no leader ${livenessLeaderBoundMs / 1000}s after the faults healed`);
      }
    }
    if (this.#leaderElectedMs !== null && this.#workload.allFinalOperationsDone()) {
      this.#trace.record(nowMs, () => `liveness: every client answered, ${(elapsedMs / 1000).toFixed(1)}s after healing`);
      this.#phase = 'done';
      return;
    }
    if (elapsedMs > livenessBoundMs) {
      violated('liveness', `${livenessBoundMs / 1000}s after the faults healed, still waiting: ${this.#workload.describePending().join('; ')}`);
    }
    this.#queue.schedule(nowMs + livenessCheckIntervalMs, { kind: 'liveness-check' });
  }

  #checkHistory(): void {
    const history = this.#workload.history();
    const result = checkLinearizability(history);
    const unknown = history.filter((operation) => operation.output === null).length;
    this.#trace.record(this.#queue.nowMs, () =>
      `linearizability: ${history.length} operations (${unknown} timed out) on ${result.keysChecked} keys${result.exhausted ? ', search exhausted on some key' : ''}`);
    if (!result.ok) violated('linearizability', result.violation!.message);
  }

  /** Runs `body`; turns a violation, a core assertion or a simulator failure into a Violation. */
  #capture(body: () => void): Violation | null {
    try {
      body();
      return null;
    } catch (error) {
      return { checker: classify(error), message: describeError(error), timeMs: this.#queue.nowMs };
    }
  }
}

function classify(error: unknown): CheckerName {
  if (error instanceof ViolationError) return error.checker;
  if (error instanceof InvariantError || error instanceof ConfChangeError || error instanceof StorageError
    || error instanceof CodecError || error instanceof ConfigError) return 'core-assertion';
  return 'simulator-error';
}

function describeError(error: unknown): string {
  if (error instanceof ViolationError) return error.message.slice(error.checker.length + 2);
  if (error instanceof SimulatorError || !(error instanceof Error)) return String(error instanceof Error ? error.message : error);
  const frame = error.stack?.split('\n').find((line) => line.includes(' at ')) ?? '';
  return `${error.name}: ${error.message}${frame === '' ? '' : ` (${frame.trim()})`}`;
}
