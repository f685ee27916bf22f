import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfChange, ConfState, Message } from '../../../src/raft/index.ts';
import { RaftDriver, requestIdBytes, type SnapshotCapture, type StateMachine } from '../../../src/server/member/raft-driver.ts';
import type { StorageLogger } from '../../../src/storage/index.ts';

/** A small real state machine: an append-only list of commands, snapshotted as JSON. */
class ListMachine implements StateMachine {
  values: string[] = [];
  apply(_index: number, command: Uint8Array): unknown {
    this.values.push(new TextDecoder().decode(command));
    return this.values.length;
  }
  applyConfChange(_index: number, _change: ConfChange, _confState: ConfState): void {}
  captureSnapshot(): SnapshotCapture {
    const values = [...this.values];
    return { encodeSome: () => true, finish: () => new TextEncoder().encode(JSON.stringify(values)) };
  }
  restore(data: Uint8Array): void {
    this.values = data.length === 0 ? [] : (JSON.parse(new TextDecoder().decode(data)) as string[]);
  }
}

/**
 * A list machine whose snapshots stay unencoded until the test lets them through (the first `gate.released`
 * captures); it notes each capture's size.
 */
class GatedListMachine extends ListMachine {
  constructor(readonly gate: { released: number }, readonly captures: number[]) {
    super();
  }
  override captureSnapshot(): SnapshotCapture {
    const inner = super.captureSnapshot();
    const ordinal = this.captures.length;
    this.captures.push(this.values.length);
    return { encodeSome: () => ordinal < this.gate.released, finish: () => inner.finish() };
  }
}

const quietLogger: StorageLogger = { info: () => undefined, warn: () => undefined };

/** Three drivers on real data directories; messages are routed in-process (the TCP transport has its own tests). */
class Cluster {
  readonly drivers = new Map<number, RaftDriver>();
  readonly machines = new Map<number, ListMachine>();
  readonly down = new Set<number>();
  constructor(
    readonly root: string, readonly snapshotEntries = 1000, readonly compactionTailEntries = 100, readonly requestTimeoutMs?: number,
    readonly newMachine: () => ListMachine = () => new ListMachine(),
  ) {}

  async start(id: number): Promise<void> {
    const machine = this.newMachine();
    const driver = await RaftDriver.open({
      memberId: id, dataDirectory: join(this.root, `m${id}`), initialVoters: [1, 2, 3], stateMachine: machine,
      transport: { send: (messages) => this.route(messages) }, logger: quietLogger,
      tickMs: 10, electionTicks: 10, snapshotEntries: this.snapshotEntries, compactionTailEntries: this.compactionTailEntries,
      now: () => performance.now(), random: Math.random, requestTimeoutMs: this.requestTimeoutMs,
    });
    this.drivers.set(id, driver);
    this.machines.set(id, machine);
    this.down.delete(id);
    driver.start();
  }

  route(messages: readonly Message[]): void {
    for (const message of messages) {
      if (this.down.has(message.to) || this.down.has(message.from)) continue;
      // Deliver asynchronously, as a network would.
      setImmediate(() => {
        if (!this.down.has(message.to)) this.drivers.get(message.to)?.receive(message);
      });
    }
  }

  async stop(id: number): Promise<void> {
    this.down.add(id);
    await this.drivers.get(id)!.stop();
  }

