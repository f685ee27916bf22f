import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PseudoRandom } from '../../src/sim/random.ts';

function draws(random: PseudoRandom, count: number): number[] {
  return Array.from({ length: count }, () => random.nextUint32());
}

test('the same seed and stream give the same numbers', () => {
  assert.deepEqual(draws(PseudoRandom.fromSeed(42, 'network'), 100), draws(PseudoRandom.fromSeed(42, 'network'), 100));
});

test('different seeds, and different streams of one seed, give different numbers', () => {
  const base = draws(PseudoRandom.fromSeed(42, 'network'), 8);
  assert.notDeepEqual(base, draws(PseudoRandom.fromSeed(43, 'network'), 8));
  assert.notDeepEqual(base, draws(PseudoRandom.fromSeed(42, 'disk-1'), 8));
  // Seeds above 2^32 are distinct from their low 32 bits.
  assert.notDeepEqual(draws(PseudoRandom.fromSeed(2 ** 32 + 5, 'x'), 8), draws(PseudoRandom.fromSeed(5, 'x'), 8));
});

test('a forked stream does not depend on later draws of its parent', () => {
  const parentA = PseudoRandom.fromSeed(7, 'parent');
  const childA = parentA.fork('child');
  parentA.nextUint32();
  const parentB = PseudoRandom.fromSeed(7, 'parent');
  const childB = parentB.fork('child');
  assert.deepEqual(draws(childA, 20), draws(childB, 20));
});

test('nextInt stays in range and hits every value about equally often', () => {
  const random = PseudoRandom.fromSeed(1, 'distribution');
  const bound = 10;
  const counts = new Array<number>(bound).fill(0);
  const samples = 100_000;
  for (let i = 0; i < samples; i++) {
    const value = random.nextInt(bound);
    assert.ok(Number.isInteger(value) && value >= 0 && value < bound);
    counts[value]!++;
  }
  // Chi-square with 9 degrees of freedom: 27.9 is the 0.1% critical value.
  const expected = samples / bound;
  const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
  assert.ok(chiSquare < 27.9, `chi-square ${chiSquare.toFixed(1)} is too large: ${counts.join(' ')}`);
});

test('float is in [0, 1) with mean near one half; chance follows its probability', () => {
  const random = PseudoRandom.fromSeed(2, 'floats');
  let sum = 0;
  let hits = 0;
  const samples = 50_000;
  for (let i = 0; i < samples; i++) {
    const value = random.float();
    assert.ok(value >= 0 && value < 1);
    sum += value;
    if (random.chance(0.25)) hits++;
  }
  assert.ok(Math.abs(sum / samples - 0.5) < 0.01, `mean ${sum / samples}`);
  assert.ok(Math.abs(hits / samples - 0.25) < 0.01, `chance rate ${hits / samples}`);
  assert.equal(random.chance(0), false);
  assert.equal(random.chance(1), true);
});

test('range, pick and shuffle respect their inputs', () => {
  const random = PseudoRandom.fromSeed(3, 'helpers');
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const value = random.range(-2, 2);
    assert.ok(value >= -2 && value <= 2);
    seen.add(value);
  }
  assert.equal(seen.size, 5);
  const items = ['a', 'b', 'c', 'd', 'e'];
  assert.ok(items.includes(random.pick(items)));
  const shuffled = random.shuffle(items);
  assert.deepEqual([...shuffled].sort(), items);
  assert.deepEqual(items, ['a', 'b', 'c', 'd', 'e'], 'shuffle returns a copy');
});

test('exponential has the requested mean; latency stays within its maximum', () => {
  const random = PseudoRandom.fromSeed(4, 'delays');
  let sum = 0;
  const samples = 50_000;
  for (let i = 0; i < samples; i++) {
    const value = random.exponential(100);
    assert.ok(value >= 0 && Number.isFinite(value));
    sum += value;
    const latency = random.latency(5, 40);
    assert.ok(latency >= 0 && latency <= 40);
  }
  assert.ok(Math.abs(sum / samples - 100) < 3, `mean ${sum / samples}`);
});

test('bad arguments are refused', () => {
  const random = PseudoRandom.fromSeed(5, 'errors');
  assert.throws(() => random.nextInt(0));
  assert.throws(() => random.pick([]));
  assert.throws(() => random.chance(1.5));
  assert.throws(() => PseudoRandom.fromSeed(-1, 'x'));
});
