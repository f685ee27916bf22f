import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkLinearizability,
  describeOperation,
  searchStepsPerKeyMax,
  type KvInput,
  type KvOutput,
  type LinearizabilityResult,
  type Operation,
} from '../../src/sim/linearizability.ts';
import { isLinearizableByBruteForce } from '../../src/sim/_linearizability-reference.ts';

// ---------------------------------------------------------------------------------------------------------
// Builders: client, key, what happened, then the call and return times in simulated ms.

function put(clientId: number, key: string, value: string, call: number, returned: number): Operation {
  return { clientId, input: { kind: 'put', key, value }, call, output: { kind: 'put' }, return: returned };
}

function get(clientId: number, key: string, value: string | null, call: number, returned: number): Operation {
  return { clientId, input: { kind: 'get', key }, call, output: { kind: 'get', value }, return: returned };
}

function cas(clientId: number, key: string, swap: { expected: string | null; value: string; ok: boolean }, call: number, returned: number): Operation {
  const input: KvInput = { kind: 'cas', key, expected: swap.expected, value: swap.value };
  return { clientId, input, call, output: { kind: 'cas', ok: swap.ok }, return: returned };
}

/** The same operation with its answer lost: the client timed out. */
function timedOut(operation: Operation): Operation {
  return { ...operation, output: null, return: Infinity };
}

function assertLinearizable(history: readonly Operation[]): LinearizabilityResult {
  const result = checkLinearizability(history);
  assert.equal(result.violation, null, result.violation?.message);
  assert.equal(result.ok, true);
  assert.equal(result.exhausted, false);
  return result;
}

function assertViolation(history: readonly Operation[], key: string): string {
  const result = checkLinearizability(history);
  assert.equal(result.ok, false);
  assert.equal(result.exhausted, false);
  assert.ok(result.violation !== null);
  assert.equal(result.violation.key, key);
  assert.ok(result.violation.operations.every((operation) => operation.input.key === key));
  return result.violation.message;
}

// ---------------------------------------------------------------------------------------------------------
// Hand-written histories.

test('an empty history is linearizable and checks no key', () => {
  const result = assertLinearizable([]);
  assert.equal(result.keysChecked, 0);
  assert.equal(result.operationsChecked, 0);
});

test('a sequential history that reads its own writes is linearizable', () => {
  const result = assertLinearizable([
    get(1, 'x', null, 0, 1),
    put(1, 'x', 'a', 2, 3),
    get(2, 'x', 'a', 4, 5),
    put(2, 'x', 'b', 6, 7),
    get(1, 'x', 'b', 8, 9),
    put(3, 'y', 'c', 10, 11),
    get(3, 'y', 'c', 12, 13),
  ]);
  assert.equal(result.keysChecked, 2);
  assert.equal(result.operationsChecked, 7);
});

test('a sequential read of a value that was overwritten is not linearizable', () => {
  assertViolation([put(1, 'x', 'a', 0, 1), put(1, 'x', 'b', 2, 3), get(2, 'x', 'a', 4, 5)], 'x');
});

test('concurrent operations may take effect in any order within their intervals', () => {
  assertLinearizable([
    put(1, 'x', 'a', 0, 10),
    get(2, 'x', null, 1, 2), // before the put took effect
    get(3, 'x', 'a', 3, 4), // after it
    put(2, 'x', 'b', 11, 20),
    put(3, 'x', 'c', 12, 19),
    get(1, 'x', 'b', 21, 22), // b was written last, though its call came first
  ]);
});

test('a read that goes back to the old value after another read saw the new one is not linearizable', () => {
  assertViolation([
    put(1, 'x', 'a', 0, 10),
    get(2, 'x', 'a', 1, 2),
    get(3, 'x', null, 3, 4),
  ], 'x');
});

test('a stale read after an acknowledged write is not linearizable', () => {
  const message = assertViolation([
    put(1, 'x', 'a', 0, 5),
    put(2, 'x', 'b', 6, 10),
    get(3, 'x', 'a', 11, 12),
  ], 'x');
  assert.match(message, /key "x" is not linearizable/);
  assert.match(message, /orders 2 of 3 operations/);
  assert.match(message, /value is "b"/);
  assert.match(message, /client 3 get\("x"\) -> "a" \[11, 12\] ms/);
});

