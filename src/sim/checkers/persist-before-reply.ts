import { type HardState, type Message, MessageType, type NodeId, type Ready } from '../../raft/index.ts';
import { nodeName, violated } from './violation.ts';

/**
 * Persistent state is on stable storage before responding (Raft §5.1, Figure 2 "Persistent state"): an
 * append acknowledgement or a granted vote promises durable state, so it may not leave in the part of a
 * Ready that is sent before the Ready's write is durable. (The end-to-end effect of breaking this, a
 * committed entry lost in a power loss, needs a crash inside an fsync window; this checks the promise.)
 */
export class PersistBeforeReplyChecker {
  /** `ready` was handed out by `node`, whose durable hard state is `durable`. */
  observeReady(node: NodeId, ready: Ready, durable: HardState): void {
    if (ready.messages.length === 0) return;
    const firstWritten = ready.snapshot?.metadata.index ?? ready.entries[0]?.index ?? Infinity;
    for (const m of ready.messages) {
      if (m.type === MessageType.AppResp && !m.reject && m.index >= firstWritten) {
        violated('persist-before-reply', `${nodeName(node)} acknowledged index ${m.index} to ${nodeName(m.to)} before writing it (the write starts at ${firstWritten})`);
      }
      if (m.type === MessageType.VoteResp && !m.reject && !isDurableVote(m, durable)) {
        violated('persist-before-reply', `${nodeName(node)} granted its vote in term ${m.term} to ${nodeName(m.to)} before the vote was durable`);
      }
    }
  }
}

function isDurableVote(m: Message, durable: HardState): boolean {
  return durable.term === m.term && durable.vote === m.to;
}
