import { createHash } from 'node:crypto';
import { type ConfChange, ConfChangeType, type ConfState } from '../../raft/index.ts';
import type { KvStore, LeaseCheckpointRequest } from '../../kv/index.ts';
import type { MemberInfo, ReplicatedRequest } from './backend.ts';
import type { SnapshotCapture, StateMachine } from './raft-driver.ts';
import { type PlainValue, ValueCodecError, decodeValue, encodeValue } from './_value-codec.ts';
import { CommandCodecError, decodeCommand } from './_command-codec.ts';

/** Every command a member replicates: the API's writes plus the leader's own lease checkpoints. */
export type StoreCommand =
  | ReplicatedRequest
  | { readonly kind: 'leaseCheckpoint'; readonly request: LeaseCheckpointRequest }
  /** A member publishes its name and client URLs once it runs (etcd's "publish"). */
  | { readonly kind: 'memberAttributes'; readonly request: { readonly id: number; readonly name: string; readonly clientUrls: readonly string[] } };

/** What a member announces about itself when it joins: carried in the ConfChange context. */
export interface MemberAnnouncement {
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

/**
 * A member ID derived from what identifies a member, as etcd does, so that every founding member computes
 * the same IDs from --initial-cluster. Kept below 2^53 (a JavaScript safe integer) and never 0.
 */
export function memberIdOf(name: string, peerUrls: readonly string[], clusterToken: string): number {
  const digest = createHash('sha256').update(`${name}\n${[...peerUrls].sort().join(',')}\n${clusterToken}`).digest();
  const id = digest.readUIntBE(0, 6) * 32 + (digest[6]! >>> 3);
  return id === 0 ? 1 : id;
}

/** The replicated membership: who the members are, with their URLs. */
export class MemberRegistry {
  readonly #members = new Map<number, { info: MemberAnnouncement; isLearner: boolean }>();

  seed(id: number, info: MemberAnnouncement): void {
    this.#members.set(id, { info, isLearner: false });
  }

