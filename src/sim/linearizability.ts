/**
 * The linearizability checker the simulator runs over client histories of keel's KV API.
 *
 * Algorithm: Wing & Gong's search with Lowe's memoization ("Testing for linearizability", Lowe 2017,
 * §3–4), as Porcupine runs it.
 * - The history is split per key. A KV store is linearizable iff each key's register is (locality,
 *   Herlihy & Wing 1990 §3.3; "P-compositionality", Horn & Kroening 2015), and small searches are
 *   exponentially cheaper than one big one.
 * - Per key, the call and return events sit in a doubly linked list sorted by time. A depth-first search
 *   walks it: at a call it tries to linearize the operation next (step the register model, unlink the
 *   call and its return, restart from the head); at a return it has met an operation that had to come
 *   next but could not, so it backtracks.
 * - Lowe's cache remembers every (set of linearized operations, register value) already explored; such
 *   a configuration fully determines the rest of the search, so it is never explored twice.
 *
 * Unknown outcomes (the client timed out: `output: null`, `return: Infinity`): the operation may have taken
 * effect at any point after its call, or never. Its return would sort after every known event, so it has
 * none; any output is accepted, and the search is done once every operation with a known output is
 * linearized. Two refinements keep many timed-out writes from making the search exponential: they are
 * tried only where the known operations are stuck (see `KeySearch`), and some orders that cannot matter
 * are cut (see `stepRegister`).
 *
 * Pure: no I/O, no clock, no randomness, so the simulator stays replayable from its seed.
 */

export type KvInput =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  /** `expected: null` means the key must be absent. */
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

export type KvOutput =
  /** `value: null` means the key was absent. */
  | { readonly kind: 'get'; readonly value: string | null }
  | { readonly kind: 'put' }
  | { readonly kind: 'cas'; readonly ok: boolean };

export interface Operation {
  readonly clientId: number;
  readonly input: KvInput;
  /** Simulated ms when the client sent the request. */
  readonly call: number;
  /** `null` when the outcome is unknown (the client timed out). */
  readonly output: KvOutput | null;
  /** Simulated ms when the answer arrived; `Infinity` exactly when the outcome is unknown. */
  readonly return: number;
}

export interface LinearizabilityViolation {
  readonly key: string;
  /** The longest linearizable prefix found, and the operation that could not follow it. */
  readonly message: string;
  /** The key's whole history, sorted by call time. */
  readonly operations: readonly Operation[];
}

export interface LinearizabilityResult {
  /** False only when some key's history is proven not linearizable. */
  readonly ok: boolean;
  /** Keys whose search ran; the check stops at the first violating key. */
  readonly keysChecked: number;
  /** Operations on the keys counted in `keysChecked`. */
  readonly operationsChecked: number;
  /** True when some key's search hit a work bound: its outcome is unknown, and `ok` stays true. */
  readonly exhausted: boolean;
  readonly violation: LinearizabilityViolation | null;
}

export interface LinearizabilityOptions {
  /** Upper bound on search steps per key; defaults to `searchStepsPerKeyMax`. */
  readonly maxSearchSteps?: number;
}

/**
 * Default upper bound on search steps per key (a step visits one event). A history of 2000 operations from
 * 10 concurrent clients on a single key takes about 100,000 steps; a million steps is roughly 50–150 ms,
 * small enough that a pathological history cannot hang a seed.
 */
export const searchStepsPerKeyMax = 1_000_000;

/**
 * Upper bound on the memory of one key's visited-configuration cache; reaching it counts as exhausted. An
 * entry takes 4 * (operations / 32 + 4) bytes and a step adds at most one, so this binds before
 * `searchStepsPerKeyMax` only on keys with more than about 400 operations.
 */
export const visitedCacheBytesPerKeyMax = 64 * 1024 * 1024;

/** Upper bound on the operations quoted in a violation message; the tail of the prefix is what matters. */
export const violationMessageOperationsMax = 8;

/**
 * Checks that `history` is linearizable with respect to a map of atomic registers, every key initially
 * absent.
 *
 * @example
 * ```ts
 * const result = checkLinearizability([
 *   { clientId: 1, input: { kind: 'put', key: 'x', value: 'a' }, call: 0, output: { kind: 'put' }, return: 5 },
 *   { clientId: 2, input: { kind: 'get', key: 'x' }, call: 6, output: { kind: 'get', value: null }, return: 9 },
 * ]);
 * // result.ok === false: the get started after the put had returned, so it must see "a".
 * ```
 */
