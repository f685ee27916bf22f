/**
 * Who a member is: its member ID and its cluster's ID.
 *
 * - A founding member (`--initial-cluster-state new`) derives both from `--initial-cluster` and the token,
 *   so every founding member computes the same IDs without talking.
 * - A member joining a running cluster (`existing`, after `member add`) was given an ID by the cluster. It
 *   asks the members listed in `--initial-cluster` for the member list over the peer transport and finds
 *   itself by its peer URLs, as etcd does through its peers' `/members`.
 * - Once a member has data, its identity is read back from `member.json` in the data directory, so a joined
 *   member restarts as itself whatever `--initial-cluster` says later.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeMemberListResponse } from '../proto/index.ts';
import { parsePeerUrl, queryMembership } from '../transport/index.ts';

export interface MemberIdentity {
  readonly memberId: number;
  readonly clusterId: bigint;
}

/** A member as the cluster lists it, for seeding a joining member's registry. */
export interface ListedMember {
  readonly id: number;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

const identityFileName = 'member.json';

export async function readIdentity(dataDirectory: string): Promise<MemberIdentity | null> {
  const text = await readFile(join(dataDirectory, identityFileName), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IdentityError(`${join(dataDirectory, identityFileName)} is not valid JSON`);
  }
  const record = parsed as { memberId?: unknown; clusterId?: unknown };
  if (typeof record.memberId !== 'string' || typeof record.clusterId !== 'string' || !/^[0-9a-f]{1,16}$/.test(record.memberId) || !/^[0-9a-f]{1,16}$/.test(record.clusterId)) {
    throw new IdentityError(`${join(dataDirectory, identityFileName)} does not hold a member and cluster ID`);
  }
  const memberId = Number.parseInt(record.memberId, 16);
  if (!Number.isSafeInteger(memberId) || memberId === 0) throw new IdentityError(`${join(dataDirectory, identityFileName)}: member ID ${record.memberId} is out of range`);
  return { memberId, clusterId: BigInt(`0x${record.clusterId}`) };
}

/** Writes the identity durably (temporary file, fsync, rename). */
export async function writeIdentity(dataDirectory: string, identity: MemberIdentity): Promise<void> {
  const path = join(dataDirectory, identityFileName);
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(`${JSON.stringify({ memberId: identity.memberId.toString(16), clusterId: identity.clusterId.toString(16) })}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

/**
 * Asks the other members' peer URLs, in turn, for the member list, and finds the member whose peer URLs
 * are `ownPeerUrls`. Fails clearly when nobody answers or the cluster does not list this member.
 */
export async function discoverIdentity(peerUrlsToAsk: readonly string[], ownPeerUrls: readonly string[]): Promise<{ identity: MemberIdentity; members: ListedMember[] }> {
  const problems: string[] = [];
  for (const url of peerUrlsToAsk) {
    let memberList: Uint8Array;
    try {
      memberList = await queryMembership(parsePeerUrl(url));
    } catch (error) {
      problems.push(`${url}: ${(error as Error).message}`);
      continue;
    }
    const response = decodeMemberListResponse(memberList);
    const members = response.members.map((member) => ({
      id: Number(member.ID), name: member.name, peerUrls: member.peerURLs, clientUrls: member.clientURLs, isLearner: member.isLearner,
    }));
    const self = members.find((member) => sameUrls(member.peerUrls, ownPeerUrls));
    if (self === undefined) {
      throw new IdentityError(`the cluster (asked at ${url}) has no member with peer URLs ${ownPeerUrls.join(',')}; add it first with \`member add\``);
    }
    return { identity: { memberId: self.id, clusterId: response.header?.clusterId ?? 0n }, members };
  }
  throw new IdentityError(`cannot join: no member of the cluster answered (${problems.join('; ')})`);
}

function sameUrls(left: readonly string[], right: readonly string[]): boolean {
  const normalize = (urls: readonly string[]) => [...new Set(urls.map((url) => new URL(url).toString()))].sort().join(',');
  return normalize(left) === normalize(right);
}