test('a lost acknowledged write is not linearizable', () => {
  assertViolation([put(1, 'x', 'a', 0, 5), get(2, 'x', null, 6, 7)], 'x');
});

test('an operation returning at the instant another is called counts as concurrent', () => {
  assertLinearizable([put(1, 'x', 'a', 0, 5), get(2, 'x', null, 5, 6)]);
  assertViolation([put(1, 'x', 'a', 0, 5), get(2, 'x', null, 6, 6)], 'x');
});

test('cas succeeds exactly when the value equals the expected one, absent included', () => {
  assertLinearizable([
    cas(1, 'x', { expected: null, value: 'a', ok: true }, 0, 1),
    cas(2, 'x', { expected: null, value: 'b', ok: false }, 2, 3),
    cas(1, 'x', { expected: 'b', value: 'c', ok: false }, 4, 5),
    cas(2, 'x', { expected: 'a', value: 'c', ok: true }, 6, 7),
    get(3, 'x', 'c', 8, 9),
  ]);
  assertViolation([cas(1, 'x', { expected: 'a', value: 'b', ok: true }, 0, 1)], 'x');
  assertViolation([cas(1, 'x', { expected: null, value: 'b', ok: false }, 0, 1)], 'x');
  assertViolation([
    put(1, 'x', 'a', 0, 1),
    cas(2, 'x', { expected: 'a', value: 'b', ok: true }, 2, 3),
    get(3, 'x', 'a', 4, 5),
  ], 'x');
});

test('two concurrent cas from absent cannot both succeed', () => {
  assertLinearizable([
    cas(1, 'x', { expected: null, value: 'a', ok: true }, 0, 10),
    cas(2, 'x', { expected: null, value: 'b', ok: false }, 0, 10),
  ]);
  assertViolation([
    cas(1, 'x', { expected: null, value: 'a', ok: true }, 0, 10),
    cas(2, 'x', { expected: null, value: 'b', ok: true }, 0, 10),
  ], 'x');
});

test('a timed-out write that took effect explains a later read of its value', () => {
  assertLinearizable([
    put(1, 'x', 'a', 0, 5),
    timedOut(put(2, 'x', 'b', 6, 6)),
    get(3, 'x', 'a', 7, 8), // not yet applied
    get(3, 'x', 'b', 100, 101), // applied long after the client gave up
  ]);
});

test('a timed-out write that never took effect is consistent with reads of the old value', () => {
  assertLinearizable([
    put(1, 'x', 'a', 0, 5),
    timedOut(put(2, 'x', 'b', 6, 6)),
    get(3, 'x', 'a', 7, 8),
    get(3, 'x', 'a', 100, 101),
  ]);
});

test('a timed-out write cannot explain a read that returned before the write was called', () => {
  assertViolation([get(1, 'x', 'b', 0, 5), timedOut(put(2, 'x', 'b', 10, 10))], 'x');
});

test('a timed-out write takes effect at most once', () => {
  assertViolation([
    put(1, 'x', 'a', 0, 1),
    timedOut(put(2, 'x', 'b', 2, 2)),
    get(3, 'x', 'b', 3, 4),
    get(3, 'x', 'a', 5, 6),
  ], 'x');
});

test('a timed-out cas takes effect only if its expectation held', () => {
  assertLinearizable([
    put(1, 'x', 'a', 0, 1),
    timedOut(cas(2, 'x', { expected: 'a', value: 'b', ok: true }, 2, 2)),
    get(3, 'x', 'b', 3, 4),
  ]);
  assertViolation([
    put(1, 'x', 'c', 0, 1),
    timedOut(cas(2, 'x', { expected: 'a', value: 'b', ok: true }, 2, 2)),
    get(3, 'x', 'b', 3, 4),
  ], 'x');
});

test('a timed-out read constrains nothing', () => {
  assertLinearizable([put(1, 'x', 'a', 0, 1), timedOut(get(2, 'x', 'never-written', 2, 3))]);
  const result = checkLinearizability([timedOut(get(2, 'x', null, 0, 1))]);
  assert.equal(result.ok, true);
  assert.equal(result.operationsChecked, 1);
});