  async leader(excluding: number[] = []): Promise<number> {
    for (let attempt = 0; attempt < 500; attempt++) {
      for (const [id, driver] of this.drivers) {
        if (!this.down.has(id) && !excluding.includes(id) && driver.node.status().role === 'leader') return id;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('no leader elected');
  }

  async waitFor(condition: () => boolean, what: string): Promise<void> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      if (condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async stopAll(): Promise<void> {
    for (const id of this.drivers.keys()) if (!this.down.has(id)) await this.stop(id);
  }
}

/** A command with the room in front that the driver fills with the request ID. */
const encode = (text: string) => {
  const body = new TextEncoder().encode(text);
  const data = new Uint8Array(requestIdBytes + body.length);
  data.set(body, requestIdBytes);
  return data;
};

test('three drivers elect a leader, replicate proposals durably, and answer a linearizable read', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-driver-'));
  const cluster = new Cluster(root);
  try {
    for (const id of [1, 2, 3]) await cluster.start(id);
    const leader = await cluster.leader();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => cluster.drivers.get(leader)!.propose(encode(`v${i}`), AbortSignal.timeout(5000))));
    assert.deepEqual([...results].sort((a, b) => Number(a) - Number(b)), Array.from({ length: 50 }, (_, i) => i + 1));
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    await cluster.drivers.get(follower)!.readBarrier(AbortSignal.timeout(5000));
    assert.equal(cluster.machines.get(follower)!.values.length, 50, 'a read barrier on a follower waits until it applied everything committed');
    await cluster.waitFor(() => [1, 2, 3].every((id) => cluster.machines.get(id)!.values.length === 50), 'every member to apply');
  } finally {
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});

test('a stopped leader is replaced, and restarted it recovers from its WAL and catches up through a snapshot', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-driver-'));
  const cluster = new Cluster(root, 20, 5);
  try {
    for (const id of [1, 2, 3]) await cluster.start(id);
    const first = await cluster.leader();
    for (let i = 0; i < 10; i++) await cluster.drivers.get(first)!.propose(encode(`a${i}`), AbortSignal.timeout(5000));
    await cluster.stop(first);
    const second = await cluster.leader([first]);
    assert.notEqual(second, first);
    // Far enough ahead that the stopped member's log is compacted away on the others.
    for (let i = 0; i < 100; i++) await cluster.drivers.get(second)!.propose(encode(`b${i}`), AbortSignal.timeout(5000));
    assert.ok(cluster.drivers.get(second)!.storage.firstIndex() > 12, 'the leader compacted its log behind a snapshot');
    await cluster.start(first);
    const expected = [...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 100 }, (_, i) => `b${i}`)];
    await cluster.waitFor(() => cluster.machines.get(first)!.values.length === expected.length, 'the restarted member to catch up');
    assert.deepEqual(cluster.machines.get(first)!.values, expected);
  } finally {
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});

/** A cluster of gated list machines; `captures` has each member's capture sizes, by member ID (started in order). */
function gatedCluster(root: string, snapshotEntries: number, gate: { released: number }): { cluster: Cluster; captures: Map<number, number[]> } {
  const captures = new Map<number, number[]>();
  const cluster = new Cluster(root, snapshotEntries, 5, undefined, () => {
    const list: number[] = [];
    captures.set(captures.size + 1, list);
    return new GatedListMachine(gate, list);
  });
  return { cluster, captures };
}

test('a snapshot is encoded in the background: proposals commit meanwhile, and it holds the state as of its capture', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-driver-snapshot-'));
  const gate = { released: 0 };
  const { cluster, captures } = gatedCluster(root, 20, gate);
  try {
    for (const id of [1, 2, 3]) await cluster.start(id);
    const leader = await cluster.leader();
    const driver = cluster.drivers.get(leader)!;
    for (let i = 0; i < 40; i++) await driver.propose(encode(`a${i}`), AbortSignal.timeout(5000));
    await cluster.waitFor(() => captures.get(leader)!.length > 0, 'the leader to capture a snapshot');
    const captured = captures.get(leader)![0]!;
    const snapshotIndexBefore = driver.storage.snapshot().metadata.index;
    // The capture is still unencoded, yet the Ready loop goes on: these commit and apply.
    for (let i = 0; i < 10; i++) await driver.propose(encode(`b${i}`), AbortSignal.timeout(5000));
    assert.equal(cluster.machines.get(leader)!.values.length, 50);
    assert.equal(driver.storage.snapshot().metadata.index, snapshotIndexBefore, 'nothing is saved before the encoding ends');
    assert.equal(captures.get(leader)!.length, 1, 'one background snapshot at a time');
    gate.released = 1; // the first capture only: a later one stays unsaved, so the saved snapshot is the first
    await cluster.waitFor(() => driver.storage.snapshot().metadata.index > snapshotIndexBefore, 'the snapshot to be saved');
    const restored = new ListMachine();
    restored.restore(driver.storage.snapshot().data);
    assert.equal(restored.values.length, captured, 'the snapshot holds the state as of its capture, not the later applies');
    assert.deepEqual(restored.values, cluster.machines.get(leader)!.values.slice(0, captured));
  } finally {
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});