export function checkLinearizability(
  history: readonly Operation[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const searchStepsMax = options.maxSearchSteps ?? searchStepsPerKeyMax;
  assert(Number.isInteger(searchStepsMax) && searchStepsMax >= 1, `maxSearchSteps must be an integer >= 1, got ${searchStepsMax}`);
  for (const operation of history) assertOperationWellFormed(operation);

  const operationsByKey = partitionByKey(history);
  // Sorted so that which violation is reported does not depend on the order of the history.
  const keys = [...operationsByKey.keys()].sort();
  let keysChecked = 0;
  let operationsChecked = 0;
  let exhausted = false;
  for (const key of keys) {
    const operations = operationsByKey.get(key);
    assert(operations !== undefined && operations.length > 0, 'every partitioned key has operations');
    keysChecked += 1;
    operationsChecked += operations.length;
    const outcome = searchKey(prepareKey(operations), searchStepsMax);
    if (outcome.kind === 'exhausted') exhausted = true;
    if (outcome.kind === 'violation') {
      const violation = { key, message: describeViolation(key, outcome), operations: outcome.prepared.history };
      return { ok: false, keysChecked, operationsChecked, exhausted, violation };
    }
  }
  assert(keysChecked === keys.length, 'without a violation every key is checked');
  assert(operationsChecked === history.length, 'without a violation every operation is checked');
  return { ok: true, keysChecked, operationsChecked, exhausted, violation: null };
}

/**
 * One line describing an operation, for violation messages and simulator traces.
 *
 * @example
 * ```ts
 * describeOperation({ clientId: 2, input: { kind: 'get', key: 'x' }, call: 6, output: { kind: 'get', value: 'a' }, return: 9 });
 * // 'client 2 get("x") -> "a" [6, 9] ms'
 * ```
 */
export function describeOperation(operation: Operation): string {
  const input = operation.input;
  const call =
    input.kind === 'get' ? `get(${quote(input.key)})`
    : input.kind === 'put' ? `put(${quote(input.key)}, ${quote(input.value)})`
    : `cas(${quote(input.key)}, ${quote(input.expected)} => ${quote(input.value)})`;
  const output = operation.output;
  const result =
    output === null ? '?'
    : output.kind === 'get' ? quote(output.value)
    : output.kind === 'put' ? 'ok'
    : output.ok ? 'ok' : 'failed';
  const interval = operation.output === null ? `[${operation.call}, timed out]` : `[${operation.call}, ${operation.return}]`;
  return `client ${operation.clientId} ${call} -> ${result} ${interval} ms`;
}

function quote(value: string | null): string {
  return value === null ? 'absent' : JSON.stringify(value);
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`linearizability: assertion failed: ${message}`);
}

function assertOperationWellFormed(operation: Operation): void {
  const label = describeOperation(operation);
  assert(Number.isFinite(operation.call), `call time must be finite: ${label}`);
  if (operation.output === null) {
    assert(operation.return === Infinity, `an unknown outcome must have return = Infinity: ${label}`);
  } else {
    assert(Number.isFinite(operation.return), `a known outcome must have a finite return time: ${label}`);
    assert(operation.call <= operation.return, `call must not be after return: ${label}`);
    assert(operation.output.kind === operation.input.kind, `output kind must match input kind: ${label}`);
  }
}

function partitionByKey(history: readonly Operation[]): Map<string, Operation[]> {
  const operationsByKey = new Map<string, Operation[]>();
  for (const operation of history) {
    const operations = operationsByKey.get(operation.input.key);
    if (operations === undefined) operationsByKey.set(operation.input.key, [operation]);
    else operations.push(operation);
  }
  return operationsByKey;
}

// ---------------------------------------------------------------------------------------------------------
// One key's history, compiled into flat arrays for the search.

/** How an operation moves the register; unknown outcomes get their own kinds because any output is accepted. */
const StepKind = { get: 0, put: 1, casSucceeded: 2, casFailed: 3, unknownPut: 4, unknownCas: 5 } as const;

/** Register values are interned per key; the absent value is always 0. */
const absentValueId = 0;