test('many timed-out writes pending at once do not blow up the search', () => {
  // 40 clients time out writing distinct values, concurrently; a read then sees one of them. Trying every
  // subset of the pending writes would need about 2^40 steps.
  const history: Operation[] = [put(0, 'x', 'start', 0, 1)];
  for (let client = 1; client <= 40; client += 1) history.push(timedOut(put(client, 'x', `v${client}`, 2, 2)));
  for (let read = 0; read < 20; read += 1) history.push(get(41, 'x', 'start', 3 + read * 2, 4 + read * 2));
  history.push(get(41, 'x', 'v17', 100, 101), get(41, 'x', 'v3', 102, 103));
  assertLinearizable(history);
  history.push(get(41, 'x', 'v17', 104, 105)); // v17 cannot come back: each write happens at most once
  assertViolation(history, 'x');
});

test('keys are checked independently and the violating key is reported', () => {
  const result = checkLinearizability([
    put(1, 'x', 'a', 0, 1),
    put(1, 'y', 'a', 0, 1),
    get(2, 'x', 'a', 2, 3),
    get(2, 'y', 'b', 2, 3),
  ]);
  assert.equal(result.ok, false);
  assert.equal(result.violation?.key, 'y');
  assert.deepEqual(result.violation?.operations, [put(1, 'y', 'a', 0, 1), get(2, 'y', 'b', 2, 3)]);
  assert.equal(result.keysChecked, 2);
});

test('the violation message quotes the longest linearizable prefix and the operation that fails', () => {
  const message = assertViolation([
    put(1, 'x', 'a', 0, 1),
    timedOut(put(2, 'x', 'b', 2, 2)),
    get(3, 'x', 'b', 3, 4),
    put(1, 'x', 'c', 5, 6),
    get(3, 'x', 'b', 7, 8),
  ], 'x');
  assert.match(message, /orders 4 of 5 operations:/);
  assert.match(message, /client 2 put\("x", "b"\) -> \? \[2, timed out\] ms/);
  assert.match(message, /value is "c"/);
  assert.match(message, /\n {2}client 3 get\("x"\) -> "b" \[7, 8\] ms$/);
});

test('malformed operations are rejected', () => {
  assert.throws(() => checkLinearizability([get(1, 'x', null, 5, 4)]), /call must not be after return/);
  assert.throws(() => checkLinearizability([{ ...get(1, 'x', null, 5, 6), return: Infinity }]), /finite return/);
  assert.throws(() => checkLinearizability([{ ...get(1, 'x', null, 5, 6), output: null }]), /return = Infinity/);
  assert.throws(() => checkLinearizability([{ ...get(1, 'x', null, 5, 6), output: { kind: 'put' } }]), /kind must match/);
  assert.throws(() => checkLinearizability([{ ...get(1, 'x', null, 5, 6), call: Number.NaN }]), /call time must be finite/);
  assert.throws(() => checkLinearizability([], { maxSearchSteps: 0 }), /maxSearchSteps/);
});

test('describeOperation writes one readable line', () => {
  assert.equal(describeOperation(get(2, 'x', 'a', 6, 9)), 'client 2 get("x") -> "a" [6, 9] ms');
  assert.equal(describeOperation(cas(1, 'k', { expected: null, value: 'v', ok: false }, 1, 2)), 'client 1 cas("k", absent => "v") -> failed [1, 2] ms');
  assert.equal(describeOperation(timedOut(put(3, 'k', 'v', 4, 4))), 'client 3 put("k", "v") -> ? [4, timed out] ms');
});

// ---------------------------------------------------------------------------------------------------------
// Generated histories. A small PRNG of our own keeps every case replayable from its seed.

class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** mulberry32: a uniform float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let value = this.#state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }

  integer(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.integer(items.length)];
    assert.ok(item !== undefined);
    return item;
  }
}

interface GeneratorShape {
  readonly clients: number;
  readonly keys: readonly string[];
  readonly operationsMax: number;
  readonly timeoutProbability: number;
}