test('members take turns to snapshot: each every snapshotEntries, at its own phase', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-driver-turns-'));
  const { cluster, captures } = gatedCluster(root, 30, { released: Number.POSITIVE_INFINITY });
  try {
    for (const id of [1, 2, 3]) await cluster.start(id);
    const leader = await cluster.leader();
    for (let i = 0; i < 200; i++) await cluster.drivers.get(leader)!.propose(encode(`v${i}`), AbortSignal.timeout(5000));
    await cluster.waitFor(() => [1, 2, 3].every((id) => captures.get(id)!.length >= 5), 'five snapshots on every member');
    // Phases 0, 10 and 20 entries apart (S / 3), give or take the odd entry applied in the same Ready.
    const firsts = [1, 2, 3].map((id) => captures.get(id)![0]!).sort((left, right) => left - right);
    assert.ok(firsts[1]! - firsts[0]! >= 6 && firsts[2]! - firsts[1]! >= 6, `the members snapshot at different points: ${firsts.join(', ')}`);
    // Each at least S / 2 after its last (a snapshot still being saved can push the next one back) and every
    // S entries on average.
    for (const id of [1, 2, 3]) {
      const sizes = captures.get(id)!;
      for (let index = 1; index < sizes.length; index++) {
        const gap = sizes[index]! - sizes[index - 1]!;
        assert.ok(gap >= 15 && gap < 45, `member ${id}: ${sizes.join(', ')}`);
      }
      const average = (sizes[sizes.length - 1]! - sizes[1]!) / (sizes.length - 2);
      assert.ok(average >= 25 && average <= 35, `member ${id} snapshots every 30 entries on average: ${sizes.join(', ')}`);
    }
  } finally {
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});

test('a proposal forwarded to a leader that died fails with a timeout naming the leader change, not a hang', async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-driver-timeout-'));
  const cluster = new Cluster(root, 1000, 100, 400);
  try {
    for (const id of [1, 2, 3]) await cluster.start(id);
    const leader = await cluster.leader();
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    // The leader is cut off first and the proposal made at once, while the follower still believes in the
    // leader: it forwards the proposal, which is lost. (Proposing after the stop raced the follower's election
    // timeout on a loaded machine, and right after the election a follower may not know the leader yet: either
    // way it dropped the proposal with "no leader".)
    await cluster.waitFor(() => cluster.drivers.get(follower)!.node.lead === leader, 'the follower to know the leader');
    cluster.down.add(leader);
    const pending = cluster.drivers.get(follower)!.propose(encode('lost'), AbortSignal.timeout(30_000)).then(
      () => null, (error: Error & { code?: string }) => error);
    await cluster.stop(leader);
    const outcome = await pending;
    assert.ok(outcome !== null, 'the lost proposal does not succeed');
    assert.equal(outcome.code, 'DRIVER_TIMEOUT');
    assert.match(outcome.message, /^etcdserver: request timed out, possibly due to previous leader failure$/);
    // The cluster goes on: the new leader takes the same write.
    const next = await cluster.leader([leader]);
    await cluster.drivers.get(next)!.propose(encode('retried'), AbortSignal.timeout(5000));
    assert.ok(cluster.machines.get(next)!.values.includes('retried'));
  } finally {
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});
