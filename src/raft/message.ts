import { type Message, MessageType, None } from './types.ts';

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