const smallShape: GeneratorShape = { clients: 3, keys: ['x', 'y'], operationsMax: 8, timeoutProbability: 0.2 };
const values = ['a', 'b', 'c'];

function randomInput(random: Random, keys: readonly string[]): KvInput {
  const key = random.pick(keys);
  const roll = random.integer(3);
  if (roll === 0) return { kind: 'get', key };
  if (roll === 1) return { kind: 'put', key, value: random.pick(values) };
  return { kind: 'cas', key, expected: random.pick([null, ...values]), value: random.pick(values) };
}

/** What an atomic register answers to `input`, updating `registers`. */
function applyAtomically(registers: Map<string, string>, input: KvInput): KvOutput {
  const current = registers.get(input.key) ?? null;
  if (input.kind === 'get') return { kind: 'get', value: current };
  if (input.kind === 'put') {
    registers.set(input.key, input.value);
    return { kind: 'put' };
  }
  const ok = current === input.expected;
  if (ok) registers.set(input.key, input.value);
  return { kind: 'cas', ok };
}

/**
 * A history of sequential clients against a real atomic register: each operation takes effect at a random
 * instant inside its interval. A timed-out one takes effect at a random instant after its call (possibly
 * after the client moved on, or after everything else), or never.
 */
function generateLinearizable(random: Random, shape: GeneratorShape, operationCount: number): Operation[] {
  const clientFreeAt = new Array<number>(shape.clients).fill(0);
  const planned: { clientId: number; input: KvInput; call: number; returned: number; timedOut: boolean; effectAt: number }[] = [];
  for (let index = 0; index < operationCount; index += 1) {
    const clientId = random.integer(shape.clients);
    const call = (clientFreeAt[clientId] ?? 0) + random.integer(4);
    const returned = call + random.integer(7);
    clientFreeAt[clientId] = returned;
    const timedOut = random.next() < shape.timeoutProbability;
    const effectAt = !timedOut ? call + random.next() * (returned - call)
      : random.next() < 0.3 ? Infinity : call + random.next() * 20;
    planned.push({ clientId, input: randomInput(random, shape.keys), call, returned, timedOut, effectAt });
  }
  const outputs = new Map<number, KvOutput>();
  const registers = new Map<string, string>();
  const byEffect = planned.map((_, index) => index).sort((left, right) => (planned[left]?.effectAt ?? 0) - (planned[right]?.effectAt ?? 0));
  for (const index of byEffect) {
    const operation = planned[index];
    assert.ok(operation !== undefined);
    if (operation.effectAt !== Infinity) outputs.set(index, applyAtomically(registers, operation.input));
  }
  return planned.map((operation, index) => ({
    clientId: operation.clientId, input: operation.input, call: operation.call,
    output: operation.timedOut ? null : outputs.get(index) ?? null,
    return: operation.timedOut ? Infinity : operation.returned,
  }));
}

/** Breaks a history a little: one answer is replaced by a random one, or one interval moves. */
function mutate(random: Random, history: readonly Operation[]): Operation[] {
  const mutated = [...history];
  const index = random.integer(mutated.length);
  const operation = mutated[index];
  assert.ok(operation !== undefined);
  if (operation.output === null || random.next() < 0.3) {
    const shift = random.integer(9) - 4;
    const call = Math.max(0, operation.call + shift);
    mutated[index] = { ...operation, call, return: operation.output === null ? Infinity : Math.max(call, operation.return + shift) };
  } else if (operation.output.kind === 'get') {
    mutated[index] = { ...operation, output: { kind: 'get', value: random.pick([null, ...values]) } };
  } else if (operation.output.kind === 'cas') {
    mutated[index] = { ...operation, output: { kind: 'cas', ok: !operation.output.ok } };
  } else {
    mutated[index] = { ...operation, input: { kind: 'put', key: operation.input.key, value: random.pick(values) } };
  }
  return mutated;
}

function describeHistory(history: readonly Operation[]): string {
  return history.map(describeOperation).join('\n');
}

