/**
 * Block identity and `meta.json`. A block directory is named by a ULID (48-bit creation time in
 * milliseconds, then 80 random bits, in Crockford base 32), so names sort by creation time. `meta.json`
 * follows Prometheus's field names; `maxTime` is exclusive.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TsdbError } from '../errors.ts';

const crockfordAlphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ulidPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** The only meta.json version keel writes and reads. */
export const blockMetaVersion = 1;
/** meta.json is small; a larger file is not one of ours. */
const metaBytesMax = 1024 * 1024;
/** Compaction never nests deeper than this (ranges grow by 3× up to 31 days). */
export const compactionLevelMax = 16;

export interface BlockParent {
  readonly ulid: string;
  readonly minTime: number;
  readonly maxTime: number;
}

export interface BlockMeta {
  readonly ulid: string;
  /** First sample time (inclusive), in milliseconds. */
  readonly minTime: number;
  /** End of the time range (exclusive). */
  readonly maxTime: number;
  readonly stats: { readonly numSamples: number; readonly numSeries: number; readonly numChunks: number };
  readonly compaction: {
    readonly level: number;
    /** The level-1 blocks this block's data came from (itself, for a level-1 block). */
    readonly sources: readonly string[];
    /** The blocks compacted into this one; open deletes any still present after a crash. */
    readonly parents?: readonly BlockParent[];
  };
  readonly version: number;
}

/**
 * A new ULID for the current time.
 *
 * @example
 * newUlid(); // '01HF3Q5Z6Y8K9M2N4P6R8T0V2X'
 */
export function newUlid(nowMs = Date.now()): string {
  let time = Math.floor(nowMs);
  let text = '';
  for (let index = 0; index < 10; index += 1) {
    text = crockfordAlphabet[time % 32]! + text;
    time = Math.floor(time / 32);
  }
  const random = randomBytes(10);
  // 80 bits as 16 five-bit groups.
  let bits = 0;
  let bitCount = 0;
  for (const byte of random) {
    bits = (bits << 8) | byte;
    bitCount += 8;
    while (bitCount >= 5) {
      text += crockfordAlphabet[(bits >>> (bitCount - 5)) & 31]!;
      bitCount -= 5;
    }
    bits &= (1 << bitCount) - 1;
  }
  return text;
}

/** Reads and checks `<directory>/meta.json`; every defect is `TSDB_BLOCK_CORRUPT` naming the file. */
export async function readBlockMeta(directory: string, expectedUlid: string): Promise<BlockMeta> {
  const path = join(directory, 'meta.json');
  const text = await readFile(path, 'utf8');
  if (text.length > metaBytesMax) throw metaCorrupt(path, `file is larger than ${metaBytesMax} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw metaCorrupt(path, `not valid JSON (${(error as Error).message})`);
  }
  return checkMeta(parsed, path, expectedUlid);
}

/** The meta.json text for `meta`. */
export function formatBlockMeta(meta: BlockMeta): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}

function checkMeta(value: unknown, path: string, expectedUlid: string): BlockMeta {
  const meta = objectAt(value, path, 'the top level');
  if (meta.version !== blockMetaVersion) throw metaCorrupt(path, `unsupported version ${JSON.stringify(meta.version)}`);
  if (meta.ulid !== expectedUlid) throw metaCorrupt(path, `ulid ${JSON.stringify(meta.ulid)} does not match the directory name ${expectedUlid}`);
  const minTime = integerAt(meta.minTime, path, 'minTime');
  const maxTime = integerAt(meta.maxTime, path, 'maxTime');
  if (maxTime <= minTime) throw metaCorrupt(path, `maxTime ${maxTime} is not after minTime ${minTime}`);
  const stats = objectAt(meta.stats, path, 'stats');
  const compaction = objectAt(meta.compaction, path, 'compaction');
  const level = integerAt(compaction.level, path, 'compaction.level');
  if (level < 1 || level > compactionLevelMax) throw metaCorrupt(path, `compaction level ${level} is outside [1, ${compactionLevelMax}]`);
  const sources = compaction.sources;
  if (!Array.isArray(sources) || sources.length === 0 || !sources.every((source) => typeof source === 'string' && ulidPattern.test(source))) {
    throw metaCorrupt(path, 'compaction.sources is not a non-empty list of ULIDs');
  }
  const parents = compaction.parents === undefined ? undefined : checkParents(compaction.parents, path);
  return {
    ulid: expectedUlid,
    minTime,
    maxTime,
    stats: {
      numSamples: countAt(stats.numSamples, path, 'stats.numSamples'),
      numSeries: countAt(stats.numSeries, path, 'stats.numSeries'),
      numChunks: countAt(stats.numChunks, path, 'stats.numChunks'),
    },
    compaction: parents === undefined ? { level, sources: sources as string[] } : { level, sources: sources as string[], parents },
    version: blockMetaVersion,
  };
}

function checkParents(value: unknown, path: string): BlockParent[] {
  if (!Array.isArray(value)) throw metaCorrupt(path, 'compaction.parents is not a list');
  return value.map((entry, index) => {
    const parent = objectAt(entry, path, `compaction.parents[${index}]`);
    if (typeof parent.ulid !== 'string' || !ulidPattern.test(parent.ulid)) throw metaCorrupt(path, `compaction.parents[${index}].ulid is not a ULID`);
    return { ulid: parent.ulid, minTime: integerAt(parent.minTime, path, 'parent minTime'), maxTime: integerAt(parent.maxTime, path, 'parent maxTime') };
  });
}

function objectAt(value: unknown, path: string, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw metaCorrupt(path, `${what} is not an object`);
  return value as Record<string, unknown>;
}

function integerAt(value: unknown, path: string, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw metaCorrupt(path, `${what} is not an integer`);
  return value;
}

function countAt(value: unknown, path: string, what: string): number {
  const count = integerAt(value, path, what);
  if (count < 0) throw metaCorrupt(path, `${what} is negative`);
  return count;
}

function metaCorrupt(path: string, detail: string): TsdbError {
  return new TsdbError('TSDB_BLOCK_CORRUPT', `Block file ${path} is corrupt: ${detail}.`);
}
