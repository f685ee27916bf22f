/**
 * etcdserverpb.Cluster (etcd's v3rpc/member.go): membership changes go through the backend, which
 * replicates them; the list is this member's view.
 */
import { GrpcError, Status, type ServiceImplementation } from '../grpc/index.ts';
import type { MemberBackend } from '../member/backend.ts';
import type { ClusterService, MemberInit } from '../proto/index.ts';
import { memberToProto, responseHeader } from './_convert.ts';
import { translatingErrors } from './_errors.ts';

export const memberBadUrlsMessage = 'etcdserver: given member URLs are invalid';

/**
 * The Cluster service over a member backend.
 *
 * @example
 * server.addService(ClusterService, clusterService(backend));
 */
export function clusterService(backend: MemberBackend): ServiceImplementation<typeof ClusterService> {
  const members = (): MemberInit[] => backend.members().map(memberToProto);
  return {
    MemberAdd: (wire, context) => translatingErrors(async () => {
      checkPeerUrls(wire.peerURLs);
      const member = await backend.addMember(wire.peerURLs, wire.isLearner, context.signal);
      return { header: responseHeader(backend.header()), member: memberToProto(member), members: members() };
    }),
    MemberRemove: (wire, context) => translatingErrors(async () => {
      await backend.removeMember(wire.ID, context.signal);
      return { header: responseHeader(backend.header()), members: members() };
    }),
    MemberUpdate: (wire, context) => translatingErrors(async () => {
      checkPeerUrls(wire.peerURLs);
      await backend.updateMember(wire.ID, wire.peerURLs, context.signal);
      return { header: responseHeader(backend.header()), members: members() };
    }),
    MemberList: () => ({ header: responseHeader(backend.header()), members: members() }),
    MemberPromote: (wire, context) => translatingErrors(async () => {
      await backend.promoteMember(wire.ID, context.signal);
      return { header: responseHeader(backend.header()), members: members() };
    }),
  };
}

/** etcd's types.NewURLs: http(s) or unix(s) URLs of the form scheme://host:port, with no path. */
const peerUrlPattern = /^(https?|unixs?):\/\/[^/]+:[0-9]+\/?$/;

function checkPeerUrls(urls: readonly string[]): void {
  for (const text of urls) {
    if (!peerUrlPattern.test(text)) throw new GrpcError(Status.INVALID_ARGUMENT, memberBadUrlsMessage);
  }
}