interface PreparedKey {
  /** The key's whole history sorted by call time, for the violation report. */
  readonly history: readonly Operation[];
  /** The operations searched, indexed by operation number: `history` minus timed-out gets. */
  readonly operations: readonly Operation[];
  readonly stepKind: Uint8Array;
  /** The value a put or cas writes, or the value a get observed. */
  readonly valueId: Int32Array;
  /** The value a cas expects. */
  readonly expectedId: Int32Array;
  /** 1 when the output is known. Invariant: knownCount is the number of ones. */
  readonly known: Uint8Array;
  readonly knownCount: number;
  /** Interned value id to value, for messages. */
  readonly values: readonly (string | null)[];
}

function prepareKey(keyHistory: readonly Operation[]): PreparedKey {
  const history = [...keyHistory].sort((left, right) => left.call - right.call);
  // A get whose answer never arrived neither changes the register nor constrains it: leave it out.
  const operations = history.filter((operation) => operation.output !== null || operation.input.kind !== 'get');
  const valueIds = new Map<string | null, number>([[null, absentValueId]]);
  const values: (string | null)[] = [null];
  const intern = (value: string | null): number => {
    const existing = valueIds.get(value);
    if (existing !== undefined) return existing;
    valueIds.set(value, values.length);
    values.push(value);
    return values.length - 1;
  };
  const stepKind = new Uint8Array(operations.length);
  const valueId = new Int32Array(operations.length);
  const expectedId = new Int32Array(operations.length);
  const known = new Uint8Array(operations.length);
  let knownCount = 0;
  operations.forEach((operation, index) => {
    const { input, output } = operation;
    stepKind[index] = stepKindOf(operation);
    valueId[index] = intern(input.kind === 'get' ? (output?.kind === 'get' ? output.value : null) : input.value);
    expectedId[index] = input.kind === 'cas' ? intern(input.expected) : absentValueId;
    known[index] = output === null ? 0 : 1;
    knownCount += known[index] ?? 0;
  });
  assert(knownCount <= operations.length, 'known operations are a subset');
  return { history, operations, stepKind, valueId, expectedId, known, knownCount, values };
}

function stepKindOf(operation: Operation): number {
  const { input, output } = operation;
  if (output === null) {
    assert(input.kind !== 'get', 'timed-out gets are filtered out before the search');
    return input.kind === 'put' ? StepKind.unknownPut : StepKind.unknownCas;
  }
  if (output.kind === 'get') return StepKind.get;
  if (output.kind === 'put') return StepKind.put;
  return output.ok ? StepKind.casSucceeded : StepKind.casFailed;
}

/**
 * The register value after linearizing `operation` from `current`, or -1 when it cannot go next.
 *
 * Two cuts for unknown outcomes, each sound because leaving a timed-out operation out of a valid
 * linearization leaves it valid (nothing has to follow it in real time, and the states the remaining
 * operations see do not change when it had no effect or was overwritten at once):
 * - an unknown operation that would not change the value is never linearized;
 * - nothing that overwrites the value (a put) is linearized right after an unknown operation.
 * Without the second cut, k timed-out puts pending at once make the search try 2^k subsets of them.
 */
