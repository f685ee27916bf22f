/**
 * A deliberately simple linearizability checker, the reference the real checker is tested against. It
 * follows the definition literally and shares no code or shortcut with `linearizability.ts`: no
 * partitioning by key, no event list, no cache, no pruning of timed-out operations.
 *
 * A history is linearizable iff some sequence S of its operations exists such that
 * - S holds every operation with a known output, and any subset of those with unknown outputs;
 * - if a returned before b was called (a.return < b.call), a comes before b in S;
 * - replaying S on a map of registers, all absent at first, gives every known output.
 * Exponential: for histories of about ten operations only. Private to tests (hence the underscore).
 */
import type { KvOutput, Operation } from './linearizability.ts';

/** Larger histories would take minutes here; the reference is for small property tests only. */
export const referenceOperationsMax = 12;

export function isLinearizableByBruteForce(history: readonly Operation[]): boolean {
  if (history.length > referenceOperationsMax) {
    throw new Error(`reference checker: ${history.length} operations, at most ${referenceOperationsMax}`);
  }
  return extend(history, [], new Map());
}

/** Tries every operation that may come after `placed`, depth first; succeeds when only unknowns remain. */
function extend(history: readonly Operation[], placed: readonly Operation[], registers: ReadonlyMap<string, string>): boolean {
  const remaining = history.filter((operation) => !placed.includes(operation));
  if (remaining.every((operation) => operation.output === null)) return true;
  for (const candidate of remaining) {
    // Real-time order: nothing already placed may have been called after the candidate returned.
    if (placed.some((earlier) => candidate.return < earlier.call)) continue;
    const next = apply(registers, candidate);
    if (next !== undefined && extend(history, [...placed, candidate], next)) return true;
  }
  return false;
}

/** The registers after `operation`, or undefined when its known output contradicts them. */
function apply(registers: ReadonlyMap<string, string>, operation: Operation): ReadonlyMap<string, string> | undefined {
  const { input } = operation;
  const current = registers.get(input.key) ?? null;
  let actual: KvOutput;
  let written: string | null = current;
  if (input.kind === 'get') {
    actual = { kind: 'get', value: current };
  } else if (input.kind === 'put') {
    actual = { kind: 'put' };
    written = input.value;
  } else {
    const ok = current === input.expected;
    actual = { kind: 'cas', ok };
    if (ok) written = input.value;
  }
  if (operation.output !== null && !outputsEqual(operation.output, actual)) return undefined;
  const next = new Map(registers);
  if (written === null) next.delete(input.key);
  else next.set(input.key, written);
  return next;
}

function outputsEqual(left: KvOutput, right: KvOutput): boolean {
  if (left.kind === 'get' && right.kind === 'get') return left.value === right.value;
  if (left.kind === 'cas' && right.kind === 'cas') return left.ok === right.ok;
  return left.kind === 'put' && right.kind === 'put';
}
