// Simulator and core benchmarks, printed as JSON lines:
// - "sim": simulated events per wall second over swarm seeds (the whole simulator: core, network, disks,
//   checkers, linearizability);
// - "raft-propose": the core's cost per proposal in a 3-member in-memory loop with no network model
//   (messages are stepped directly, writes are instant), for single proposals and for batches.
// Run alone: node --import tsx bench/sim.ts
import { pathToFileURL } from 'node:url';
import { type Message, MemoryStorage, type NodeId, RaftNode, type Ready, Role } from '../src/raft/index.ts';
import { PseudoRandom, runSeed } from '../src/sim/index.ts';

const simSeedsCount = 60;
const proposalsCount = 20_000;
const batchSize = 100;
/** Bound on message deliveries while pumping one round of the in-memory loop. */
const pumpStepsMax = 1_000_000;

function report(result: Record<string, string | number>): void {
  console.log(JSON.stringify(result));
}

function benchSimulator(): void {
  const started = performance.now();
  let events = 0;
  let simulatedMs = 0;
  let violations = 0;
  for (let seed = 1; seed <= simSeedsCount; seed++) {
    const result = runSeed({ seed, swarm: true, nodesCount: null, bug: null, trace: false });
    events += result.eventsCount;
    simulatedMs += result.simulatedMs;
    if (result.violation !== null) violations++;
  }
  const wallSeconds = (performance.now() - started) / 1000;
  report({
    bench: 'sim', seeds: simSeedsCount, violations, events, events_per_wall_s: Math.round(events / wallSeconds),
    seeds_per_wall_s: Number((simSeedsCount / wallSeconds).toFixed(2)),
    simulated_s_per_wall_s: Number((simulatedMs / 1000 / wallSeconds).toFixed(1)),
  });
}

/** Three members whose messages are delivered synchronously and whose writes are instant. */
class InMemoryCluster {
  readonly nodes = new Map<NodeId, { node: RaftNode; storage: MemoryStorage }>();
  readonly #queue: Message[] = [];

  constructor(ids: readonly NodeId[]) {
    for (const id of ids) {
      const storage = new MemoryStorage({ voters: ids });
      this.nodes.set(id, { node: new RaftNode({ id, storage, random: PseudoRandom.fromSeed(1, `bench-${id}`) }), storage });
    }
  }

  /** Handles every Ready and delivers every message until the cluster is quiet. */
  pump(): void {
    for (let step = 0; step < pumpStepsMax; step++) {
      let busy = false;
      for (const [id, { node, storage }] of this.nodes) {
        if (!node.hasReady()) continue;
        busy = true;
        this.#handle(id, node, storage, node.ready());
      }
      const message = this.#queue.shift();
      if (message !== undefined) {
        busy = true;
        this.nodes.get(message.to)?.node.step(message);
      }
      if (!busy) return;
    }
    throw new Error('bench: the in-memory cluster did not settle');
  }

  #handle(id: NodeId, node: RaftNode, storage: MemoryStorage, ready: Ready): void {
    for (const m of ready.messages) this.#queue.push(m);
    if (ready.snapshot !== null) storage.applySnapshot(ready.snapshot);
    storage.append(ready.entries);
    if (ready.hardState !== null) storage.setHardState(ready.hardState);
    for (const m of ready.messagesAfterPersist) {
      if (m.to === id) node.step(m);
      else this.#queue.push(m);
    }
    node.advance(ready);
  }

  leader(): RaftNode {
    for (let tick = 0; tick < 1000; tick++) {
      for (const { node } of this.nodes.values()) {
        if (node.status().role === Role.Leader) return node;
        node.tick();
      }
      this.pump();
    }
    throw new Error('bench: no leader elected');
  }
}

function benchProposals(batch: number): void {
  const cluster = new InMemoryCluster([1, 2, 3]);
  const leader = cluster.leader();
  const data = new TextEncoder().encode('put k0 some-value-of-moderate-size');
  const startCommit = leader.status().commit;
  const started = performance.now();
  for (let proposed = 0; proposed < proposalsCount; proposed += batch) {
    for (let i = 0; i < batch; i++) {
      if (!leader.propose(data)) throw new Error('bench: a proposal was refused');
    }
    cluster.pump();
  }
  const nanoseconds = (performance.now() - started) * 1e6;
  const committed = leader.status().commit - startCommit;
  if (committed < proposalsCount) throw new Error(`bench: only ${committed} of ${proposalsCount} proposals committed`);
  report({ bench: 'raft-propose', members: 3, batch, proposals: proposalsCount, ns_per_proposal: Math.round(nanoseconds / proposalsCount) });
}

export async function run(): Promise<void> {
  benchSimulator();
  benchProposals(1);
  benchProposals(batchSize);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
