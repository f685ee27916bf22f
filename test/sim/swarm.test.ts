import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadOnlyOption } from '../../src/raft/index.ts';
import { clockDriftMax, electionTicks, leaseMarginTicks, simulationOptions } from '../../src/sim/swarm.ts';

test('swarm options are a function of the seed', () => {
  const a = simulationOptions({ seed: 5, swarm: true, nodesCount: null, bug: null });
  const b = simulationOptions({ seed: 5, swarm: true, nodesCount: null, bug: null });
  assert.deepEqual(a, b);
});

test('swarm seeds vary the fault mix and the core options', () => {
  const drawn = Array.from({ length: 100 }, (_, i) => simulationOptions({ seed: i + 1, swarm: true, nodesCount: null, bug: null }));
  const distinct = (pick: (options: (typeof drawn)[number]) => unknown) => new Set(drawn.map((options) => JSON.stringify(pick(options)))).size;
  assert.deepEqual(new Set(drawn.map((options) => options.nodesCount)), new Set([3, 5]));
  assert.ok(distinct((options) => options.faults) > 50);
  assert.ok(distinct((options) => options.network) > 50);
  assert.equal(distinct((options) => options.core.preVote), 2);
  assert.equal(distinct((options) => options.core.checkQuorum), 2);
  assert.ok(drawn.some((options) => options.core.readOnlyOption === ReadOnlyOption.LeaseBased));
  assert.ok(drawn.some((options) => options.core.maxInflightMsgs <= 4) && drawn.some((options) => options.core.maxSizePerMsgBytes <= 256));
  assert.ok(drawn.some((options) => options.membershipIntervalMeanMs !== null) && drawn.some((options) => options.transferIntervalMeanMs !== null));
  assert.ok(drawn.some((options) => options.snapshotIntervalEntries === null) && drawn.some((options) => options.snapshotIntervalEntries !== null));
  for (const kind of ['partition', 'asymmetricPartition', 'clog', 'crash', 'powerLoss', 'pause'] as const) {
    assert.ok(drawn.some((options) => options.faults[kind] !== null), `${kind} is drawn`);
    assert.ok(drawn.some((options) => options.faults[kind] === null), `${kind} is sometimes off`);
  }
});

test('lease-based reads are drawn only with check-quorum', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const options = simulationOptions({ seed, swarm: true, nodesCount: null, bug: null });
    if (options.core.readOnlyOption === ReadOnlyOption.LeaseBased) assert.equal(options.core.checkQuorum, true);
  }
});

test('--nodes changes only the cluster size of a swarm seed, so a replay with it is exact', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const drawn = simulationOptions({ seed, swarm: true, nodesCount: null, bug: null });
    const pinned = simulationOptions({ seed, swarm: true, nodesCount: drawn.nodesCount, bug: null });
    assert.deepEqual(pinned, drawn);
  }
});

test('without --swarm the mix is fixed, with 3 nodes by default', () => {
  const a = simulationOptions({ seed: 1, swarm: false, nodesCount: null, bug: null });
  const b = simulationOptions({ seed: 2, swarm: false, nodesCount: null, bug: null });
  assert.equal(a.nodesCount, 3);
  assert.deepEqual({ ...a, seed: 0 }, { ...b, seed: 0 });
  assert.equal(simulationOptions({ seed: 1, swarm: false, nodesCount: 5, bug: null }).nodesCount, 5);
});

test('the lease margin covers the clock drift bound', () => {
  assert.equal(leaseMarginTicks, 1 + Math.ceil((electionTicks * 2 * clockDriftMax) / (1 + clockDriftMax)));
  // The leader's clock may run slow by clockDriftMax and a follower's fast: the lease, measured in the
  // leader's ticks, must end (in real time) before that follower's election timeout, with a tick to spare.
  const leaseTicks = electionTicks - leaseMarginTicks;
  assert.ok(leaseTicks * (1 + clockDriftMax) <= electionTicks * (1 - clockDriftMax) - 1 + 1e-9);
});
