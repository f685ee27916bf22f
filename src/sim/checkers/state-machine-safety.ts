import type { Entry, NodeId } from '../../raft/index.ts';
import { assert } from '../assert.ts';
import { describeIdentity, entryIdentity } from './entry-identity.ts';
import { nodeName, violated } from './violation.ts';

interface AppliedRecord {
  readonly term: number;
  readonly identity: string;
  readonly node: NodeId;
}

/**
 * State-machine safety (Raft Figure 3): no two nodes apply different entries at the same index. Every
 * applied entry is compared with the first one applied at its index; a snapshot installed at an index is
 * compared by term.
 */
export class StateMachineSafetyChecker {
  readonly #applied: (AppliedRecord | undefined)[] = [];

  observeApply(node: NodeId, entry: Entry): void {
    assert(entry.index >= 1, 'applied entries have positive indexes');
    const identity = entryIdentity(entry);
    const known = this.#applied[entry.index];
    if (known === undefined) {
      this.#applied[entry.index] = { term: entry.term, identity, node };
      return;
    }
    if (known.term !== entry.term || known.identity !== identity) {
      violated('state-machine-safety', `${nodeName(node)} applied ${describeIdentity(identity)} (term ${entry.term}) at index ${entry.index}, where ${nodeName(known.node)} applied ${describeIdentity(known.identity)} (term ${known.term})`);
    }
  }

  observeSnapshotInstalled(node: NodeId, index: number, term: number): void {
    const known = this.#applied[index];
    if (known !== undefined && known.term !== term) {
      violated('state-machine-safety', `${nodeName(node)} installed a snapshot at index ${index} term ${term}, where ${nodeName(known.node)} applied an entry of term ${known.term}`);
    }
  }
}
