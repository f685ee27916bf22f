/**
 * The client subcommands, in etcdctl 3.4's spirit and output: `keel get|put|del|txn|watch|lease|member|
 * endpoint|snapshot|compaction|alarm`. Failures print `Error: <etcd message>` and exit 1, as etcdctl.
 */
import { open } from 'node:fs/promises';
import { KeelClient, ClientError, type GetOptions, type SortOrder, type SortTarget } from '../client/index.ts';
import { AlarmType, EventType, type DeleteRangeResponse, type KeyValue, type PutResponse, type RangeResponse, type TxnResponse } from '../server/proto/index.ts';
import { type Output, UsageError, exitCodes } from './output.ts';
import { eventJson, goDuration, headerJson, hex16, hexSpace16, humanBytes, jsonText, keyValueJson, memberJson, omitEmpty, table, type JsonValue } from './_client-format.ts';
import { parseTxn } from './_client-txn.ts';
import { RestoreError, restoreSnapshot } from '../server/member/restore.ts';
import { parseInitialCluster } from '../server/config.ts';
import type { StorageLogger } from '../storage/index.ts';

const silentLogger: StorageLogger = { info: () => undefined, warn: () => undefined };

export const clientUsage = `usage: keel <get|put|del|txn|watch|lease|member|endpoint|snapshot|compaction|alarm> [args] [flags]
  keel get KEY [RANGE_END] [--prefix] [--from-key] [--limit N] [--rev N] [--keys-only] [--count-only]
           [--print-value-only] [--consistency l|s] [--sort-by KEY|VERSION|CREATE|MODIFY|VALUE] [--order ASCEND|DESCEND]
  keel put KEY VALUE [--lease ID] [--prev-kv]          keel del KEY [RANGE_END] [--prefix] [--prev-kv]
  keel txn  (compares, blank line, success ops, blank line, failure ops on stdin)
  keel watch KEY [RANGE_END] [--prefix] [--rev N] [--prev-kv]
  keel lease grant TTL | revoke ID | keep-alive [--once] ID | timetolive ID [--keys] | list
  keel member list | add NAME --peer-urls URLS [--learner] | remove ID | promote ID
  keel endpoint status | health [--cluster]     keel snapshot save FILE | restore FILE [--name --data-dir
  --initial-cluster --initial-cluster-token --initial-advertise-peer-urls --skip-hash-check]
  keel compaction REV                          keel alarm list | disarm
global flags: --endpoints HOST:PORT,... (or KEEL_ENDPOINTS; default 127.0.0.1:2379), -w/--write-out simple|json|table,
  --command-timeout 5s`;

const booleanFlags = new Set(['skip-hash-check', 'prefix', 'from-key', 'prev-kv', 'keys-only', 'count-only', 'print-value-only', 'keys', 'once', 'learner', 'cluster', 'interactive', 'hex', 'physical']);
const valueFlags = new Set(['name', 'data-dir', 'initial-cluster', 'initial-cluster-token', 'initial-advertise-peer-urls', 'endpoints', 'write-out', 'limit', 'rev', 'consistency', 'sort-by', 'order', 'lease', 'peer-urls', 'command-timeout', 'dial-timeout', 'keepalive-time', 'keepalive-timeout']);
/** Arguments a command line may carry. */
const argumentsMax = 256;

export interface ParsedArguments {
  readonly positional: string[];
  readonly flags: Map<string, string>;
}

/** Go-flag style: `--name value`, `--name=value`, `-w value`; booleans take no value (or `=true/false`). */
export function parseClientArguments(argv: readonly string[]): ParsedArguments {
  if (argv.length > argumentsMax) throw new UsageError(`at most ${argumentsMax} arguments`);
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '--') {
      positional.push(...argv.slice(index + 1));
      break;
    }
    if (!argument.startsWith('-') || argument === '-') {
      positional.push(argument);
      continue;
    }
    const equals = argument.indexOf('=');
    let name = argument.replace(/^--?/, '').slice(0, equals < 0 ? undefined : equals - (argument.startsWith('--') ? 2 : 1));
    if (name === 'w') name = 'write-out';
    if (name === 'i') name = 'interactive';
    if (booleanFlags.has(name)) {
      flags.set(name, equals < 0 ? 'true' : argument.slice(equals + 1));
    } else if (valueFlags.has(name)) {
      const value = equals < 0 ? argv[++index] : argument.slice(equals + 1);
      if (value === undefined) throw new UsageError(`flag needs an argument: --${name}`);
      flags.set(name, value);
    } else {
      throw new UsageError(`unknown flag: ${argument}`);
    }
  }
  return { positional, flags };
}

