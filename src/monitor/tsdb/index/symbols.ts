/**
 * The symbol table: every distinct label name and value, stored once and reference-counted. The in-memory
 * index interns label strings through it so that series share them; a block writer will take its sorted
 * list as the index's symbol section.
 */
import { assert } from '../errors.ts';
import { compareStrings } from '../labels.ts';

/** A dense small integer naming one symbol while it is referenced. IDs of released symbols are reused. */
export type SymbolId = number;

/**
 * Interned strings with reference counts.
 *
 * @example
 * const symbols = new SymbolTable();
 * const id = symbols.intern('job');
 * symbols.symbol(id); // 'job'
 * symbols.release(id); // the last reference: 'job' is forgotten
 */
export class SymbolTable {
  #idsBySymbol = new Map<string, SymbolId>();
  /** Invariant: #symbols[id] is defined exactly when #referenceCounts[id] > 0. */
  #symbols: (string | undefined)[] = [];
  #referenceCounts: number[] = [];
  #freeIds: SymbolId[] = [];

  /** Distinct symbols currently referenced. */
  get size(): number {
    return this.#idsBySymbol.size;
  }

  /** Adds one reference to `symbol` and returns its ID. */
  intern(symbol: string): SymbolId {
    const existing = this.#idsBySymbol.get(symbol);
    if (existing !== undefined) {
      this.#referenceCounts[existing]! += 1;
      return existing;
    }
    const id = this.#freeIds.pop() ?? this.#symbols.length;
    assert(this.#symbols[id] === undefined, 'a fresh symbol ID is unused');
    this.#symbols[id] = symbol;
    this.#referenceCounts[id] = 1;
    this.#idsBySymbol.set(symbol, id);
    return id;
  }

  /** Drops one reference; the symbol is forgotten when none remain. */
  release(id: SymbolId): void {
    const symbol = this.#symbols[id];
    assert(symbol !== undefined, 'released symbol is referenced');
    const remaining = this.#referenceCounts[id]! - 1;
    assert(remaining >= 0, 'reference counts never go negative');
    this.#referenceCounts[id] = remaining;
    if (remaining > 0) return;
    this.#symbols[id] = undefined;
    this.#idsBySymbol.delete(symbol);
    this.#freeIds.push(id);
  }

  /** The string for a referenced ID. */
  symbol(id: SymbolId): string {
    const symbol = this.#symbols[id];
    assert(symbol !== undefined, 'symbol ID is referenced');
    return symbol;
  }

  /** The ID of `symbol`, or undefined when it is not referenced. */
  lookup(symbol: string): SymbolId | undefined {
    return this.#idsBySymbol.get(symbol);
  }

  /** References held on `symbol` (0 when absent). */
  referenceCount(symbol: string): number {
    const id = this.#idsBySymbol.get(symbol);
    return id === undefined ? 0 : this.#referenceCounts[id]!;
  }

  /** Every referenced symbol in UTF-8 byte order. */
  sorted(): string[] {
    return [...this.#idsBySymbol.keys()].sort(compareStrings);
  }
}
