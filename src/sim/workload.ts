import type { NodeId } from '../raft/index.ts';
import { assert } from './assert.ts';
import type { ClientRequest, ClientResponse, SimEvent } from './events.ts';
import { type KvInput, type Operation, describeOperation } from './linearizability.ts';
import type { PseudoRandom } from './random.ts';
import type { WorkloadOptions } from './swarm.ts';

/** Bound on operations one run records; a run is tens of simulated seconds. */
export const operationsPerRunMax = 50_000;
/** Bound on written values remembered as candidates for a compare-and-set's expected value. */
const recentValuesMax = 16;
/** After "not leader" with no hint, wait this long before trying another member. */
const retryBackoffMs = 50;

export interface WorkloadEnvironment {
  nowMs(): number;
  schedule(atMs: number, event: SimEvent): void;
  send(request: ClientRequest, node: NodeId): void;
  /** The members a client may contact now. */
  targets(): readonly NodeId[];
}

interface Attempt {
  readonly request: ClientRequest;
  readonly callMs: number;
  readonly target: NodeId;
}

interface Client {
  readonly id: number;
  sequence: number;
  current: Attempt | null;
  leaderHint: NodeId;
  /** In the liveness phase: whether an operation issued in it completed. */
  finalDone: boolean;
}

/**
 * Clients doing get, put and compare-and-set on a few keys, one operation at a time each. A request goes
 * to the leader the client last heard of, or to a random member. An operation that times out has an
 * unknown outcome and is recorded as such; the client then moves on to a new operation (a retry is a
 * new operation, with a new sequence number). "Not leader" means the request never entered the log, so
 * it is not recorded. In the liveness phase every client must complete one more operation.
 */
export class Workload {
  readonly #options: WorkloadOptions;
  readonly #random: PseudoRandom;
  readonly #environment: WorkloadEnvironment;
  readonly #clients: Client[] = [];
  readonly #history: Operation[] = [];
  readonly #recentValues: string[] = [];
  #nextRequestId = 1;
  #livenessPhase = false;

  constructor(options: WorkloadOptions, random: PseudoRandom, environment: WorkloadEnvironment) {
    assert(options.clientsCount >= 1 && options.keysCount >= 1, 'a workload needs clients and keys');
    this.#options = options;
    this.#random = random;
    this.#environment = environment;
    for (let id = 1; id <= options.clientsCount; id++) this.#clients.push({ id, sequence: 0, current: null, leaderHint: 0, finalDone: false });
  }

  /** The completed and timed-out operations so far, in the order they ended. */
  history(): readonly Operation[] {
    return this.#history;
  }

  start(): void {
    for (const client of this.#clients) {
      this.#environment.schedule(this.#environment.nowMs() + this.#random.exponential(this.#options.thinkTimeMeanMs), { kind: 'client-issue', clientId: client.id });
    }
  }

  /** From now on each client completes one more operation, then stops. */
  beginLivenessPhase(): void {
    this.#livenessPhase = true;
    for (const client of this.#clients) {
      if (client.current === null) this.#environment.schedule(this.#environment.nowMs(), { kind: 'client-issue', clientId: client.id });
    }
  }

  allFinalOperationsDone(): boolean {
    return this.#clients.every((client) => client.finalDone);
  }

  /** What the clients that have not finished are waiting for (for a liveness violation). */
  describePending(): string[] {
    return this.#clients.filter((client) => !client.finalDone).map((client) => {
      const attempt = client.current;
      if (attempt === null) return `client ${client.id} has no operation under way`;
      const operation = { clientId: client.id, input: attempt.request.input, call: attempt.callMs, output: null, return: Infinity };
      return `${describeOperation(operation)} sent to n${attempt.target} unanswered`;
    });
  }

  onIssue(clientId: number): void {
    const client = this.#client(clientId);
    if (client.current !== null || (this.#livenessPhase && client.finalDone)) return;
    const environment = this.#environment;
    const input = this.#drawInput(client);
    client.sequence++;
    const request: ClientRequest = {
      requestId: this.#nextRequestId++, clientId, sequence: client.sequence, input,
      viaReadIndex: input.kind === 'get' && this.#random.chance(this.#options.readIndexProbability),
    };
    const targets = environment.targets();
    assert(targets.length > 0, 'some member is there to contact');
    const target = targets.includes(client.leaderHint) ? client.leaderHint : this.#random.pick(targets);
    client.current = { request, callMs: roundTimeMs(environment.nowMs()), target };
    environment.send(request, target);
    environment.schedule(environment.nowMs() + this.#options.clientTimeoutMs, { kind: 'client-timeout', clientId, requestId: request.requestId });
  }

  onResponse(response: ClientResponse): void {
    const client = this.#client(response.clientId);
    const attempt = client.current;
    if (attempt === null || attempt.request.requestId !== response.requestId) return;
    client.current = null;
    const nowMs = roundTimeMs(this.#environment.nowMs());
    const outcome = response.outcome;
    if (outcome.kind === 'not-leader') {
      client.leaderHint = outcome.leaderHint;
      this.#scheduleIssue(client, outcome.leaderHint === 0 ? retryBackoffMs : 0);
      return;
    }
    assert(outcome.output.kind === attempt.request.input.kind, 'an answer matches its request');
    this.#record({ clientId: client.id, input: attempt.request.input, call: attempt.callMs, output: outcome.output, return: nowMs });
    client.leaderHint = attempt.target;
    if (this.#livenessPhase) {
      client.finalDone = true;
      return;
    }
    this.#scheduleIssue(client, this.#random.exponential(this.#options.thinkTimeMeanMs));
  }

  onTimeout(clientId: number, requestId: number): void {
    const client = this.#client(clientId);
    const attempt = client.current;
    if (attempt === null || attempt.request.requestId !== requestId) return;
    client.current = null;
    client.leaderHint = 0;
    this.#record({ clientId, input: attempt.request.input, call: attempt.callMs, output: null, return: Infinity });
    this.#scheduleIssue(client, 0);
  }

  #scheduleIssue(client: Client, delayMs: number): void {
    this.#environment.schedule(this.#environment.nowMs() + delayMs, { kind: 'client-issue', clientId: client.id });
  }

  #record(operation: Operation): void {
    assert(this.#history.length < operationsPerRunMax, 'too many operations in one run');
    this.#history.push(operation);
    const input = operation.input;
    if (input.kind !== 'get' && this.#recentValues.length < recentValuesMax) this.#recentValues.push(input.value);
    else if (input.kind !== 'get') this.#recentValues[this.#random.nextInt(recentValuesMax)] = input.value;
  }

  #drawInput(client: Client): KvInput {
    const options = this.#options;
    const key = `k${this.#random.nextInt(options.keysCount)}`;
    const value = `v${client.id}.${client.sequence + 1}`;
    const draw = this.#random.float();
    if (draw < options.getProbability) return { kind: 'get', key };
    if (draw < options.getProbability + options.casProbability * (1 - options.getProbability)) {
      const expected = this.#recentValues.length === 0 || this.#random.chance(0.2) ? null : this.#random.pick(this.#recentValues);
      return { kind: 'cas', key, expected, value };
    }
    return { kind: 'put', key, value };
  }

  #client(clientId: number): Client {
    const client = this.#clients[clientId - 1];
    assert(client !== undefined && client.id === clientId, () => `no client ${clientId}`);
    return client;
  }
}

/**
 * History times are kept to the microsecond, for readable violation messages. Rounding can only make two
 * times equal, which drops a real-time constraint between two operations: it never invents a violation.
 */
function roundTimeMs(timeMs: number): number {
  return Math.round(timeMs * 1000) / 1000;
}
