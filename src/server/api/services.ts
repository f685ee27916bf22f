/**
 * `createApiServices`: registers etcd's v3 services (KV, Watch, Lease, Cluster, Maintenance) on a
 * GrpcServer over a MemberBackend.
 */
import type { GrpcServer } from '../grpc/index.ts';
import type { MemberBackend } from '../member/backend.ts';
import { ClusterService, KVService, LeaseService, MaintenanceService, WatchService } from '../proto/index.ts';
import { clusterService } from './cluster-service.ts';
import { kvService } from './kv-service.ts';
import { leaseService } from './lease-service.ts';
import { maintenanceService } from './maintenance-service.ts';
import { resolveApiOptions, type ApiOptions, type ResolvedApiOptions } from './options.ts';
import { WatchStream, type WatchRouter } from './_watch-stream.ts';

export interface ApiServices {
  readonly options: ResolvedApiOptions;
  /**
   * Wire the store's `watch.onReady` here (`new KvStore({ watch: { onReady: (id) => services.watchReady(id) } })`)
   * so that events reach their streams at once; without it the services poll every `watchPollIntervalMs`.
   */
  watchReady(hubWatchId: number): void;
  /** Watch streams open now. */
  readonly watchStreams: number;
  /** Stops the poll timer. Streams end with the server's own shutdown. */
  close(): void;
}

/**
 * Registers the etcd v3 services on `server`.
 *
 * @example
 * const server = new GrpcServer();
 * const services = createApiServices(backend, { server, requestBytesMax: 1.5 * 1024 * 1024 });
 * await server.listen({ host: '127.0.0.1', port: 2379 });
 */
export function createApiServices(backend: MemberBackend, options: ApiOptions & { server: GrpcServer }): ApiServices {
  const { server, ...apiOptions } = options;
  return registerApiServices(server, backend, apiOptions);
}

/**
 * The same as {@link createApiServices}, server first. Several servers (one per client URL) over one backend
 * share one router, so one `watchReady` wiring serves them all.
 *
 * @example
 * registerApiServices(server, member, { requestBytesMax: config.maxRequestBytes });
 */
export function registerApiServices(server: GrpcServer, backend: MemberBackend, options: ApiOptions = {}): ApiServices {
  const resolved = resolveApiOptions(options);
  const router = routerFor(backend, resolved.watchPollIntervalMs);
  server.addService(KVService, kvService(backend, resolved));
  server.addService(WatchService, {
    Watch: async (requests, call) => {
      const stream = new WatchStream(backend, resolved, router);
      router.opened(stream);
      try {
        await stream.run(requests, call);
      } finally {
        router.closed(stream);
      }
    },
  });
  server.addService(LeaseService, leaseService(backend));
  server.addService(ClusterService, clusterService(backend));
  server.addService(MaintenanceService, maintenanceService(backend, resolved));
  return {
    options: resolved,
    watchReady: (hubWatchId) => router.ready(hubWatchId),
    get watchStreams() {
      return router.streamCount;
    },
    close: () => router.stopPolling(),
  };
}

const routers = new WeakMap<MemberBackend, StreamRouter>();

function routerFor(backend: MemberBackend, pollIntervalMs: number): StreamRouter {
  let router = routers.get(backend);
  if (router === undefined) routers.set(backend, (router = new StreamRouter(backend, pollIntervalMs)));
  return router;
}

/** Hub watch ID → the stream that owns it; polls the hub while streams are open if told to. */
class StreamRouter implements WatchRouter {
  readonly #backend: MemberBackend;
  readonly #pollIntervalMs: number;
  readonly #owners = new Map<number, WatchStream>();
  readonly #streams = new Set<WatchStream>();
  #pollTimer: NodeJS.Timeout | undefined;
  #polledRevision = -1;

  constructor(backend: MemberBackend, pollIntervalMs: number) {
    this.#backend = backend;
    this.#pollIntervalMs = pollIntervalMs;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  register(hubId: number, stream: WatchStream): void {
    this.#owners.set(hubId, stream);
  }

  unregister(hubId: number): void {
    this.#owners.delete(hubId);
  }

  ready(hubId: number): void {
    this.#owners.get(hubId)?.markReady(hubId);
  }

  opened(stream: WatchStream): void {
    this.#streams.add(stream);
    if (this.#pollTimer === undefined && this.#pollIntervalMs > 0) {
      this.#pollTimer = setInterval(() => this.#poll(), this.#pollIntervalMs);
      this.#pollTimer.unref();
    }
  }

  closed(stream: WatchStream): void {
    this.#streams.delete(stream);
    if (this.#streams.size === 0) this.stopPolling();
  }

  stopPolling(): void {
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  /** Only after a new revision: that is when synced watchers get something; streams re-check the rest themselves. */
  #poll(): void {
    const revision = this.#backend.store.revision;
    if (revision === this.#polledRevision) return;
    this.#polledRevision = revision;
    for (const hubId of this.#backend.store.watchHub.readyWatchIds()) this.ready(hubId);
  }
}
