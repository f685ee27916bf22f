/**
 * Target discovery: where a job's target groups come from. Three providers, one interface:
 * - static: the `static_configs` groups, once;
 * - file: `file_sd_configs`, JSON or YAML files of groups (globs allowed in the last path element),
 *   re-read every refresh interval; a file that fails to read or parse keeps its last good groups, as
 *   Prometheus does; every group gets `__meta_filepath`;
 * - keel: `keel_sd_configs`, the members of a keel cluster listed through the client, one target per
 *   member client URL with `__meta_keel_member_name`, `__meta_keel_member_id` (hex, as etcdctl prints it),
 *   `__meta_keel_member_is_learner` and `__meta_keel_member_client_url`. The listing function is
 *   injectable, so tests and embedders can pass their own.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KeelClient } from '../../client/index.ts';
import { ConfigError, readYamlDocument } from '../config/_reader.ts';
import { parseTargetGroup } from '../config/scrape.ts';
import type { FileSdConfig, KeelSdConfig, ScrapeConfig, TargetGroup } from '../config/types.ts';
import { assert } from '../tsdb/index.ts';

/** Largest target file read by file discovery. */
export const fileSdBytesMax = 16 * 1024 * 1024;
/** Most files one file_sd_config's globs may match. */
export const fileSdFilesMax = 1000;
/** Deadline of one member listing, retries included. */
export const keelSdTimeoutMs = 5000;
/** Most members a keel listing may return. */
export const keelSdMembersMax = 1000;

/** A source of target groups. `refresh` returns the complete current set. */
export interface DiscoveryProvider {
  /** For messages: `static`, `file`, `keel`. */
  readonly name: string;
  /** How often to call `refresh` again; 0 for never (static groups). */
  readonly refreshIntervalMs: number;
  /** Whether applying a configuration waits for the first refresh (local sources) or not (network). */
  readonly awaitFirstRefresh: boolean;
  refresh(signal: AbortSignal): Promise<TargetGroup[]>;
  /** Problems of the last refresh that did not stop it (a file that failed to parse). */
  problems?(): readonly string[];
}

/** One keel cluster member, as the member list reports it. */
export interface KeelMember {
  readonly id: bigint;
  /** Empty until the member has started. */
  readonly name: string;
  /** Empty until the member has started. */
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

/** Lists a keel cluster's members through any of `endpoints`. */
export type KeelMemberLister = (endpoints: readonly string[], signal: AbortSignal) => Promise<KeelMember[]>;

/**
 * The default lister: keel's own client, one MemberList call (with its failover across endpoints).
 *
 * @example
 * const members = await listKeelMembers(['127.0.0.1:2379'], AbortSignal.timeout(5000));
 */
export async function listKeelMembers(endpoints: readonly string[], signal: AbortSignal): Promise<KeelMember[]> {
  const client = new KeelClient({ endpoints, callTimeoutMs: keelSdTimeoutMs });
  const closeOnAbort = (): void => client.close();
  signal.addEventListener('abort', closeOnAbort, { once: true });
  try {
    const response = await client.memberList();
    return response.members.map((member) => ({ id: member.ID, name: member.name, clientUrls: member.clientURLs, isLearner: member.isLearner }));
  } finally {
    signal.removeEventListener('abort', closeOnAbort);
    client.close();
  }
}

/** The providers of one job, in configuration order. */
export function providersForScrapeConfig(config: ScrapeConfig, lister: KeelMemberLister): DiscoveryProvider[] {
  const providers: DiscoveryProvider[] = [];
  if (config.staticConfigs.length > 0) providers.push(staticProvider(config.staticConfigs));
  for (const fileConfig of config.fileSdConfigs) providers.push(new FileDiscovery(fileConfig));
  for (const keelConfig of config.keelSdConfigs) providers.push(new KeelDiscovery(keelConfig, lister));
  return providers;
}

/** Static groups, never refreshed. */
export function staticProvider(groups: readonly TargetGroup[]): DiscoveryProvider {
  return { name: 'static', refreshIntervalMs: 0, awaitFirstRefresh: true, refresh: () => Promise.resolve([...groups]) };
}

/** `file_sd_configs`: groups from files. */
export class FileDiscovery implements DiscoveryProvider {
  readonly name = 'file';
  readonly awaitFirstRefresh = true;
  readonly refreshIntervalMs: number;
  readonly #config: FileSdConfig;
  /** Last good groups of each file, kept when a later read fails. */
  readonly #groupsByFile = new Map<string, TargetGroup[]>();
  /** Problems of the last refresh, one per file that failed (empty when all were read). */
  #problems: string[] = [];