  list(): MemberInfo[] {
    return [...this.#members].sort(([a], [b]) => a - b).map(([id, member]) => ({
      id: BigInt(id), name: member.info.name, peerUrls: member.info.peerUrls, clientUrls: member.info.clientUrls, isLearner: member.isLearner,
    }));
  }

  /** Records a member's published name and client URLs; ignored for a member no longer in the cluster. */
  setAttributes(id: number, name: string, clientUrls: readonly string[]): boolean {
    const member = this.#members.get(id);
    if (member === undefined) return false;
    member.info = { ...member.info, name, clientUrls: [...clientUrls] };
    return true;
  }

  get(id: number): MemberAnnouncement | undefined {
    return this.#members.get(id)?.info;
  }

  apply(change: ConfChange, confState: ConfState): void {
    const announcement = change.context.length > 0 ? (decodeValue(change.context) as unknown as MemberAnnouncement) : null;
    for (const single of change.changes) {
      if (single.type === ConfChangeType.RemoveNode) {
        this.#members.delete(single.nodeId);
        continue;
      }
      const existing = this.#members.get(single.nodeId);
      const info = announcement ?? existing?.info ?? { name: '', peerUrls: [], clientUrls: [] };
      this.#members.set(single.nodeId, { info, isLearner: single.type === ConfChangeType.AddLearner });
    }
    // The core's view is the truth for who votes.
    for (const [id, member] of this.#members) member.isLearner = confState.learners.includes(id);
  }

  toPlain(): PlainValue {
    return [...this.#members].map(([id, member]) => ({ id, ...member.info, isLearner: member.isLearner })) as unknown as PlainValue;
  }

  restore(value: PlainValue): void {
    this.#members.clear();
    for (const item of value as unknown as { id: number; name: string; peerUrls: string[]; clientUrls: string[]; isLearner: boolean }[]) {
      this.#members.set(item.id, { info: { name: item.name, peerUrls: item.peerUrls, clientUrls: item.clientUrls }, isLearner: item.isLearner });
    }
  }
}

/**
 * A member's snapshot data: this marker byte, the membership's encoding length (u32, little-endian), the
 * membership (the value codec), then the store's snapshot. The store writes it all into one buffer, with
 * the membership as its prefix. Before, the data was the value codec's {store, members} object, which copied
 * the store's tens of MB once more; `restore` still reads that form, which starts with another byte.
 */
const snapshotFormatMarker = 0x4d;
const snapshotHeadBytes = 5;

/** The MVCC store as the Raft driver's state machine: commands in, store answers out. */
export class StoreMachine implements StateMachine {
  readonly #emptySnapshot: Uint8Array;

  /**
   * `onMembershipChange` runs after a conf change or a snapshot changed who the members are, on every
   * member (not only the one that proposed it): the peer transport must learn a new member's URL everywhere.
   */
  constructor(readonly store: KvStore, readonly members: MemberRegistry, readonly onMembershipChange: () => void = () => {}) {
    this.#emptySnapshot = store.snapshot();
  }

  apply(_index: number, bytes: Uint8Array): unknown {
    const command = decodeCommand(bytes);
    const store = this.store;
    switch (command.kind) {
      case 'put': return store.put(command.request);
      case 'deleteRange': return store.deleteRange(command.request);
      case 'txn': return store.txn(command.request);
      case 'compaction': return store.compact(command.request);
      case 'leaseGrant': return store.leaseGrant(command.request);
      case 'leaseRevoke': return store.leaseRevoke(command.request);
      case 'leaseCheckpoint': return store.leaseCheckpoint(command.request);
      case 'alarm': return store.alarm(command.request);
      case 'memberAttributes': return this.members.setAttributes(command.request.id, command.request.name, command.request.clientUrls);
      default: throw new CommandCodecError(`unknown command kind ${(command as { kind: string }).kind}`);
    }
  }

  applyConfChange(_index: number, change: ConfChange, confState: ConfState): void {
    this.members.apply(change, confState);
    this.onMembershipChange();
  }

  snapshot(): Uint8Array {
    const capture = this.captureSnapshot();
    capture.encodeSome(Number.MAX_SAFE_INTEGER);
    return capture.finish();
  }

  /** The store and the members as they are now; the store's records are encoded later, a slice at a time. */
  captureSnapshot(): SnapshotCapture {
    const members = encodeValue(this.members.toPlain());
    const prefix = new Uint8Array(snapshotHeadBytes + members.length);
    prefix[0] = snapshotFormatMarker;
    new DataView(prefix.buffer).setUint32(1, members.length, true);
    prefix.set(members, snapshotHeadBytes);
    const store = this.store.captureSnapshot(prefix);
    return { encodeSome: (maxRecords) => store.encodeSome(maxRecords), finish: () => store.finish() };
  }

  /** An empty snapshot (the bootstrap snapshot) restores the empty store; the seeded members stay. */
  restore(data: Uint8Array): void {
    if (data.length === 0) {
      this.store.restore(this.#emptySnapshot);
      return;
    }
    const { store, members } = data[0] === snapshotFormatMarker ? splitSnapshot(data) : (decodeValue(data) as { store: Uint8Array; members: PlainValue });
    this.store.restore(store);
    this.members.restore(members);
    this.onMembershipChange();
  }
}

function splitSnapshot(data: Uint8Array): { store: Uint8Array; members: PlainValue } {
  if (data.length < snapshotHeadBytes) throw new ValueCodecError('member snapshot shorter than its head');
  const membersBytes = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1, true);
  const storeStart = snapshotHeadBytes + membersBytes;
  if (storeStart > data.length) throw new ValueCodecError('member snapshot truncated in its membership');
  return { members: decodeValue(data.subarray(snapshotHeadBytes, storeStart)), store: data.subarray(storeStart) };
}
