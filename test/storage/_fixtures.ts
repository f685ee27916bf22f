// Shared helpers for the storage tests: temporary directories, a logger that records, entry builders.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Entry, HardState } from '../../src/raft/types.ts';
import { EntryType } from '../../src/raft/types.ts';
import type { StorageLogger } from '../../src/storage/index.ts';

/** A fresh directory under the OS temporary directory, removed when the test ends. */
export async function temporaryDirectory(context: TestContext): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'keel-storage-test-'));
  context.after(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

export interface LoggedEvent {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly fields: Readonly<Record<string, string | number>>;
}

export function recordingLogger(): { logger: StorageLogger; events: LoggedEvent[]; warnings: () => LoggedEvent[] } {
  const events: LoggedEvent[] = [];
  const logger: StorageLogger = {
    info: (message, fields = {}) => events.push({ level: 'info', message, fields }),
    warn: (message, fields = {}) => events.push({ level: 'warn', message, fields }),
  };
  return { logger, events, warnings: () => events.filter((event) => event.level === 'warn') };
}

const encoder = new TextEncoder();

export function entry(index: number, term: number, text = `entry ${index} term ${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: encoder.encode(text) };
}

/** Entries [first, last] in `term`. */
export function entryRange(first: number, last: number, term: number): Entry[] {
  const result: Entry[] = [];
  for (let index = first; index <= last; index++) result.push(entry(index, term));
  return result;
}

export function hardState(term: number, vote: number, commit: number): HardState {
  return { term, vote, commit };
}

/** A readable summary of entries, so that failures show which index went wrong. */
export function describeEntries(entries: readonly Entry[]): string[] {
  return entries.map((item) => `${item.index}@${item.term}:${item.type}:${new TextDecoder().decode(item.data)}`);
}

export const memberMetadata = encoder.encode('cluster=7;member=1');