  constructor(config: FileSdConfig) {
    assert(config.files.length > 0, 'file discovery has at least one pattern');
    this.#config = config;
    this.refreshIntervalMs = config.refreshIntervalMs;
  }

  async refresh(): Promise<TargetGroup[]> {
    const errors: string[] = [];
    const files = await this.#matchingFiles(errors);
    for (const file of [...this.#groupsByFile.keys()]) if (!files.includes(file)) this.#groupsByFile.delete(file);
    for (const file of files) {
      try {
        this.#groupsByFile.set(file, await readTargetFile(file));
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
    this.#problems = errors;
    return [...this.#groupsByFile.values()].flat();
  }

  problems(): readonly string[] {
    return this.#problems;
  }

  async #matchingFiles(errors: string[]): Promise<string[]> {
    const files = new Set<string>();
    for (const pattern of this.#config.files) {
      try {
        for (const file of await expandGlob(pattern)) {
          if (files.size >= fileSdFilesMax) throw new Error(`more than ${fileSdFilesMax} files match the file_sd_configs patterns`);
          files.add(file);
        }
      } catch (error) {
        errors.push(`${pattern}: ${(error as Error).message}`);
      }
    }
    return [...files].sort();
  }
}

/** Expands `*`, `?` and `[...]` in the last path element; a plain path matches itself when it exists. */
async function expandGlob(pattern: string): Promise<string[]> {
  const name = basename(pattern);
  if (!/[*?[]/.test(name)) {
    try {
      await stat(pattern);
      return [pattern];
    } catch {
      return []; // A missing file is no targets, not an error, as in Prometheus.
    }
  }
  const directory = dirname(pattern);
  const matcher = globRegExp(name);
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch {
    return [];
  }
  return entries.filter((entry) => matcher.test(entry)).map((entry) => join(directory, entry));
}

function globRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const character = pattern[index]!;
    if (character === '*') source += '[^/]*';
    else if (character === '?') source += '[^/]';
    else if (character === '[') {
      const end = pattern.indexOf(']', index + 2);
      if (end < 0) source += '\\[';
      else {
        const body = pattern.slice(index + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        index = end;
      }
    } else source += character.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

async function readTargetFile(file: string): Promise<TargetGroup[]> {
  const info = await stat(file);
  if (info.size > fileSdBytesMax) throw new Error(`${file}: target file is larger than ${fileSdBytesMax} bytes`);
  const text = await readFile(file, 'utf8');
  try {
    // YAML is a superset of JSON, so one strict reader serves both, with lines and columns in errors.
    return readYamlDocument(text, file).items().map((item, index) => {
      const group = parseTargetGroup(item, `${file}:${index}`, false);
      return { ...group, labels: { ...group.labels, __meta_filepath: file } };
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(error.message, { cause: error });
    throw error;
  }
}

/** `keel_sd_configs`: one target per member client URL. */
export class KeelDiscovery implements DiscoveryProvider {
  readonly name = 'keel';
  readonly awaitFirstRefresh = false;
  readonly refreshIntervalMs: number;
  readonly #config: KeelSdConfig;
  readonly #lister: KeelMemberLister;

  constructor(config: KeelSdConfig, lister: KeelMemberLister) {
    assert(config.endpoints.length > 0, 'keel discovery has at least one endpoint');
    this.#config = config;
    this.#lister = lister;
    this.refreshIntervalMs = config.refreshIntervalMs;
  }

  async refresh(signal: AbortSignal): Promise<TargetGroup[]> {
    const members = await this.#lister(this.#config.endpoints, AbortSignal.any([signal, AbortSignal.timeout(keelSdTimeoutMs)]));
    if (members.length > keelSdMembersMax) throw new Error(`the cluster reported more than ${keelSdMembersMax} members`);
    return [{ source: `keel:${this.#config.endpoints.join(',')}`, targets: members.flatMap(memberTargets), labels: {} }];
  }
}

function memberTargets(member: KeelMember): Record<string, string>[] {
  return member.clientUrls.map((clientUrl) => ({
    __address__: clientUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, ''),
    __meta_keel_member_name: member.name,
    __meta_keel_member_id: member.id.toString(16),
    __meta_keel_member_is_learner: String(member.isLearner),
    __meta_keel_member_client_url: clientUrl,
  }));
}
