import type { HttpRequestHandler } from './grpc/index.ts';
import { AlarmAction, AlarmType } from '../kv/index.ts';
import type { Member } from './member/member.ts';
import { keelVersion } from './member/member.ts';
import { type MemberMetrics, memberIdHex } from './metrics.ts';
import type { PeerStatistics } from './transport/index.ts';

/** How long /health waits for a linearizable read before answering unhealthy. */
const healthReadTimeoutMs = 1000;

export interface AdminHandlerOptions {
  /** The member's metrics registry (src/server/metrics.ts), served on /metrics. */
  readonly metrics: MemberMetrics;
}

/**
 * Plain HTTP on the client URL, as etcd serves it: `/health` (a linearizable read must succeed and no
 * alarm may be raised), `/version`, `/metrics` in the Prometheus text format, and keel's own
 * `/keel/status` (JSON, see {@link KeelStatus}) for the dashboard and `keel doctor`.
 *
 * @example
 * const server = new GrpcServer({ onHttpRequest: createAdminHandler(member, { metrics }) });
 */
export function createAdminHandler(member: Member, options: AdminHandlerOptions): HttpRequestHandler {
  const registry = options.metrics.registry;
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'Method Not Allowed\n');
    if (path === '/version') return send(response, 200, 'application/json', JSON.stringify({ etcdserver: keelVersion.split('-')[0], etcdcluster: '3.4.0', keel: keelVersion }));
    if (path === '/health') return void health(member).then((healthy) => send(response, healthy.ok ? 200 : 503, 'application/json', JSON.stringify(healthy.body)));
    if (path === '/metrics') return void registry.metrics().then((text) => send(response, 200, registry.contentType, text));
    if (path === '/keel/status') return send(response, 200, 'application/json', JSON.stringify(memberStatus(member, options.metrics)));
    send(response, 404, 'text/plain', '404 page not found\n');
  };
}

async function health(member: Member): Promise<{ ok: boolean; body: { health: string; reason?: string } }> {
  const alarms = member.store.alarm({ action: AlarmAction.Get });
  if (alarms.alarms.length > 0) return { ok: false, body: { health: 'false', reason: 'ALARM ACTIVE' } };
  try {
    await member.readBarrier(AbortSignal.timeout(healthReadTimeoutMs));
    return { ok: true, body: { health: 'true' } };
  } catch {
    return { ok: false, body: { health: 'false', reason: 'RAFT NO LEADER' } };
  }
}

function send(response: Parameters<HttpRequestHandler>[1], status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** One other member as this member sees it. Progress fields are null except on the leader. */
export interface KeelPeerStatus {
  /** Member ID, hex (as etcdctl prints it). */
  readonly id: string;
  /** Empty until the member has published its name. */
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly isLearner: boolean;
  /** Leader only: the highest log index known to be replicated on the peer. */
  readonly match: number | null;
  /** Leader only: the next log index to send to the peer. */
  readonly next: number | null;
  /** Leader only: 'probe', 'replicate' or 'snapshot'. */
  readonly state: string | null;
  /** Leader only: whether the peer answered during the last election timeout. */
  readonly recentActive: boolean | null;
  /** Whether this member's message connection to the peer is up. */
  readonly connected: boolean;
  /** The latest ping round trip to the peer, or null before the first answer. */
  readonly rttSeconds: number | null;
}

/** `GET /keel/status`: one member's view of itself and the cluster. IDs are hex strings. */
export interface KeelStatus {
  readonly name: string;
  readonly id: string;
  readonly clusterId: string;
  /** 'leader', 'follower', 'candidate' or 'pre-candidate'. */
  readonly role: string;
  readonly term: number;
  /** The leader's ID, or null when none is known. */
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** As Maintenance.Status reports it (the commit index). */
  readonly raftIndex: number;
  /** The last index in this member's log (may run ahead of the commit index). */
  readonly lastIndex: number;
  readonly revision: number;
  readonly compactRevision: number;
  readonly dbSizeBytes: number;
  readonly dbSizeInUseBytes: number;
  readonly quotaBytes: number;
  readonly isLearner: boolean;
  readonly version: string;
  readonly peers: readonly KeelPeerStatus[];
  /** Raised alarms: the member they are raised for (hex) and 'NOSPACE' or 'CORRUPT'. */
  readonly alarms: readonly { readonly memberId: string; readonly alarm: string }[];
}

/** The /keel/status document of `member`, from its Raft status, store, membership and transport. */
export function memberStatus(member: Member, metrics: MemberMetrics): KeelStatus {
  const raft = member.raftStatus();
  const status = member.status();
  const members = member.members();
  const links = new Map<number, PeerStatistics>(metrics.peerStatistics().map((peer) => [peer.peerId, peer]));
  const peers: KeelPeerStatus[] = [];
  for (const info of members) {
    const id = Number(info.id);
    if (id === member.id) continue;
    const progress = raft.progress?.get(id) ?? null;
    const link = links.get(id);
    const rttMs = link?.rttMs[link.rttMs.length - 1];
    peers.push({
      id: memberIdHex(id), name: info.name, peerUrls: info.peerUrls, isLearner: info.isLearner,
      match: progress?.match ?? null, next: progress?.next ?? null, state: progress?.state ?? null,
      recentActive: progress?.recentActive ?? null, connected: link?.connected ?? false,
      rttSeconds: rttMs === undefined ? null : rttMs / 1000,
    });
  }
  const alarms = member.store.alarm({ action: AlarmAction.Get }).alarms.map((alarm) => ({ memberId: memberIdHex(alarm.memberId), alarm: alarmName(alarm.alarm) }));
  return {
    name: members.find((info) => Number(info.id) === member.id)?.name || metrics.memberName, id: memberIdHex(member.id),
    clusterId: memberIdHex(member.clusterId), role: raft.role, term: raft.term, leader: raft.lead === 0 ? null : memberIdHex(raft.lead),
    commitIndex: raft.commit, appliedIndex: status.raftAppliedIndex, raftIndex: status.raftIndex, lastIndex: raft.lastIndex,
    revision: member.store.revision, compactRevision: member.store.compactRevision, dbSizeBytes: status.dbSizeBytes,
    dbSizeInUseBytes: status.dbSizeInUseBytes, quotaBytes: member.store.quotaBytes, isLearner: status.isLearner,
    version: status.version, peers, alarms,
  };
}

function alarmName(alarm: AlarmType): string {
  if (alarm === AlarmType.NoSpace) return 'NOSPACE';
  if (alarm === AlarmType.Corrupt) return 'CORRUPT';
  return 'NONE';
}
