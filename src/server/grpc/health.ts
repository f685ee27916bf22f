/**
 * The standard gRPC health service (grpc.health.v1.Health), which etcd serves and load balancers probe.
 */
import { HealthCheckResponseServingStatus } from '../proto/_generated/health.ts';
import type { HealthCheckRequest, HealthCheckResponseInit, HealthService } from '../proto/_generated/health.ts';
import type { CallContext, ServerStreamCall, ServiceImplementation } from './handlers.ts';
import { GrpcError, Status } from './status.ts';

/**
 * Serving status per service name; the empty name stands for the whole server. Hand `implementation` to
 * `GrpcServer.addService(HealthService, ...)`.
 *
 * @example
 * const health = new HealthChecker();
 * server.addService(HealthService, health.implementation);
 * health.setStatus('etcdserverpb.KV', HealthCheckResponseServingStatus.SERVING);
 */
export class HealthChecker {
  readonly #statuses = new Map<string, HealthCheckResponseServingStatus>([['', HealthCheckResponseServingStatus.SERVING]]);
  readonly #listeners = new Set<(service: string) => void>();

  readonly implementation: ServiceImplementation<typeof HealthService> = {
    Check: (request, context) => this.#check(request, context),
    Watch: (request, call) => this.#watch(request, call),
  };

  setStatus(service: string, status: HealthCheckResponseServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const listener of this.#listeners) listener(service);
  }

  status(service: string): HealthCheckResponseServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** Marks every service NOT_SERVING, e.g. at the start of a graceful shutdown. */
  shutdown(): void {
    for (const service of [...this.#statuses.keys()]) this.setStatus(service, HealthCheckResponseServingStatus.NOT_SERVING);
  }

  #check(request: HealthCheckRequest, _context: CallContext): HealthCheckResponseInit {
    const status = this.#statuses.get(request.service);
    if (status === undefined) throw new GrpcError(Status.NOT_FOUND, 'unknown service');
    return { status };
  }

  /**
   * Sends the current status, then every change, until the call ends. Only the newest status matters, so
   * a slow client gets changes coalesced rather than queued.
   */
  async #watch(request: HealthCheckRequest, call: ServerStreamCall<HealthCheckResponseInit>): Promise<void> {
    const service = request.service;
    let changed = true;
    let wake: (() => void) | undefined;
    const listener = (name: string): void => {
      if (name !== service) return;
      changed = true;
      wake?.();
    };
    const onAbort = (): void => wake?.();
    this.#listeners.add(listener);
    call.signal.addEventListener('abort', onAbort);
    try {
      let lastSent: HealthCheckResponseServingStatus | undefined;
      while (!call.ended) {
        if (!changed) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        changed = false;
        if (call.ended) break;
        const status = this.#statuses.get(service) ?? HealthCheckResponseServingStatus.SERVICE_UNKNOWN;
        if (status !== lastSent) await call.send({ status });
        lastSent = status;
      }
    } finally {
      this.#listeners.delete(listener);
      call.signal.removeEventListener('abort', onAbort);
    }
  }
}
