import type { NodeId } from '../../raft/index.ts';
import { nodeName, violated } from './violation.ts';

/**
 * ReadIndex safety (Raft thesis §6.4): a read may be served at index r only if r covers every entry
 * committed before the read began; otherwise it can miss a completed write. The simulator records the
 * highest commit index any node knew when the request reached a member, and checks the read index the core
 * answers against it. A correct leader confirms it is still leader after the request arrived, so no newer
 * leader can have committed more before that moment.
 */
export class ReadIndexChecker {
  observeReadState(node: NodeId, readIndex: number, committedAtArrival: number): void {
    if (readIndex < committedAtArrival) {
      violated('read-index', `${nodeName(node)} was given read index ${readIndex}, but index ${committedAtArrival} was committed before the read began`);
    }
  }
}