test('histories of a real atomic register are always linearizable (property)', () => {
  for (let seed = 1; seed <= 600; seed += 1) {
    const random = new Random(seed);
    const history = generateLinearizable(random, smallShape, 1 + random.integer(smallShape.operationsMax));
    const result = checkLinearizability(history);
    assert.equal(result.ok, true, `seed ${seed}:\n${describeHistory(history)}\n${result.violation?.message}`);
    assert.equal(result.exhausted, false, `seed ${seed}`);
    assert.equal(isLinearizableByBruteForce(history), true, `reference disagrees, seed ${seed}:\n${describeHistory(history)}`);
  }
});

test('on perturbed and random histories the verdict equals the brute-force reference (property)', () => {
  const verdicts = { linearizable: 0, violating: 0 };
  for (let seed = 1; seed <= 1500; seed += 1) {
    const random = new Random(1_000_000 + seed);
    const operationCount = 1 + random.integer(smallShape.operationsMax);
    const base = generateLinearizable(random, smallShape, operationCount);
    // Mostly near misses, which are the hard cases; sometimes two mutations.
    let history = mutate(random, base);
    if (random.next() < 0.3) history = mutate(random, history);
    const expected = isLinearizableByBruteForce(history);
    const result = checkLinearizability(history);
    assert.equal(result.exhausted, false, `seed ${seed}`);
    assert.equal(result.ok, expected, `seed ${seed}, reference says ${expected}:\n${describeHistory(history)}\n${result.violation?.message}`);
    verdicts[expected ? 'linearizable' : 'violating'] += 1;
  }
  // Both verdicts must be common, or the comparison proves little.
  assert.ok(verdicts.linearizable > 300, `linearizable cases: ${verdicts.linearizable}`);
  assert.ok(verdicts.violating > 300, `violating cases: ${verdicts.violating}`);
});

test('a simulator-sized history of 2000 operations over 5 keys checks within the default bound', () => {
  const shape: GeneratorShape = { clients: 10, keys: ['a', 'b', 'c', 'd', 'e'], operationsMax: 2000, timeoutProbability: 0.03 };
  const random = new Random(42);
  const history = generateLinearizable(random, shape, shape.operationsMax);
  const result = assertLinearizable(history);
  assert.equal(result.keysChecked, 5);
  assert.equal(result.operationsChecked, 2000);

  // The same history with one read answered from nowhere.
  const readIndex = history.findIndex((operation, index) => index > 1000 && operation.output?.kind === 'get');
  const read = history[readIndex];
  assert.ok(read !== undefined);
  const broken = [...history];
  broken[readIndex] = { ...read, output: { kind: 'get', value: 'never-written' } };
  assertViolation(broken, read.input.key);
});

test('2000 operations on one hot key with 10% timed out check within the default bound', () => {
  // Trying timed-out writes only where the known operations are stuck keeps this near 160,000 steps;
  // trying them first, in call order, needs 1.5 million.
  const shape: GeneratorShape = { clients: 10, keys: ['hot'], operationsMax: 2000, timeoutProbability: 0.1 };
  const history = generateLinearizable(new Random(5), shape, shape.operationsMax);
  assert.ok(history.filter((operation) => operation.output === null).length > 150);
  assertLinearizable(history);
});

test('the search gives up as exhausted, never as violated, when maxSearchSteps is too small', () => {
  assert.ok(searchStepsPerKeyMax >= 100_000);
  const random = new Random(7);
  const history = generateLinearizable(random, { ...smallShape, keys: ['x'], timeoutProbability: 0 }, 40);
  const tiny = checkLinearizability(history, { maxSearchSteps: 3 });
  assert.equal(tiny.exhausted, true);
  assert.equal(tiny.ok, true);
  assert.equal(tiny.violation, null);
  assertLinearizable(history);

  const stale = [put(1, 'x', 'a', 0, 5), put(2, 'x', 'b', 6, 10), get(3, 'x', 'a', 11, 12)];
  const unsure = checkLinearizability(stale, { maxSearchSteps: 2 });
  assert.equal(unsure.exhausted, true);
  assert.equal(unsure.ok, true);
  assert.equal(unsure.violation, null);
  assertViolation(stale, 'x');
});
