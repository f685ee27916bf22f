import { type Entry, EntryType } from '../../raft/index.ts';

/** Identities already computed, keyed by the payload object (payloads are shared, never mutated). */
const identityCache = new WeakMap<Uint8Array, string>();

/**
 * A string that is equal for two entries exactly when their type and payload bytes are equal. The term
 * and index are compared separately by the checkers.
 */
export function entryIdentity(entry: Entry): string {
  let payload = identityCache.get(entry.data);
  if (payload === undefined) {
    payload = bytesToLatin1(entry.data);
    identityCache.set(entry.data, payload);
  }
  return (entry.type === EntryType.ConfChange ? 'c:' : 'n:') + payload;
}

/** A short readable form of an identity, for messages. */
export function describeIdentity(identity: string): string {
  const text = identity.replace(/[^\x20-\x7e]/g, '.');
  return text.length <= 40 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 40))}…`;
}

function bytesToLatin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}
