/** Three real keel members in this process (serve.ts `start`), on loopback, each with its own temp data dir. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type RunningMember } from '../../src/cli/serve.ts';
import { resolveServeConfig } from '../../src/server/config.ts';
import { createLogger } from '../../src/server/logger.ts';
import { KeelClient } from '../../src/client/index.ts';
import { freePort } from '../_net.ts';


export interface TestCluster {
  readonly endpoints: string[];
  readonly members: (RunningMember | null)[];
  stopMember(index: number): Promise<void>;
  /** Resolves once a linearizable read succeeds through every endpoint. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(size = 3): Promise<TestCluster> {
  const root = await mkdtemp(join(tmpdir(), 'keel-client-'));
  const peers: number[] = [];
  const clients: number[] = [];
  for (let index = 0; index < size; index++) {
    peers.push(await freePort());
    clients.push(await freePort());
  }
  const initial = peers.map((port, index) => `m${index + 1}=http://127.0.0.1:${port}`).join(',');
  const members: (RunningMember | null)[] = [];
  try {
    for (let index = 0; index < size; index++) {
      const client = `http://127.0.0.1:${clients[index]}`;
      const peer = `http://127.0.0.1:${peers[index]}`;
      const config = resolveServeConfig(['--name', `m${index + 1}`, '--data-dir', join(root, `m${index + 1}`), '--listen-client-urls', client,
        '--advertise-client-urls', client, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', initial,
        '--heartbeat-interval', '50', '--election-timeout', '500', '--log-level', 'error'], {});
      members.push(await start(config, createLogger('error', { member: `m${index + 1}` }, () => {})));
    }
  } catch (error) {
    await Promise.all(members.map((member) => member?.stop()));
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const endpoints = clients.map((port) => `127.0.0.1:${port}`);
  return {
    endpoints,
    members,
    async stopMember(index) {
      const member = members[index];
      members[index] = null;
      await member?.stop();
    },
    async ready() {
      for (const endpoint of endpoints) {
        const client = new KeelClient({ endpoints: [endpoint], callTimeoutMs: 10_000 });
        try {
          // Wait for the member to publish its name, too: etcdctl's member list prints it.
          for (let attempt = 0; ; attempt++) {
            await client.get('ready');
            const { members: listed } = await client.memberList();
            if (listed.length === size && listed.every((member) => member.name !== '' && member.clientURLs.length > 0)) break;
            if (attempt > 100) throw new Error('members did not publish their attributes');
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        } finally {
          client.close();
        }
      }
    },
    async stop() {
      await Promise.all(members.map((member) => member?.stop()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