function stepRegister(prepared: PreparedKey, operation: number, current: number, afterUnknown: boolean): number {
  const operand = prepared.valueId[operation] ?? -1;
  const expected = prepared.expectedId[operation] ?? -1;
  switch (prepared.stepKind[operation]) {
    case StepKind.get: return current === operand ? current : -1;
    case StepKind.put: return afterUnknown ? -1 : operand;
    case StepKind.casSucceeded: return current === expected ? operand : -1;
    case StepKind.casFailed: return current !== expected ? current : -1;
    case StepKind.unknownPut: return afterUnknown || current === operand ? -1 : operand;
    case StepKind.unknownCas: return current === expected && current !== operand ? operand : -1;
    default: throw new Error(`linearizability: assertion failed: operation ${operation} has no step kind`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The event lists. Entries are the call and return events of known operations and the calls of unknown ones
// (whose return would be at infinity), numbered in time order, so comparing entries compares times. Known
// events are linked in one list and unknown calls in another, each between a head and a tail sentinel.

const EntryKind = { knownCall: 0, knownReturn: 1, unknownCall: 2 } as const;

interface EventLists {
  /** Invariant: next[previous[e]] === e and previous[next[e]] === e for every entry e still linked. */
  readonly next: Int32Array;
  readonly previous: Int32Array;
  readonly entryKind: Uint8Array;
  readonly entryOperation: Int32Array;
  /** For a known call entry, its return entry; otherwise -1. */
  readonly returnEntry: Int32Array;
  readonly knownHead: number;
  readonly unknownHead: number;
  /** Invariant: both tails number above every entry, so `entry < barrier` stops a walk at its tail. */
  readonly knownTail: number;
  readonly unknownTail: number;
}

function buildEventLists(prepared: PreparedKey): EventLists {
  const order = sortedEvents(prepared);
  const entryCount = order.length;
  const [knownHead, knownTail, unknownHead, unknownTail] = [entryCount, entryCount + 1, entryCount + 2, entryCount + 3];
  const lists: EventLists = {
    next: new Int32Array(entryCount + 4).fill(-1), previous: new Int32Array(entryCount + 4).fill(-1),
    entryKind: new Uint8Array(entryCount), entryOperation: new Int32Array(entryCount),
    returnEntry: new Int32Array(entryCount).fill(-1), knownHead, unknownHead, knownTail, unknownTail,
  };
  const callEntryOf = new Int32Array(prepared.operations.length).fill(-1);
  let knownLast = knownHead;
  let unknownLast = unknownHead;
  order.forEach(({ operation, isCall }, entry) => {
    lists.entryOperation[entry] = operation;
    const known = prepared.known[operation] === 1;
    lists.entryKind[entry] = !known ? EntryKind.unknownCall : isCall ? EntryKind.knownCall : EntryKind.knownReturn;
    if (isCall) callEntryOf[operation] = entry;
    else lists.returnEntry[callEntryOf[operation] ?? -1] = entry;
    if (known) knownLast = append(lists, knownLast, entry);
    else unknownLast = append(lists, unknownLast, entry);
  });
  append(lists, knownLast, knownTail);
  append(lists, unknownLast, unknownTail);
  assert(callEntryOf.every((entry) => entry >= 0), 'every operation has a call entry');
  return lists;
}

/** Call and return events in time order; unknown operations contribute only their call. */
function sortedEvents(prepared: PreparedKey): { operation: number; isCall: boolean; time: number }[] {
  const events: { operation: number; isCall: boolean; time: number }[] = [];
  prepared.operations.forEach((operation, index) => {
    events.push({ operation: index, isCall: true, time: operation.call });
    if (prepared.known[index] === 1) events.push({ operation: index, isCall: false, time: operation.return });
  });
  // Equal times sort calls first: an operation returning at t and one called at t count as concurrent,
  // the reading that never reports a violation that clock granularity could explain.
  events.sort((left, right) =>
    left.time - right.time || Number(right.isCall) - Number(left.isCall) || left.operation - right.operation);
  assert(events.length === prepared.operations.length + prepared.knownCount, 'two events per known operation, one per unknown');
  return events;
}

function append(lists: EventLists, last: number, entry: number): number {
  lists.next[last] = entry;
  lists.previous[entry] = last;
  return entry;
}

/** Unlinks an entry. Dancing links: the entry keeps its own pointers, so `relink` can put it back. */
function unlink(lists: EventLists, entry: number): void {
  const before = lists.previous[entry] ?? -1;
  const after = lists.next[entry] ?? -1;
  assert(before >= 0 && after >= 0, 'only linked entries are unlinked');
  lists.next[before] = after;
  lists.previous[after] = before;
}

/** Undoes `unlink`; correct because entries are relinked in the reverse order of their unlinking. */
function relink(lists: EventLists, entry: number): void {
  const before = lists.previous[entry] ?? -1;
  const after = lists.next[entry] ?? -1;
  assert(before >= 0 && after >= 0, 'a relinked entry kept its neighbours');
  lists.next[before] = entry;
  lists.previous[after] = entry;
}

/** Removes an operation that was just linearized: its call and, when known, its return. */
function lift(lists: EventLists, callEntry: number): void {
  unlink(lists, callEntry);
  const returnEntry = lists.returnEntry[callEntry] ?? -1;
  if (returnEntry !== -1) unlink(lists, returnEntry);
}

function unlift(lists: EventLists, callEntry: number): void {
  const returnEntry = lists.returnEntry[callEntry] ?? -1;
  if (returnEntry !== -1) relink(lists, returnEntry);
  relink(lists, callEntry);
}

// ---------------------------------------------------------------------------------------------------------
// Lowe's cache: the set of (linearized-operations bitset, search state) configurations already explored.

/** Initial entry capacity of a visited cache; a power of two, because buckets are picked by masking. */
const visitedCacheEntriesInitial = 64;

/**
 * An allocation-free hash set over fixed-width bitsets. Entries live in one growing Uint32Array, chained
 * per bucket. The bitset hash is Zobrist-style (XOR of a fixed pseudo-random word per set bit), so the
 * search keeps it up to date in O(1) per step instead of rehashing the bitset.
 */
class VisitedCache {
  readonly #wordsPerBitset: number;
  /** Entry layout: [hash, state, ...bitset words]. */
  readonly #entryWords: number;
  #entries: Uint32Array;
  /** Invariant: chain[e] is the next entry in e's bucket, or -1. */
  #chain: Int32Array;
  #buckets: Int32Array;
  #count = 0;

  constructor(wordsPerBitset: number) {
    assert(wordsPerBitset >= 1, 'a bitset has at least one word');
    this.#wordsPerBitset = wordsPerBitset;
    this.#entryWords = wordsPerBitset + 2;
    const capacity = visitedCacheEntriesInitial;
    this.#entries = new Uint32Array(capacity * this.#entryWords);
    this.#chain = new Int32Array(capacity);
    this.#buckets = new Int32Array(capacity).fill(-1);
  }

  get bytes(): number {
    return this.#entries.byteLength + this.#chain.byteLength + this.#buckets.byteLength;
  }

  /** Adds (bitset, state) and returns true, or returns false when it was already present. */
  add(bitset: Uint32Array, state: number, hash: number): boolean {
    assert(bitset.length === this.#wordsPerBitset, 'bitset width is fixed per key');
    const bucket = hash & (this.#buckets.length - 1);
    for (let entry = this.#buckets[bucket] ?? -1; entry !== -1; entry = this.#chain[entry] ?? -1) {
      if (this.#matches(entry, bitset, state, hash)) return false;
    }
    if (this.#count === this.#chain.length) this.#grow();
    const entry = this.#count;
    const offset = entry * this.#entryWords;
    this.#entries[offset] = hash;
    this.#entries[offset + 1] = state;
    this.#entries.set(bitset, offset + 2);
    const target = hash & (this.#buckets.length - 1);
    this.#chain[entry] = this.#buckets[target] ?? -1;
    this.#buckets[target] = entry;
    this.#count += 1;
    return true;
  }

  #matches(entry: number, bitset: Uint32Array, state: number, hash: number): boolean {
    const offset = entry * this.#entryWords;
    if (this.#entries[offset] !== hash || this.#entries[offset + 1] !== state) return false;
    for (let word = 0; word < bitset.length; word += 1) {
      if (this.#entries[offset + 2 + word] !== bitset[word]) return false;
    }
    return true;
  }

  /** Doubles entry capacity and bucket count (load factor stays at most 1), relinking every chain. */
  #grow(): void {
    const capacity = this.#chain.length * 2;
    const entries = new Uint32Array(capacity * this.#entryWords);
    entries.set(this.#entries);
    this.#entries = entries;
    this.#chain = new Int32Array(capacity);
    this.#buckets = new Int32Array(capacity).fill(-1);
    for (let entry = 0; entry < this.#count; entry += 1) {
      const bucket = (this.#entries[entry * this.#entryWords] ?? 0) & (capacity - 1);
      this.#chain[entry] = this.#buckets[bucket] ?? -1;
      this.#buckets[bucket] = entry;
    }
    assert(this.#chain.length === this.#buckets.length, 'one bucket per entry slot');
  }
}

/** A fixed pseudo-random word per operation (murmur3's finalizer over the index), for Zobrist hashing. */
function operationHashes(count: number): Uint32Array {
  const hashes = new Uint32Array(count);
  for (let index = 0; index < count; index += 1) hashes[index] = mix32(index + 0x9e3779b9);
  return hashes;
}

function mix32(value: number): number {
  let hash = value | 0;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------------------
// The search.

type SearchOutcome =
  | { readonly kind: 'linearizable' }
  | { readonly kind: 'exhausted' }
  | {
      readonly kind: 'violation';
      readonly prepared: PreparedKey;
      /** Operation numbers of the longest linearizable prefix found. */
      readonly prefix: readonly number[];
      /** The register value after that prefix. */
      readonly value: number;
      /** The operation that had to be linearized next after that prefix, and could not be. */
      readonly blocked: number;
    };

function searchKey(prepared: PreparedKey, searchStepsMax: number): SearchOutcome {
  if (prepared.knownCount === 0) return { kind: 'linearizable' };
  return new KeySearch(prepared).run(searchStepsMax);
}

/**
 * One key's depth-first search. Its mutable state lives in typed arrays so that a step allocates nothing.
 *
 * The walk: while `#barrier` is -1 it walks the known list, trying each known call, until it meets the
 * first pending known return; that operation must be linearized before anything called after it returned,
 * so its return becomes the barrier. Then the walk tries each timed-out operation called before the
 * barrier, and backtracks on reaching it. Known operations go first because most timed-out writes explain
 * nothing, and trying them only where the known operations are stuck keeps them from leading the search
 * astray. The order changes only speed: every operation that may go next is tried before backtracking.
 */
class KeySearch {
  readonly #prepared: PreparedKey;
  readonly #lists: EventLists;
  readonly #cache: VisitedCache;
  /** Zobrist words, one per operation. */
  readonly #hashes: Uint32Array;
  /** The linearized operations. Invariant: #hash is the XOR of #hashes over its set bits. */
  readonly #bitset: Uint32Array;
  #hash = 0;
  /** Register value id * 2, plus 1 when the last linearized operation had an unknown outcome. */
  #state = absentValueId * 2;
  /** Per depth: the call entry linearized there, and the state and barrier before it. */
  readonly #stackEntry: Int32Array;
  readonly #stackState: Int32Array;
  readonly #stackBarrier: Int32Array;
  #depth = 0;
  /** Invariant: the number of known operations whose bit in #bitset is clear. */
  #knownRemaining: number;
  #entry: number;
  #barrier = -1;
  #longestPrefix: number[] = [];
  #longestPrefixValue = absentValueId;
  #longestPrefixBlocked = -1;

  constructor(prepared: PreparedKey) {
    const operationCount = prepared.operations.length;
    const wordsPerBitset = Math.ceil(operationCount / 32);
    this.#prepared = prepared;
    this.#lists = buildEventLists(prepared);
    this.#cache = new VisitedCache(wordsPerBitset);
    this.#hashes = operationHashes(operationCount);
    this.#bitset = new Uint32Array(wordsPerBitset);
    this.#stackEntry = new Int32Array(operationCount);
    this.#stackState = new Int32Array(operationCount);
    this.#stackBarrier = new Int32Array(operationCount);
    this.#knownRemaining = prepared.knownCount;
    this.#entry = this.#lists.next[this.#lists.knownHead] ?? -1;
  }

  run(searchStepsMax: number): SearchOutcome {
    const lists = this.#lists;
    for (let step = 0; this.#knownRemaining > 0; step += 1) {
      if (step === searchStepsMax || this.#cache.bytes > visitedCacheBytesPerKeyMax) return { kind: 'exhausted' };
      const entry = this.#entry;
      if (this.#barrier === -1) {
        // Never the known tail: a known operation is pending, and its return comes first.
        assert(entry >= 0 && entry < lists.entryKind.length, 'the known walk stops at a return');
        if (lists.entryKind[entry] === EntryKind.knownReturn) {
          this.#barrier = entry;
          this.#entry = lists.next[lists.unknownHead] ?? -1;
        } else {
          this.#advance(entry);
        }
      } else if (entry < this.#barrier) {
        this.#advance(entry);
      } else if (this.#depth === 0) {
        return this.#violation();
      } else {
        this.#backtrack();
      }
    }
    assert(this.#depth >= this.#prepared.knownCount, 'every known operation is linearized');
    return { kind: 'linearizable' };
  }

  /** Linearizes `entry`'s operation and restarts the walk, or moves on to the next entry. */
  #advance(callEntry: number): void {
    const lists = this.#lists;
    assert(lists.entryKind[callEntry] !== EntryKind.knownReturn, 'only calls are linearized');
    if (this.#tryLinearize(callEntry)) {
      lift(lists, callEntry);
      this.#entry = lists.next[lists.knownHead] ?? -1;
      this.#barrier = -1;
    } else {
      this.#entry = lists.next[callEntry] ?? -1;
    }
  }

  /** Linearizes the operation of `callEntry` next if the model allows it and the result is unexplored. */
  #tryLinearize(callEntry: number): boolean {
    const prepared = this.#prepared;
    const operation = this.#lists.entryOperation[callEntry] ?? -1;
    assert(operation >= 0 && operation < prepared.operations.length, 'a call entry names an operation');
    const nextValue = stepRegister(prepared, operation, this.#state >>> 1, (this.#state & 1) === 1);
    if (nextValue === -1) return false;
    const known = prepared.known[operation] ?? 0;
    const nextState = nextValue * 2 + (1 - known);
    const nextHash = (this.#hash ^ (this.#hashes[operation] ?? 0)) >>> 0;
    toggleBit(this.#bitset, operation);
    if (!this.#cache.add(this.#bitset, nextState, (nextHash ^ mix32(nextState)) >>> 0)) {
      toggleBit(this.#bitset, operation);
      return false;
    }
    this.#stackEntry[this.#depth] = callEntry;
    this.#stackState[this.#depth] = this.#state;
    this.#stackBarrier[this.#depth] = this.#barrier;
    this.#depth += 1;
    this.#state = nextState;
    this.#hash = nextHash;
    this.#knownRemaining -= known;
    return true;
  }

  /** Undoes the last linearization; the walk resumes after it, with the barrier it had then. */
  #backtrack(): void {
    if (this.#depth > this.#longestPrefix.length) this.#recordLongestPrefix();
    this.#depth -= 1;
    const callEntry = this.#stackEntry[this.#depth] ?? -1;
    const operation = this.#lists.entryOperation[callEntry] ?? -1;
    assert(operation >= 0 && hasBit(this.#bitset, operation), 'the operation backtracked over was linearized');
    toggleBit(this.#bitset, operation);
    this.#hash = (this.#hash ^ (this.#hashes[operation] ?? 0)) >>> 0;
    this.#state = this.#stackState[this.#depth] ?? -1;
    this.#barrier = this.#stackBarrier[this.#depth] ?? -1;
    this.#knownRemaining += this.#prepared.known[operation] ?? 0;
    unlift(this.#lists, callEntry);
    this.#entry = this.#lists.next[callEntry] ?? -1;
  }

  /** Runs only at dead ends, so a search that succeeds never pays for it. */
  #recordLongestPrefix(): void {
    const prefix: number[] = [];
    for (let depth = 0; depth < this.#depth; depth += 1) {
      prefix.push(this.#lists.entryOperation[this.#stackEntry[depth] ?? -1] ?? -1);
    }
    this.#longestPrefix = prefix;
    this.#longestPrefixValue = this.#state >>> 1;
    this.#longestPrefixBlocked = this.#lists.entryOperation[this.#barrier] ?? -1;
  }

  #violation(): SearchOutcome {
    assert(this.#barrier >= 0 && this.#depth === 0, 'a violation is a dead end at the root');
    if (this.#longestPrefix.length === 0) this.#recordLongestPrefix();
    assert(this.#longestPrefixBlocked >= 0, 'a violation names the operation that could not be linearized');
    return {
      kind: 'violation', prepared: this.#prepared, prefix: this.#longestPrefix,
      value: this.#longestPrefixValue, blocked: this.#longestPrefixBlocked,
    };
  }
}

function toggleBit(bitset: Uint32Array, index: number): void {
  const word = index >>> 5;
  bitset[word] = (bitset[word] ?? 0) ^ (1 << (index & 31));
}

function hasBit(bitset: Uint32Array, index: number): boolean {
  return ((bitset[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
}

function describeViolation(key: string, outcome: Extract<SearchOutcome, { kind: 'violation' }>): string {
  const { prepared, prefix } = outcome;
  const describe = (operation: number): string => {
    const described = prepared.operations[operation];
    assert(described !== undefined, 'violation refers to a searched operation');
    return describeOperation(described);
  };
  const shown = prefix.slice(-violationMessageOperationsMax);
  const lines = [
    `key ${quote(key)} is not linearizable: the longest linearizable prefix orders ${prefix.length} of ` +
      `${prepared.operations.length} operations` + (shown.length < prefix.length ? `, ending with:` : prefix.length > 0 ? ':' : '.'),
    ...shown.map((operation) => `  ${describe(operation)}`),
    `after which the value is ${quote(prepared.values[outcome.value] ?? null)}, and no order of the remaining operations ` +
      `gets past this one, which must be ordered before everything called after it returned:`,
    `  ${describe(outcome.blocked)}`,
  ];
  return lines.join('\n');
}
