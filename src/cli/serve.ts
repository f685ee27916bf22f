import { mkdir } from 'node:fs/promises';
import { followHeapGrowth, tuneGarbageCollector } from './_gc.ts';
import { GrpcServer, HealthChecker } from '../server/grpc/index.ts';
import { HealthService } from '../server/proto/index.ts';
import { ConfigError, type ServeConfig, flagNames, resolveServeConfig } from '../server/config.ts';
import { createAdminHandler } from '../server/admin-http.ts';
import { createLogger, type Logger } from '../server/logger.ts';
import { Member, type MemberTransport, type TransportEvents, keelVersion } from '../server/member/member.ts';
import { MemberMetrics } from '../server/metrics.ts';
import { PeerTransport } from '../server/transport/index.ts';
import { registerApiServices } from '../server/api/index.ts';

export const serveUsage = `usage: keel serve [--config-file FILE] [flags]
Runs one keel member, configured like an etcd member. Flags (each also KEEL_<FLAG> in the environment,
and a key of the YAML config file):
${flagNames.map((name) => `  --${name}`).join('\n')}
`;

/** etcd allows this much gRPC envelope beyond --max-request-bytes. */
const grpcOverheadBytes = 512 * 1024;
/** How long a SIGTERM lets requests finish before connections are cut. */
const shutdownGraceMs = 5000;

/** `keel serve`: one member until SIGTERM or SIGINT; returns the exit code. */
export async function serve(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serveUsage);
    return 0;
  }
  let config: ServeConfig;
  try {
    config = resolveServeConfig(argv, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`keel serve: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  tuneGarbageCollector();
  followHeapGrowth();
  const logger = createLogger(config.logLevel, { member: config.name });
  const running = await start(config, logger);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info('shutting down');
  await running.stop();
  logger.info('stopped');
  return 0;
}

export interface RunningMember {
  readonly member: Member;
  readonly metrics: MemberMetrics;
  readonly clientPorts: readonly number[];
  stop(): Promise<void>;
}

/** Starts a member with its peer transport, API servers and admin HTTP; resolves once it listens. */
export async function start(config: ServeConfig, logger: Logger): Promise<RunningMember> {
  await mkdir(config.dataDir, { recursive: true });
  const peerUrl = new URL(config.listenPeerUrls[0]!);
  let transport: PeerTransport | null = null;
  const metrics = new MemberMetrics({ name: config.name, version: keelVersion });
  const member = await Member.start({
    name: config.name, dataDirectory: config.dataDir, initialCluster: config.initialCluster,
    initialClusterToken: config.initialClusterToken, initialClusterState: config.initialClusterState,
    advertiseClientUrls: config.advertiseClientUrls, heartbeatIntervalMs: config.heartbeatIntervalMs,
    electionTimeoutMs: config.electionTimeoutMs, snapshotCount: config.snapshotCount,
    snapshotCatchupEntries: config.snapshotCatchupEntries,
    quotaBackendBytes: config.quotaBackendBytes, logger, metrics,
    transport: (memberId, clusterId, events) => {
      transport = createTransport(memberId, clusterId, peerUrl, events, { logger, metrics });
      return adapt(transport);
    },
  });
  await transport!.start();
  metrics.attachTransport(transport!);
  const servers: GrpcServer[] = [];
  const clientPorts: number[] = [];
  // One metrics registry and handler for the member, whatever the number of client URLs.
  const onHttpRequest = createAdminHandler(member, { metrics });
  for (const url of config.listenClientUrls) {
    // As etcd: the gRPC receive limit is the request limit plus room for the envelope.
    const server = new GrpcServer({ onHttpRequest, receiveMessageBytesMax: config.maxRequestBytes + grpcOverheadBytes, metrics: metrics.grpc });
    const services = registerApiServices(server, member, { requestBytesMax: config.maxRequestBytes });
    metrics.attachWatchStreams(() => services.watchStreams);
    member.onWatchReady((watchId) => services.watchReady(watchId));
    server.addService(HealthService, new HealthChecker().implementation);
    const parsed = new URL(url);
    const address = await server.listen({ host: parsed.hostname, port: Number(parsed.port) });
    servers.push(server);
    clientPorts.push(address.port);
  }
  logger.info('serving', { memberId: member.id, clientUrls: config.listenClientUrls.join(','), peerUrls: config.listenPeerUrls.join(','), dataDir: config.dataDir });
  return {
    member,
    metrics,
    clientPorts,
    async stop() {
      await Promise.all(servers.map((server) => server.close({ graceMs: shutdownGraceMs })));
      await member.stop();
    },
  };
}

function createTransport(memberId: number, clusterId: bigint, peerUrl: URL, events: TransportEvents, context: { logger: Logger; metrics: MemberMetrics }): PeerTransport {
  const { logger, metrics } = context;
  return new PeerTransport({
    clusterId, memberId, listen: { host: peerUrl.hostname, port: Number(peerUrl.port) }, peers: [],
    onMessage: (message) => events.receive(message),
    onUnreachable: (peer) => events.unreachable(peer),
    onSnapshotStatus: (peer, ok) => events.snapshotStatus(peer, ok),
    onRoundTrip: metrics.peerRoundTrip,
    memberList: () => events.memberList(),
    logger,
  });
}

/** The member's view of the transport: the peer set follows the replicated membership. */
function adapt(transport: PeerTransport): MemberTransport {
  const known = new Map<number, string>();
  return {
    send: (messages) => transport.send(messages),
    close: () => transport.close(),
    setPeers(peers) {
      for (const [id, urls] of peers) {
        const url = urls[0];
        if (url === undefined) continue;
        if (!known.has(id)) transport.addPeer(id, url);
        else if (known.get(id) !== url) transport.updatePeer(id, url);
        known.set(id, url);
      }
      for (const id of [...known.keys()]) {
        if (!peers.has(id)) {
          transport.removePeer(id);
          known.delete(id);
        }
      }
    },
  };
}
