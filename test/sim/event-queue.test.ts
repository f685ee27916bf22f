import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventQueue } from '../../src/sim/event-queue.ts';
import { PseudoRandom } from '../../src/sim/random.ts';

function drain<T>(queue: EventQueue<T>): { timeMs: number; event: T }[] {
  const out: { timeMs: number; event: T }[] = [];
  for (let next = queue.pop(); next !== null; next = queue.pop()) out.push(next);
  return out;
}

test('events come out in time order, and ties in the order they were scheduled', () => {
  const queue = new EventQueue<string>(100);
  queue.schedule(5, 'b1');
  queue.schedule(1, 'a');
  queue.schedule(5, 'b2');
  queue.schedule(3, 'c');
  queue.schedule(5, 'b3');
  assert.deepEqual(drain(queue).map((entry) => entry.event), ['a', 'c', 'b1', 'b2', 'b3']);
});

test('a large random schedule pops sorted by (time, sequence)', () => {
  const random = PseudoRandom.fromSeed(9, 'queue');
  const queue = new EventQueue<number>(10_000);
  const scheduled: { timeMs: number; sequence: number }[] = [];
  for (let sequence = 0; sequence < 5000; sequence++) {
    const timeMs = random.nextInt(200); // many ties
    scheduled.push({ timeMs, sequence });
    queue.schedule(timeMs, sequence);
  }
  scheduled.sort((a, b) => a.timeMs - b.timeMs || a.sequence - b.sequence);
  assert.deepEqual(drain(queue).map((entry) => entry.event), scheduled.map((entry) => entry.sequence));
});

test('the clock follows popped events and refuses the past', () => {
  const queue = new EventQueue<string>(10);
  queue.schedule(10, 'x');
  assert.equal(queue.nowMs, 0);
  assert.equal(queue.peekTimeMs(), 10);
  queue.pop();
  assert.equal(queue.nowMs, 10);
  assert.throws(() => queue.schedule(9, 'past'), /in the past/);
  queue.schedule(10, 'now');
  assert.equal(queue.pop()?.event, 'now');
  assert.equal(queue.pop(), null);
});

test('the queue is bounded', () => {
  const queue = new EventQueue<number>(2);
  queue.schedule(1, 1);
  queue.schedule(2, 2);
  assert.throws(() => queue.schedule(3, 3), /full/);
});
