// Shared fixtures for the transport tests: message builders, a recording logger, transports on port 0.
import { type Message, MessageType, emptyConfState } from '../../../src/raft/types.ts';
import { PeerTransport } from '../../../src/server/transport/index.ts';
import type { PeerTransportOptions, TransportLimits, TransportLogger } from '../../../src/server/transport/index.ts';

export function message(fields: Partial<Message> & Pick<Message, 'from' | 'to'>): Message {
  return {
    type: MessageType.App, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, snapshot: null, reject: false,
    rejectHint: 0, context: null, leaseTick: 0, ...fields,
  };
}

export function snapMessage(from: number, to: number, data: Uint8Array): Message {
  return message({
    type: MessageType.Snap, from, to, term: 3,
    snapshot: { metadata: { index: 42, term: 3, confState: { ...emptyConfState(), voters: [1, 2, 3] } }, data },
  });
}

export interface LogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly fields: Readonly<Record<string, string | number>>;
}

export function recordingLogger(): TransportLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (text, fields = {}) => lines.push({ level: 'info', message: text, fields }),
    warn: (text, fields = {}) => lines.push({ level: 'warn', message: text, fields }),
  };
}

export interface Member {
  readonly transport: PeerTransport;
  readonly received: Message[];
  readonly unreachable: number[];
  readonly snapshotStatus: { peerId: number; ok: boolean }[];
  readonly logger: ReturnType<typeof recordingLogger>;
}

export interface MemberOptions {
  readonly clusterId?: bigint;
  readonly port?: number;
  readonly limits?: Partial<TransportLimits>;
  readonly random?: () => number;
  readonly onMessage?: (message: Message) => void;
}

/** A started transport on 127.0.0.1 port 0 that records what it receives and reports. */
export async function startMember(memberId: number, options: MemberOptions = {}): Promise<Member> {
  const received: Message[] = [];
  const unreachable: number[] = [];
  const snapshotStatus: { peerId: number; ok: boolean }[] = [];
  const logger = recordingLogger();
  const transportOptions: PeerTransportOptions = {
    clusterId: options.clusterId ?? 0x1234n, memberId, listen: { host: '127.0.0.1', port: options.port ?? 0 },
    onMessage: (received_) => {
      received.push(received_);
      options.onMessage?.(received_);
    },
    onUnreachable: (peerId) => unreachable.push(peerId),
    onSnapshotStatus: (peerId, ok) => snapshotStatus.push({ peerId, ok }),
    logger, limits: { backoffBaseMs: 10, backoffMaxMs: 100, ...options.limits }, ...(options.random === undefined ? {} : { random: options.random }),
  };
  const transport = new PeerTransport(transportOptions);
  await transport.start();
  return { transport, received, unreachable, snapshotStatus, logger };
}

/** Starts `count` members (IDs 1..count) that all know each other. */
export async function startCluster(count: number, options: MemberOptions = {}): Promise<Member[]> {
  const members: Member[] = [];
  for (let id = 1; id <= count; id++) members.push(await startMember(id, options));
  for (const member of members) {
    for (const peer of members) {
      if (peer !== member) member.transport.addPeer(peer.transport.statistics().memberId, peer.transport.url());
    }
  }
  return members;
}

export async function closeAll(members: readonly Member[]): Promise<void> {
  await Promise.all(members.map((member) => member.transport.close()));
}

/** Waits until `condition` holds; fails after `limitMs` (a liveness guard, not a timing assertion). */
export async function waitFor(condition: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export { freePort } from '../../_net.ts';

/** Lets the event loop run for a while (used only where nothing observable can be awaited). */
export async function settle(milliseconds: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, milliseconds));
}

export function peerStatistics(member: Member, peerId: number) {
  const statistics = member.transport.statistics().peers.find((peer) => peer.peerId === peerId);
  if (statistics === undefined) throw new Error(`no statistics for peer ${peerId}`);
  return statistics;
}

/** A seeded generator (mulberry32) so that fault draws are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}