type Format = 'simple' | 'json' | 'table';

interface Context {
  readonly client: KeelClient;
  readonly args: ParsedArguments;
  readonly output: Output;
  readonly format: Format;
  flag(name: string): boolean;
}

type Handler = (context: Context) => Promise<number>;

function integerFlag(args: ParsedArguments, name: string): number | undefined {
  const text = args.flags.get(name);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new UsageError(`invalid argument ${JSON.stringify(text)} for --${name}`);
  return Number(text);
}

function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (match === null) throw new UsageError(`invalid duration ${JSON.stringify(text)}`);
  return Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 's' ? 1000 : 60_000);
}

function leaseId(text: string | undefined): bigint {
  if (text === undefined || !/^[0-9a-fA-F]{1,16}$/.test(text)) throw new UsageError(`bad lease ID ${JSON.stringify(text ?? '')}, expecting a hexadecimal ID`);
  return BigInt.asIntN(64, BigInt(`0x${text}`));
}

function memberId(text: string | undefined): bigint {
  if (text === undefined || !/^[0-9a-fA-F]{1,16}$/.test(text)) throw new UsageError(`bad member ID arg (${text ?? ''}), expecting ID in Hex`);
  return BigInt(`0x${text}`);
}

function need(args: ParsedArguments, count: number, what: string): string[] {
  if (args.positional.length < count) throw new UsageError(what);
  return args.positional;
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

function printKv(output: Output, kv: KeyValue | undefined, valueOnly: boolean): void {
  if (kv === undefined) return;
  if (!valueOnly) output.out(text(kv.key));
  output.out(text(kv.value));
}

function rangeJson(response: RangeResponse): Record<string, JsonValue> {
  return omitEmpty({ header: headerJson(response.header), kvs: response.kvs.map((kv) => keyValueJson(kv)), more: response.more, count: response.count });
}

function putJson(response: PutResponse): Record<string, JsonValue> {
  return omitEmpty({ header: headerJson(response.header), prev_kv: keyValueJson(response.prevKv) });
}

function deleteJson(response: DeleteRangeResponse): Record<string, JsonValue> {
  return omitEmpty({ header: headerJson(response.header), deleted: response.deleted, prev_kvs: response.prevKvs.map((kv) => keyValueJson(kv)) });
}

function txnJson(response: TxnResponse): Record<string, JsonValue> {
  const responses = response.responses.map((op): JsonValue => {
    const inner = op.response;
    if (inner === undefined) return {};
    const name = inner.case === 'responseRange' ? 'ResponseRange' : inner.case === 'responsePut' ? 'ResponsePut' : inner.case === 'responseDeleteRange' ? 'ResponseDeleteRange' : 'ResponseTxn';
    const body = inner.case === 'responseRange' ? rangeJson(inner.value) : inner.case === 'responsePut' ? putJson(inner.value) : inner.case === 'responseDeleteRange' ? deleteJson(inner.value) : txnJson(inner.value);
    return { Response: { [name]: body } };
  });
  return omitEmpty({ header: headerJson(response.header), succeeded: response.succeeded, responses });
}

function printGet(context: Context, response: RangeResponse): void {
  if (context.format === 'json') return context.output.out(jsonText(rangeJson(response)));
  const valueOnly = context.flag('print-value-only');
  for (const kv of response.kvs) printKv(context.output, kv, valueOnly);
}

function printPut(context: Context, response: PutResponse): void {
  if (context.format === 'json') return context.output.out(jsonText(putJson(response)));
  context.output.out('OK');
  printKv(context.output, response.prevKv, false);
}

function printDelete(context: Context, response: DeleteRangeResponse): void {
  if (context.format === 'json') return context.output.out(jsonText(deleteJson(response)));
  context.output.out(String(response.deleted));
  for (const kv of response.prevKvs) printKv(context.output, kv, false);
}

function printTxn(context: Context, response: TxnResponse): void {
  if (context.format === 'json') return context.output.out(jsonText(txnJson(response)));
  context.output.out(response.succeeded ? 'SUCCESS' : 'FAILURE');
  for (const op of response.responses) {
    context.output.out('');
    const inner = op.response;
    if (inner?.case === 'responseRange') printGet(context, inner.value);
    else if (inner?.case === 'responsePut') printPut(context, inner.value);
    else if (inner?.case === 'responseDeleteRange') printDelete(context, inner.value);
  }
}

const sortTargets: Record<string, SortTarget> = { KEY: 'key', VERSION: 'version', CREATE: 'create', MODIFY: 'mod', VALUE: 'value' };

function getOptions(args: ParsedArguments, flag: (name: string) => boolean): GetOptions {
  const consistency = args.flags.get('consistency') ?? 'l';
  if (consistency !== 'l' && consistency !== 's') throw new UsageError(`unknown consistency flag ${JSON.stringify(consistency)}`);
  const sortBy = args.flags.get('sort-by');
  const order = args.flags.get('order');
  if (sortBy !== undefined && sortTargets[sortBy.toUpperCase()] === undefined) throw new UsageError(`bad sort target ${JSON.stringify(sortBy)}`);
  if (order !== undefined && !['ASCEND', 'DESCEND'].includes(order.toUpperCase())) throw new UsageError(`bad sort order ${JSON.stringify(order)}`);
  const rangeEnd = args.positional[1];
  return {
    prefix: flag('prefix'), fromKey: flag('from-key'), rangeEnd, limit: integerFlag(args, 'limit'), revision: integerFlag(args, 'rev'),
    keysOnly: flag('keys-only'), countOnly: flag('count-only'), serializable: consistency === 's',
    sort: sortBy === undefined && order === undefined ? undefined : { target: sortBy === undefined ? 'key' : sortTargets[sortBy.toUpperCase()], order: (order?.toLowerCase() ?? 'ascend') as SortOrder },
  };
}

const kvHandlers: Record<string, Handler> = {
  async get(context) {
    const [key] = need(context.args, 1, 'get command needs one argument as key and an optional argument as range_end');
    printGet(context, await context.client.get(key!, getOptions(context.args, context.flag)));
    return exitCodes.ok;
  },
  async put(context) {
    const [key, value] = need(context.args, 2, 'put command needs 1 argument and input from stdin or 2 arguments');
    const lease = context.args.flags.get('lease');
    printPut(context, await context.client.put(key!, value!, { prevKv: context.flag('prev-kv'), lease: lease === undefined || lease === '0' ? undefined : leaseId(lease) }));
    return exitCodes.ok;
  },
  async del(context) {
    const [key, rangeEnd] = need(context.args, 1, 'del command needs one argument as key and an optional argument as range_end');
    printDelete(context, await context.client.delete(key!, { prefix: context.flag('prefix'), fromKey: context.flag('from-key'), rangeEnd, prevKv: context.flag('prev-kv') }));
    return exitCodes.ok;
  },
  async txn(context) {
    const input = await readStdin();
    printTxn(context, await context.client.txn(parseTxn(input)));
    return exitCodes.ok;
  },
  async compaction(context) {
    const [revision] = need(context.args, 1, 'compaction command needs 1 argument');
    if (!/^\d+$/.test(revision!)) throw new UsageError(`bad revision ${JSON.stringify(revision)}`);
    await context.client.compact(Number(revision), { physical: context.flag('physical') });
    context.output.out(`compacted revision ${revision}`);
    return exitCodes.ok;
  },
  async watch(context) {
    const [key, rangeEnd] = need(context.args, 1, 'watch command needs a key');
    const watcher = await context.client.watch(key!, { prefix: context.flag('prefix'), fromKey: context.flag('from-key'), rangeEnd, startRevision: integerFlag(context.args, 'rev'), prevKv: context.flag('prev-kv') });
    const stop = (): void => watcher.cancel();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      for await (const batch of watcher) {
        if (context.format === 'json') {
          context.output.out(jsonText({ Header: headerJson(batch.header), Events: batch.events.map(eventJson), CompactRevision: 0, Canceled: false, Created: false }));
          continue;
        }
        for (const event of batch.events) {
          context.output.out(event.type === EventType.DELETE ? 'DELETE' : 'PUT');
          printKv(context.output, event.prevKv, false);
          printKv(context.output, event.kv, false);
        }
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return exitCodes.ok;
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const leaseHandlers: Record<string, Handler> = {
  async grant(context) {
    const ttl = context.args.positional[1];
    if (ttl === undefined || !/^\d+$/.test(ttl)) throw new UsageError('lease grant command needs TTL argument');
    const response = await context.client.leaseGrant(Number(ttl));
    if (context.format === 'json') context.output.out(jsonText({ ...headerJson(response.header), ID: response.ID, TTL: response.TTL, Error: response.error }));
    else context.output.out(`lease ${hex16(response.ID)} granted with TTL(${response.TTL}s)`);
    return exitCodes.ok;
  },
  async revoke(context) {
    const id = leaseId(context.args.positional[1]);
    const response = await context.client.leaseRevoke(id).catch((error: unknown) => wrap(error, 'failed to revoke lease'));
    if (context.format === 'json') context.output.out(jsonText(omitEmpty({ header: headerJson(response.header) })));
    else context.output.out(`lease ${hex16(id)} revoked`);
    return exitCodes.ok;
  },
  async 'keep-alive'(context) {
    const id = leaseId(context.args.positional[1]);
    for (let renewals = 0; ; renewals++) {
      const response = await context.client.leaseKeepAliveOnce(id);
      if (response.TTL <= 0) {
        context.output.out(`lease ${hex16(id)} expired or revoked.`);
        return exitCodes.ok;
      }
      if (context.format === 'json') context.output.out(jsonText({ ...headerJson(response.header), ID: response.ID, TTL: response.TTL }));
      else context.output.out(`lease ${hex16(id)} keepalived with TTL(${response.TTL})`);
      if (context.flag('once')) return exitCodes.ok;
      // Renew at a third of the TTL, as etcd's client does.
      await new Promise((resolve) => setTimeout(resolve, Math.max(500, (response.TTL * 1000) / 3)));
    }
  },
  async timetolive(context) {
    const id = leaseId(context.args.positional[1]);
    const response = await context.client.leaseTimeToLive(id, { keys: context.flag('keys') });
    if (context.format === 'json') {
      context.output.out(jsonText({ ...headerJson(response.header), id: response.ID, ttl: response.TTL, 'granted-ttl': response.grantedTTL, keys: response.keys }));
    } else if (response.TTL === -1) {
      context.output.out(`lease ${hex16(id)} already expired`);
    } else {
      const keys = context.flag('keys') ? `, attached keys([${response.keys.map(text).join(' ')}])` : '';
      context.output.out(`lease ${hex16(id)} granted with TTL(${response.grantedTTL}s), remaining(${response.TTL}s)${keys}`);
    }
    return exitCodes.ok;
  },
  async list(context) {
    const response = await context.client.leaseList();
    if (context.format === 'json') {
      context.output.out(jsonText({ ...headerJson(response.header), leases: response.leases.map((lease) => ({ id: lease.ID })) }));
      return exitCodes.ok;
    }
    context.output.out(`found ${response.leases.length} leases`);
    for (const lease of response.leases) context.output.out(hex16(lease.ID));
    return exitCodes.ok;
  },
};

function wrap(error: unknown, prefix: string): never {
  if (error instanceof ClientError) throw new ClientError(error.status, `${prefix} (${error.message})`, { endpoint: error.endpoint, cause: error });
  throw error;
}

const memberHandlers: Record<string, Handler> = {
  async list(context) {
    const response = await context.client.memberList();
    if (context.format === 'json') {
      context.output.out(jsonText(omitEmpty({ header: headerJson(response.header), members: response.members.map(memberJson) })));
      return exitCodes.ok;
    }
    const rows = response.members.map((member) => [member.ID.toString(16), member.name === '' ? 'unstarted' : 'started', member.name, member.peerURLs.join(','), member.clientURLs.join(','), String(member.isLearner)]);
    if (context.format === 'table') context.output.out(table(['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'], rows));
    else for (const row of rows) context.output.out(row.join(', '));
    return exitCodes.ok;
  },
  async add(context) {
    const name = context.args.positional[1];
    if (name === undefined) throw new UsageError('member name not provided');
    const urls = context.args.flags.get('peer-urls');
    if (urls === undefined || urls === '') throw new UsageError('member peer urls not provided');
    const peerUrls = urls.split(',');
    const response = await context.client.memberAdd(peerUrls, { learner: context.flag('learner') });
    const added = response.member;
    if (context.format === 'json') {
      context.output.out(jsonText(omitEmpty({ header: headerJson(response.header), member: added === undefined ? undefined : memberJson(added), members: response.members.map(memberJson) })));
      return exitCodes.ok;
    }
    const clusterId = response.header?.clusterId ?? 0n;
    context.output.out(`Member ${hexSpace16(added?.ID ?? 0n)} added to cluster ${hexSpace16(clusterId)}`);
    const cluster: string[] = [];
    for (const member of response.members) {
      for (const url of member.peerURLs) cluster.push(`${member.ID === added?.ID ? name : member.name}=${url}`);
    }
    context.output.out('');
    context.output.out(`ETCD_NAME=${JSON.stringify(name)}`);
    context.output.out(`ETCD_INITIAL_CLUSTER=${JSON.stringify(cluster.join(','))}`);
    context.output.out(`ETCD_INITIAL_ADVERTISE_PEER_URLS=${JSON.stringify(peerUrls.join(','))}`);
    context.output.out('ETCD_INITIAL_CLUSTER_STATE="existing"');
    return exitCodes.ok;
  },
  async remove(context) {
    const id = memberId(context.args.positional[1]);
    const response = await context.client.memberRemove(id);
    context.output.out(`Member ${hexSpace16(id)} removed from cluster ${hexSpace16(response.header?.clusterId ?? 0n)}`);
    return exitCodes.ok;
  },
  async promote(context) {
    const id = memberId(context.args.positional[1]);
    const response = await context.client.memberPromote(id);
    context.output.out(`Member ${hexSpace16(id)} promoted in cluster ${hexSpace16(response.header?.clusterId ?? 0n)}`);
    return exitCodes.ok;
  },
};

/** The endpoints `endpoint` subcommands report on: the given ones, or with --cluster every member's client URLs. */
async function endpointTargets(context: Context): Promise<string[]> {
  if (!context.flag('cluster')) return [...context.client.endpoints];
  const members = await context.client.memberList();
  return members.members.flatMap((member) => member.clientURLs.map((url) => url.replace(/^https?:\/\//, '')));
}

const endpointHandlers: Record<string, Handler> = {
  async status(context) {
    const results = [];
    let failed = false;
    for (const endpoint of await endpointTargets(context)) {
      try {
        results.push({ endpoint, status: await context.client.status(endpoint) });
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        failed = true;
        context.output.error(`Failed to get the status of endpoint ${endpoint} (${error.message})`);
      }
    }
    if (context.format === 'json') {
      context.output.out(jsonText(results.map(({ endpoint, status }) => ({ Endpoint: endpoint, Status: omitEmpty({
        header: headerJson(status.header), version: status.version, dbSize: status.dbSize, leader: status.leader, raftIndex: status.raftIndex,
        raftTerm: status.raftTerm, raftAppliedIndex: status.raftAppliedIndex, errors: status.errors, dbSizeInUse: status.dbSizeInUse, isLearner: status.isLearner,
      }) }))));
    } else {
      const rows = results.map(({ endpoint, status }) => [endpoint, (status.header?.memberId ?? 0n).toString(16), status.version, humanBytes(status.dbSize),
        String(status.leader === status.header?.memberId), String(status.isLearner), String(status.raftTerm), String(status.raftIndex), String(status.raftAppliedIndex), status.errors.join(', ')]);
      if (context.format === 'table') context.output.out(table(['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'], rows));
      else for (const row of rows) context.output.out(row.join(', '));
    }
    if (failed) throw new ClientError(14, 'unhealthy cluster');
    return exitCodes.ok;
  },
  async health(context) {
    const results: { endpoint: string; health: boolean; took: string; error?: string }[] = [];
    for (const endpoint of await endpointTargets(context)) {
      const started = performance.now();
      // A linearizable read of any key commits through the leader: the member is part of a working quorum.
      const single = new KeelClient({ endpoints: [endpoint], callTimeoutMs: context.client.callTimeoutMs });
      try {
        await single.get('health');
        results.push({ endpoint, health: true, took: goDuration(performance.now() - started) });
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        results.push({ endpoint, health: false, took: goDuration(performance.now() - started), error: error.message });
      } finally {
        single.close();
      }
    }
    if (context.format === 'json') context.output.out(jsonText(results));
    else for (const result of results) {
      context.output.error(result.health ? `${result.endpoint} is healthy: successfully committed proposal: took = ${result.took}` : `${result.endpoint} is unhealthy: failed to commit proposal: ${result.error}`);
    }
    if (results.some((result) => !result.health)) throw new ClientError(14, 'unhealthy cluster');
    return exitCodes.ok;
  },
};

const snapshotHandlers: Record<string, Handler> = {
  async save(context) {
    const path = context.args.positional[1];
    if (path === undefined) throw new UsageError('snapshot save expects one argument');
    const partial = `${path}.part`;
    const file = await open(partial, 'w', 0o600);
    try {
      for await (const chunk of context.client.snapshot()) await file.write(chunk);
      await file.sync();
    } finally {
      await file.close();
    }
    const { rename } = await import('node:fs/promises');
    await rename(partial, path);
    context.output.out(`Snapshot saved at ${path}`);
    return exitCodes.ok;
  },
  /** etcdctl 3.4's `snapshot restore`: a new data directory (no server is contacted). */
  async restore(context) {
    const path = context.args.positional[1];
    if (path === undefined) throw new UsageError('snapshot restore expects one argument');
    const flags = context.args.flags;
    const name = flags.get('name') ?? 'default';
    const peerUrls = (flags.get('initial-advertise-peer-urls') ?? 'http://localhost:2380').split(',');
    const initialCluster = parseInitialCluster(flags.get('initial-cluster') ?? `${name}=${peerUrls.join(`,${name}=`)}`);
    const dataDirectory = flags.get('data-dir') ?? `${name}.keel`;
    const result = await restoreSnapshot({
      file: path, dataDirectory, name, initialCluster, initialClusterToken: flags.get('initial-cluster-token') ?? 'etcd-cluster',
      skipHashCheck: context.flag('skip-hash-check'), logger: silentLogger,
    }).catch((error: unknown) => {
      if (!(error instanceof RestoreError)) throw error;
      context.output.error(`Error: ${error.message}`);
      return null;
    });
    if (result === null) return exitCodes.violation;
    context.output.out(`Restored snapshot ${path} into ${dataDirectory}: member ${result.memberId.toString(16)}, cluster ${result.clusterId.toString(16)}, revision ${result.revision}, ${result.keys} keys`);
    return exitCodes.ok;
  },
};

const alarmHandlers: Record<string, Handler> = {
  async list(context) {
    const response = await context.client.alarmList();
    printAlarms(context, response.header, response.alarms);
    return exitCodes.ok;
  },
  async disarm(context) {
    const response = await context.client.alarmDisarm();
    printAlarms(context, response.header, response.alarms);
    return exitCodes.ok;
  },
};

function printAlarms(context: Context, header: Parameters<typeof headerJson>[0], alarms: readonly { memberID: bigint; alarm: AlarmType }[]): void {
  if (context.format === 'json') {
    context.output.out(jsonText(omitEmpty({ header: headerJson(header), alarms: alarms.map((alarm) => omitEmpty({ memberID: alarm.memberID, alarm: alarm.alarm })) })));
    return;
  }
  for (const alarm of alarms) context.output.out(`memberID:${alarm.memberID} alarm:${AlarmType[alarm.alarm] ?? alarm.alarm} `);
}

/** Commands with subcommands: the first positional argument picks the handler. */
const groups: Record<string, Record<string, Handler>> = { lease: leaseHandlers, member: memberHandlers, endpoint: endpointHandlers, snapshot: snapshotHandlers, alarm: alarmHandlers };

function pickHandler(command: string, args: ParsedArguments): Handler {
  const group = groups[command];
  if (group === undefined) {
    const handler = kvHandlers[command];
    if (handler === undefined) throw new UsageError(`unknown command ${command}`);
    return handler;
  }
  const sub = args.positional[0];
  const handler = sub === undefined ? undefined : group[sub];
  if (handler === undefined) throw new UsageError(`${command} needs a subcommand: ${Object.keys(group).join(', ')}`);
  return handler;
}

/**
 * Runs one client subcommand; returns the exit code.
 *
 * @example
 * process.exitCode = await runClient('get', ['foo', '--endpoints', '127.0.0.1:2379'], processOutput);
 */
export async function runClient(command: string, argv: readonly string[], output: Output): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    output.out(clientUsage);
    return exitCodes.ok;
  }
  const args = parseClientArguments(argv);
  const handler = pickHandler(command, args);
  const format = args.flags.get('write-out') ?? 'simple';
  if (format !== 'simple' && format !== 'json' && format !== 'table') throw new UsageError(`unknown output format ${JSON.stringify(format)}`);
  if (format === 'table' && !(command === 'member' || command === 'endpoint')) {
    output.error('Error: table not supported as output format');
    return exitCodes.violation;
  }
  const endpoints = (args.flags.get('endpoints') ?? process.env['KEEL_ENDPOINTS'] ?? '127.0.0.1:2379').split(',');
  const timeout = args.flags.get('command-timeout');
  const client = new KeelClient({ endpoints, callTimeoutMs: timeout === undefined ? undefined : durationMs(timeout) });
  const flag = (name: string): boolean => {
    const value = args.flags.get(name);
    return value !== undefined && value !== 'false';
  };
  try {
    return await handler({ client, args, output, format, flag });
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    output.error(`Error: ${error.message}`);
    return exitCodes.violation;
  } finally {
    client.close();
  }
}
