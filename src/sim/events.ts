import type { Message, NodeId } from '../raft/index.ts';
import type { KvInput, KvOutput } from './linearizability.ts';
import type { Delivery } from './network.ts';

/** A client's request as a member receives it. */
export interface ClientRequest {
  /** Unique per run: identifies the attempt in the log (the command) and in the client's answer. */
  readonly requestId: number;
  readonly clientId: number;
  readonly sequence: number;
  readonly input: KvInput;
  /** A get answered through ReadIndex rather than through the log. */
  readonly viaReadIndex: boolean;
}

export type ClientOutcome =
  | { readonly kind: 'ok'; readonly output: KvOutput }
  /** Refused before it could take effect; `leaderHint` is the member's idea of the leader (0: none). */
  | { readonly kind: 'not-leader'; readonly leaderHint: NodeId };

export interface ClientResponse {
  readonly requestId: number;
  readonly clientId: number;
  readonly outcome: ClientOutcome;
}

export type ClientPacket =
  | { readonly kind: 'request'; readonly request: ClientRequest }
  | { readonly kind: 'response'; readonly response: ClientResponse };

/** A fault the nemesis starts; each one is undone by its matching end event. */
export type FaultKind = 'partition' | 'asymmetricPartition' | 'clog' | 'crash' | 'powerLoss' | 'pause';

/** What undoes a started fault. */
export type FaultEnd =
  | { readonly kind: 'restore-links'; readonly links: readonly (readonly [number, number])[]; readonly description: string }
  | { readonly kind: 'unclog'; readonly from: NodeId; readonly to: NodeId }
  | { readonly kind: 'restart'; readonly nodes: readonly NodeId[] }
  | { readonly kind: 'resume'; readonly node: NodeId };

/** Everything that happens in a run is one of these, popped from the event queue in (time, sequence) order. */
export type SimEvent =
  | { readonly kind: 'tick'; readonly node: NodeId; readonly incarnation: number }
  | { readonly kind: 'peer-message'; readonly delivery: Delivery<Message> }
  | { readonly kind: 'fsync'; readonly node: NodeId; readonly incarnation: number; readonly writeId: number }
  | { readonly kind: 'snapshot-status'; readonly node: NodeId; readonly incarnation: number; readonly target: NodeId; readonly ok: boolean }
  | { readonly kind: 'unreachable'; readonly node: NodeId; readonly incarnation: number; readonly target: NodeId }
  | { readonly kind: 'client-packet'; readonly delivery: Delivery<ClientPacket> }
  | { readonly kind: 'client-issue'; readonly clientId: number }
  | { readonly kind: 'client-timeout'; readonly clientId: number; readonly requestId: number }
  | { readonly kind: 'fault-start'; readonly fault: FaultKind }
  | { readonly kind: 'fault-end'; readonly end: FaultEnd }
  /** A member handed out its first Ready as leader of a term. */
  | { readonly kind: 'leader-elected'; readonly node: NodeId }
  | { readonly kind: 'isolate-leader'; readonly node: NodeId }
  | { readonly kind: 'membership-step' }
  | { readonly kind: 'transfer-leader' }
  | { readonly kind: 'decommission'; readonly node: NodeId }
  | { readonly kind: 'liveness-start' }
  | { readonly kind: 'liveness-check' };

/** Events a paused member receives are held and handled, in order, when it resumes. */
export type MemberEvent = Extract<SimEvent, { kind: 'peer-message' | 'fsync' | 'snapshot-status' | 'unreachable' }>
  | { readonly kind: 'client-request'; readonly request: ClientRequest };
