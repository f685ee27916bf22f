/**
 * etcdserverpb.Maintenance (etcd's v3rpc/maintenance.go): alarms, status, hashes, snapshot, leader
 * transfer. Defragment has nothing to do (the store has no free pages) and succeeds at once.
 */
import type { ServiceImplementation } from '../grpc/index.ts';
import { AlarmAction, type AlarmResponse, type AlarmType } from '../../kv/index.ts';
import type { MemberBackend } from '../member/backend.ts';
import type { AlarmRequest as WireAlarmRequest, MaintenanceService } from '../proto/index.ts';
import { idToNumber, numberToId, responseHeader } from './_convert.ts';
import { translatingErrors } from './_errors.ts';
import { sendSnapshot } from './_snapshot-stream.ts';
import type { ResolvedApiOptions } from './options.ts';

/**
 * The Maintenance service over a member backend.
 *
 * @example
 * server.addService(MaintenanceService, maintenanceService(backend, resolveApiOptions()));
 */
export function maintenanceService(backend: MemberBackend, options: ResolvedApiOptions): ServiceImplementation<typeof MaintenanceService> {
  const header = (revision?: number): ReturnType<typeof responseHeader> => responseHeader(backend.header(), revision);
  return {
    Alarm: (wire, context) => translatingErrors(async () => {
      const response = await alarm(backend, wire, context.signal);
      return { header: header(), alarms: response.alarms.map((member) => ({ memberID: numberToId(member.memberId), alarm: member.alarm })) };
    }),
    Status: () => translatingErrors(() => {
      const status = backend.status();
      return {
        header: header(),
        version: status.version,
        dbSize: status.dbSizeBytes,
        leader: status.leader,
        raftIndex: status.raftIndex,
        raftTerm: status.raftTerm,
        raftAppliedIndex: status.raftAppliedIndex,
        errors: status.errors,
        dbSizeInUse: status.dbSizeInUseBytes,
        isLearner: status.isLearner,
      };
    }),
    Defragment: () => ({ header: header() }),
    Hash: () => translatingErrors(() => {
      const response = backend.store.hash();
      return { header: header(response.header.revision), hash: response.hash };
    }),
    HashKV: (wire) => translatingErrors(() => {
      const response = backend.store.hashKv({ revision: wire.revision });
      return { header: header(response.header.revision), hash: response.hash, compactRevision: response.compactRevision };
    }),
    Snapshot: (_request, call) => translatingErrors(() => sendSnapshot(backend, call, { chunkBytesMax: options.snapshotChunkBytesMax })),
    MoveLeader: (wire, context) => translatingErrors(async () => {
      await backend.moveLeader(wire.targetID, context.signal);
      return { header: header() };
    }),
  };
}

/**
 * etcd replicates every alarm request, even GET; keel replicates the changes and serves GET after a read
 * barrier, which answers the same.
 */
async function alarm(backend: MemberBackend, wire: WireAlarmRequest, signal: AbortSignal): Promise<AlarmResponse> {
  const request = { action: wire.action as number as AlarmAction, memberId: idToNumber(wire.memberID), alarm: wire.alarm as number as AlarmType };
  if (request.action !== AlarmAction.Get) return backend.propose({ kind: 'alarm', request }, signal);
  await backend.readBarrier(signal);
  return backend.store.alarm(request);
}
