import type { Entry, NodeId } from '../../raft/index.ts';
import { assert } from '../assert.ts';
import { describeIdentity, entryIdentity } from './entry-identity.ts';
import { nodeName, violated } from './violation.ts';

interface Position {
  readonly identity: string;
  /** The term of the entry before it, in the log of the first node seen holding it. */
  readonly previousTerm: number;
  readonly firstHolder: NodeId;
}

/**
 * Log matching (Raft §5.3): if two logs hold an entry with the same index and term, the entries are
 * identical and so are the logs up to it. Checked incrementally: every entry a node writes is compared
 * with the first one seen at that (index, term), including the term of the entry before it. By induction
 * on the index, equal (index, term, previous term) everywhere means equal prefixes everywhere.
 */
export class LogMatchingChecker {
  readonly #positions = new Map<string, Position>();

  /**
   * `entries` are about to be written by `node`, contiguous; `previousTerm` is the term of the entry just
   * before the first one in that node's log (undefined if compacted there).
   */
  observeEntries(node: NodeId, entries: readonly Entry[], previousTerm: number | undefined): void {
    let before = previousTerm;
    for (const [offset, entry] of entries.entries()) {
      assert(offset === 0 || entry.index === entries[offset - 1]!.index + 1, 'written entries are contiguous');
      this.#observe(node, entry, before);
      before = entry.term;
    }
  }

  #observe(node: NodeId, entry: Entry, previousTerm: number | undefined): void {
    const key = `${entry.index}.${entry.term}`;
    const identity = entryIdentity(entry);
    const known = this.#positions.get(key);
    if (known === undefined) {
      if (previousTerm !== undefined) this.#positions.set(key, { identity, previousTerm, firstHolder: node });
      return;
    }
    const where = `index ${entry.index} term ${entry.term}`;
    if (known.identity !== identity) {
      violated('log-matching', `${nodeName(node)} and ${nodeName(known.firstHolder)} hold different entries at ${where}: ${describeIdentity(identity)} vs ${describeIdentity(known.identity)}`);
    }
    if (previousTerm !== undefined && previousTerm !== known.previousTerm) {
      violated('log-matching', `${nodeName(node)} and ${nodeName(known.firstHolder)} agree at ${where} but not before it: term ${previousTerm} vs ${known.previousTerm} at index ${entry.index - 1}`);
    }
  }
}
