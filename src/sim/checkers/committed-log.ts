import { assert } from '../assert.ts';

interface CommittedEntry {
  /** The entry's own term. */
  readonly term: number;
  /**
   * The term in which it was first seen committed (the term of the first node that knew it committed;
   * the leader that commits learns it first). Leaders of later terms must hold it (Raft §5.4.3).
   */
  readonly commitTerm: number;
}

/**
 * The globally committed prefix of the log, as far as any node has learned it. Shared by the checkers
 * that compare logs against what is committed. Written only by CommittedEntryChecker.
 */
export class CommittedLog {
  /** Invariant: entries[i] describes committed entry i, or is undefined if not yet seen. */
  readonly #entries: (CommittedEntry | undefined)[] = [];
  #commitIndex = 0;

  /** The highest index any node has known to be committed. */
  get commitIndex(): number {
    return this.#commitIndex;
  }

  termAt(index: number): number | undefined {
    return this.#entries[index]?.term;
  }

  commitTermAt(index: number): number | undefined {
    return this.#entries[index]?.commitTerm;
  }

  record(index: number, term: number, commitTerm: number): void {
    assert(index >= 1 && term >= 1, () => `committed entry ${index} of term ${term} out of range`);
    assert(commitTerm >= term, 'an entry is committed in its own term or later');
    const known = this.#entries[index];
    if (known !== undefined) {
      assert(known.term === term, 'a recorded committed term never changes');
      if (known.commitTerm <= commitTerm) return;
    }
    this.#entries[index] = { term, commitTerm };
  }

  raiseCommitIndex(index: number): void {
    if (index > this.#commitIndex) this.#commitIndex = index;
  }
}
