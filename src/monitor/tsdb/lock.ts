/**
 * The directory lock: `<dir>/lock` holds the owner's process ID. Node has no flock, so a lock whose
 * process is gone (a crash) is taken over, and a lock held by a live process, or by another open `Tsdb` in
 * this process, refuses the open. A reused process ID can make a stale lock look live; removing the file
 * by hand resolves that.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TsdbError } from './errors.ts';
import type { TsdbLogger } from './logger.ts';

export const lockFileName = 'lock';
const heldDirectories = new Set<string>();

/** A held lock; `release` removes the file. */
export interface DirectoryLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Takes the lock of `directory`, or throws `TSDB_LOCKED` naming the holder.
 *
 * @example
 * const lock = await acquireDirectoryLock(dir, logger);
 * await lock.release();
 */
export async function acquireDirectoryLock(directory: string, logger: TsdbLogger): Promise<DirectoryLock> {
  const key = resolve(directory);
  const path = join(directory, lockFileName);
  if (heldDirectories.has(key)) throw new TsdbError('TSDB_LOCKED', `TSDB directory ${directory} is already open in this process (lock file ${path}).`);
  try {
    await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number.parseInt((await readFile(path, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isProcessAlive(holder)) {
      throw new TsdbError('TSDB_LOCKED', `TSDB directory ${directory} is in use by process ${holder} (lock file ${path}); stop that process, or remove the file if it is not a keel process.`);
    }
    logger.warn('taking over a stale TSDB lock file', { path, holder: Number.isSafeInteger(holder) ? holder : -1 });
    await writeFile(path, `${process.pid}\n`);
  }
  heldDirectories.add(key);
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      heldDirectories.delete(key);
      await rm(path, { force: true });
    },
  };
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
