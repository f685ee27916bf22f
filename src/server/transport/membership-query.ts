/**
 * The joining side of a membership query: connect to a member's peer address, send a Membership handshake
 * (zero IDs), read one Membership frame (etcd's MemberListResponse protobuf) and close. A member started
 * with `--initial-cluster-state existing` uses it to learn its own ID and the cluster's, as etcd asks its
 * peers' `/members`.
 */
import { connect } from 'node:net';
import { FrameSplitter } from './_frame-splitter.ts';
import { FrameKind, StreamKind, decodeFrame, encodeHandshakeFrame, membershipFrameBytesMax, protocolVersion } from './codec.ts';
import { TransportError } from './errors.ts';

/** A membership query that has no answer by then fails (the caller tries the next peer). */
export const membershipQueryTimeoutMsDefault = 3_000;

export function queryMembership(address: { readonly host: string; readonly port: number }, timeoutMs = membershipQueryTimeoutMsDefault): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port });
    const splitter = new FrameSplitter(membershipFrameBytesMax + 1);
    let settled = false;
    const finish = (error: Error | null, memberList?: Uint8Array): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error !== null) reject(error);
      else resolve(memberList!);
    };
    socket.setTimeout(timeoutMs, () => finish(new TransportError('TRANSPORT_CLOSED', `membership query to ${address.host}:${address.port} timed out after ${timeoutMs} ms`)));
    socket.on('error', (error) => finish(new TransportError('TRANSPORT_CLOSED', `membership query to ${address.host}:${address.port}: ${error.message}`, { cause: error })));
    socket.on('close', () => finish(new TransportError('TRANSPORT_CLOSED', `${address.host}:${address.port} closed the membership query without an answer`)));
    socket.on('connect', () => {
      socket.write(encodeHandshakeFrame({ version: protocolVersion, stream: StreamKind.Membership, clusterId: 0n, senderId: 0, receiverId: 0 }));
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        splitter.push(chunk, (payload) => {
          const frame = decodeFrame(payload);
          if (frame.kind === FrameKind.Membership) finish(null, frame.memberList);
          else if (frame.kind === FrameKind.Refuse) finish(new TransportError(frame.reason, `${address.host}:${address.port} refused the membership query (${frame.reason})`));
          else finish(new TransportError('TRANSPORT_FRAME_MALFORMED', `membership query answered with a ${FrameKind[frame.kind]} frame`));
          return false;
        });
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}
