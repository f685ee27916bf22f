import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventQueue } from '../../src/sim/event-queue.ts';
import { type Delivery, Network, type NetworkOptions, linkHeldMessagesMax } from '../../src/sim/network.ts';
import { PseudoRandom } from '../../src/sim/random.ts';

const calm: NetworkOptions = {
  latencyTypicalMs: 10, latencyMaxMs: 10, lossProbability: 0, duplicationProbability: 0, reorderProbability: 0, reorderDelayMaxMs: 0,
};

function setup(options: NetworkOptions = calm) {
  const queue = new EventQueue<Delivery<string>>(100_000);
  const network = new Network<string>(options, PseudoRandom.fromSeed(1, 'network'), (atMs, delivery) => queue.schedule(atMs, delivery));
  /** Pops every delivery due by `untilMs`, keeping those that arrive (not cut meanwhile). */
  const deliver = (untilMs = Infinity): string[] => {
    const arrived: string[] = [];
    while (queue.peekTimeMs() !== null && queue.peekTimeMs()! <= untilMs) {
      const next = queue.pop()!;
      if (network.arrive(next.event)) arrived.push(`${next.event.from}->${next.event.to}:${next.event.payload}`);
    }
    return arrived;
  };
  return { queue, network, deliver };
}

test('a message arrives after the link delay', () => {
  const { queue, network, deliver } = setup();
  assert.equal(network.send(1, 2, 'hello', 0), 'sent');
  assert.ok(queue.peekTimeMs()! >= 5 && queue.peekTimeMs()! <= 10);
  assert.deepEqual(deliver(), ['1->2:hello']);
});

test('a full partition cuts both ways between groups, not within them', () => {
  const { network, deliver } = setup();
  const links = network.partition([[1], [2, 3]]);
  assert.equal(network.send(1, 2, 'a', 0), 'cut');
  assert.equal(network.send(3, 1, 'b', 0), 'cut');
  assert.equal(network.send(2, 3, 'c', 0), 'sent');
  assert.deepEqual(deliver(), ['2->3:c']);
  network.restore(links);
  assert.equal(network.send(1, 2, 'd', 100), 'sent');
  assert.deepEqual(deliver(), ['1->2:d']);
});

test('an asymmetric partition cuts one direction only', () => {
  const { network, deliver } = setup();
  network.cutOneWay(1, 2);
  assert.equal(network.send(1, 2, 'lost', 0), 'cut');
  assert.equal(network.send(2, 1, 'kept', 0), 'sent');
  assert.deepEqual(deliver(), ['2->1:kept']);
});

test('messages in flight when a link is cut are lost', () => {
  const { network, deliver } = setup();
  network.send(1, 2, 'in-flight', 0);
  network.cutOneWay(1, 2);
  assert.deepEqual(deliver(), []);
});

test('overlapping faults keep a link cut until both are restored', () => {
  const { network } = setup();
  const first = network.partition([[1], [2]]);
  network.cutOneWay(1, 2);
  network.restore(first);
  assert.equal(network.isCut(1, 2), true);
  assert.equal(network.isCut(2, 1), false);
  network.restore([[1, 2]]);
  assert.equal(network.isCut(1, 2), false);
});

test('a clogged link holds its messages and releases them, in order of release, when unclogged', () => {
  const { network, deliver } = setup();
  network.clog(1, 2);
  assert.equal(network.send(1, 2, 'x', 0), 'held');
  assert.equal(network.send(1, 2, 'y', 0), 'held');
  assert.equal(network.send(2, 1, 'other-way', 0), 'sent');
  assert.deepEqual(deliver(1000), ['2->1:other-way']);
  assert.equal(network.heldCount(1, 2), 2);
  network.unclog(1, 2, 1000);
  const released = deliver();
  assert.deepEqual([...released].sort(), ['1->2:x', '1->2:y']);
});

test('a clogged link holds at most linkHeldMessagesMax messages', () => {
  const { network } = setup();
  network.clog(1, 2);
  for (let i = 0; i < linkHeldMessagesMax; i++) assert.equal(network.send(1, 2, `m${i}`, 0), 'held');
  assert.equal(network.send(1, 2, 'one-too-many', 0), 'overflow');
});

test('loss, duplication and reordering happen at about their rates', () => {
  const { network, deliver } = setup({ ...calm, lossProbability: 0.2, duplicationProbability: 0.1, reorderProbability: 0.5, reorderDelayMaxMs: 100 });
  const sent = 2000;
  let lost = 0;
  for (let i = 0; i < sent; i++) {
    const outcome = network.send(1, 2, String(i).padStart(5, '0'), i);
    if (outcome === 'lost') lost++;
  }
  const arrived = deliver();
  assert.ok(Math.abs(lost / sent - 0.2) < 0.04, `loss rate ${lost / sent}`);
  const duplicates = arrived.length - new Set(arrived).size;
  assert.ok(duplicates > 0.05 * (sent - lost) && duplicates < 0.15 * (sent - lost), `duplicates ${duplicates}`);
  const outOfOrder = arrived.filter((message, i) => i > 0 && message < arrived[i - 1]!).length;
  assert.ok(outOfOrder > 100, `only ${outOfOrder} messages overtaken`);
});

test('healAll removes every cut and clog', () => {
  const { network, deliver } = setup();
  network.partition([[1], [2]]);
  network.clog(3, 1);
  network.send(3, 1, 'held', 0);
  network.healAll(0);
  assert.equal(network.send(1, 2, 'ok', 0), 'sent');
  assert.deepEqual([...deliver()].sort(), ['1->2:ok', '3->1:held']);
});
