import type { HttpRequestHandler } from './grpc/index.ts';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { AlarmAction } from '../kv/index.ts';
import type { Member } from './member/member.ts';
import { keelVersion } from './member/member.ts';

/** How long /health waits for a linearizable read before answering unhealthy. */
const healthReadTimeoutMs = 1000;

/**
 * Plain HTTP on the client URL, as etcd serves it: `/health` (a linearizable read must succeed and no
 * alarm may be raised), `/version`, and `/metrics` in the Prometheus text format.
 */
export function createAdminHandler(member: Member): HttpRequestHandler {
  const registry = memberRegistry(member);
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'Method Not Allowed\n');
    if (path === '/version') return send(response, 200, 'application/json', JSON.stringify({ etcdserver: keelVersion.split('-')[0], etcdcluster: '3.4.0', keel: keelVersion }));
    if (path === '/health') return void health(member).then((healthy) => send(response, healthy.ok ? 200 : 503, 'application/json', JSON.stringify(healthy.body)));
    if (path === '/metrics') return void registry.metrics().then((text) => send(response, 200, registry.contentType, text));
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

/** The member's own registry: the Node runtime defaults plus the Raft and store basics. */
function memberRegistry(member: Member): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const raft = () => member.raftStatus();
  const gauge = (name: string, help: string, collect: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(collect()); } });
  gauge('keel_server_has_leader', 'Whether this member knows a leader (1) or not (0).', () => (raft().lead === 0 ? 0 : 1));
  gauge('keel_server_is_leader', 'Whether this member is the leader (1) or not (0).', () => (raft().role === 'leader' ? 1 : 0));
  gauge('keel_raft_term', 'The current Raft term.', () => raft().term);
  gauge('keel_raft_commit_index', 'The highest log index known to be committed.', () => raft().commit);
  gauge('keel_raft_applied_index', 'The highest log index applied to the store.', () => raft().applied);
  gauge('keel_mvcc_revision', 'The store\'s current revision.', () => member.store.revision);
  gauge('keel_mvcc_compact_revision', 'The store\'s compacted revision.', () => member.store.compactRevision);
  gauge('keel_mvcc_db_total_size_bytes', 'The estimated size of the store.', () => member.store.sizeBytesEstimate);
  gauge('keel_server_quota_backend_bytes', 'The store quota.', () => member.store.quotaBytes);
  return registry;
}
