import { entrySizeBytes } from './storage.ts';
import { type Entry, type Message, MessageType, None } from './types.ts';

const noEntries: readonly never[] = Object.freeze([]);

/** Builds a message with every field not given set to its zero value. */
export function message(fields: Partial<Message> & { readonly type: MessageType }): Message {
  return {
    from: None,
    to: None,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: noEntries,
    commit: 0,
    snapshot: null,
    reject: false,
    rejectHint: 0,
    context: null,
    leaseTick: 0,
    ...fields,
  };
}

/** Marks a vote request as part of a leadership transfer: voters grant it even inside a leader's lease. */
export const transferContext: Uint8Array = new Uint8Array([0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72]);

export function isTransferContext(context: Uint8Array | null): boolean {
  if (context === null || context.length !== transferContext.length) return false;
  for (let i = 0; i < context.length; i++) if (context[i] !== transferContext[i]) return false;
  return true;
}

/** Messages that promise durable state and so may only leave after the driver's fsync. */
export function needsPersistFirst(type: MessageType): boolean {
  return type === MessageType.AppResp || type === MessageType.VoteResp || type === MessageType.PreVoteResp;
}

/** Messages generated and consumed inside one node; they never travel on the wire. */
export function isLocalMessage(type: MessageType): boolean {
  return type === MessageType.Hup || type === MessageType.Beat || type === MessageType.CheckQuorum
    || type === MessageType.SnapStatus || type === MessageType.Unreachable;
}

export function describeMessage(m: Message): string {
  let text = `${m.type} ${m.from}->${m.to} t${m.term}`;
  if (m.type === MessageType.App) text += ` prev=${m.index}/${m.logTerm} n=${m.entries.length} commit=${m.commit}`;
  else if (m.type === MessageType.AppResp) text += ` idx=${m.index}${m.reject ? ` reject hint=${m.rejectHint}/${m.logTerm}` : ''}`;
  else if (m.type === MessageType.Vote || m.type === MessageType.PreVote) text += ` last=${m.index}/${m.logTerm}`;
  else if (m.type === MessageType.VoteResp || m.type === MessageType.PreVoteResp) text += m.reject ? ' rejected' : ' granted';
  else if (m.type === MessageType.Snap) text += ` snap=${m.snapshot?.metadata.index}/${m.snapshot?.metadata.term}`;
  return text;
}

/**
 * Merges what one batch of outgoing messages says twice to the same peer, for the wire. Per peer, the order
 * of what remains is the order given; between peers nothing is promised, as on any transport.
 *
 * - Two appends to a peer with nothing else to it in between, where the second continues the first (its
 *   previous entry is the first's last), become one: the entries of both, the later commit index. The
 *   leader sends an empty append whenever its commit index moves, and then one with the entries proposed
 *   in the same turn: under load half of its appends were those, each answered on its own.
 *   Merged entries stay within `maxBytes` (the core's `maxSizePerMsgBytes`); an empty append always merges.
 * - Two acceptances of appends to the same peer in the same term, with nothing else to it in between,
 *   become the later one when it acknowledges at least as much: an acknowledgement of index i says the
 *   follower holds everything up to i, so the earlier one adds nothing. Rejections are kept.
 *
 * Returns `messages` itself when nothing merges.
 */
export function coalesceMessages(messages: readonly Message[], maxBytes: number): readonly Message[] {
  if (messages.length < 2) return messages;
  let merged: Message[] | null = null;
  /** Per peer, the position in `merged` of the last message to it. */
  const lastTo = new Map<number, number>();
  for (let index = 0; index < messages.length; index++) {
    const m = messages[index] as Message;
    const position = lastTo.get(m.to);
    if (position !== undefined) {
      // Until something merges, positions in `merged` are positions in `messages`.
      const combined = combine((merged ?? messages)[position] as Message, m, maxBytes);
      if (combined !== null) {
        merged ??= messages.slice(0, index);
        merged[position] = combined;
        continue;
      }
    }
    if (merged !== null) merged.push(m);
    lastTo.set(m.to, merged === null ? index : merged.length - 1);
  }
  return merged ?? messages;
}

function combine(first: Message, second: Message, maxBytes: number): Message | null {
  if (first.type !== second.type || first.term !== second.term) return null;
  if (first.type === MessageType.App) {
    const last: Entry | undefined = first.entries[first.entries.length - 1];
    const lastIndex = last === undefined ? first.index : last.index;
    const lastTerm = last === undefined ? first.logTerm : last.term;
    if (second.index !== lastIndex || second.logTerm !== lastTerm) return null;
    if (first.entries.length > 0 && second.entries.length > 0 && bytesOf(first.entries) + bytesOf(second.entries) > maxBytes) return null;
    const entries = second.entries.length === 0 ? first.entries : first.entries.length === 0 ? second.entries : [...first.entries, ...second.entries];
    return { ...first, entries, commit: Math.max(first.commit, second.commit) };
  }
  if (first.type === MessageType.AppResp) {
    if (first.reject || second.reject || second.index < first.index) return null;
    return second;
  }
  return null;
}

function bytesOf(entries: readonly Entry[]): number {
  let bytes = 0;
  for (const entry of entries) bytes += entrySizeBytes(entry);
  return bytes;
}
