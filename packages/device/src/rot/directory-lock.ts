import { randomBytes } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RootOfTrustError } from '../errors.ts';

/**
 * One device runs in one process at a time: two processes on the same device directory would
 * each keep their own copy of the counters and overwrite each other's, and a counter that two
 * writers race on can go backwards. The lock is `<dir>/lock`, created exclusively (O_EXCL) and
 * holding the owner's pid, so a lock left by a crashed process can be recognised and taken over.
 */

export const LOCK_FILE_NAME = 'lock';
/** A pid is at most 10 decimal digits (Linux caps it at 2^22); anything longer is not ours. */
const MAX_LOCK_FILE_BYTES = 16;
const PID_PATTERN = /^[1-9][0-9]{0,9}$/;
/** Rounds of "create, find a stale lock, remove it" before giving up to another taker. */
const MAX_ACQUIRE_ATTEMPTS = 3;

export interface DirectoryLock {
  /** The lock file's path. */
  readonly path: string;
  /** Removes the lock file if it is still this process's; calling it again does nothing. */
  release(): Promise<void>;
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** Signal 0 checks that a process exists without touching it; EPERM means it exists as another user. */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return hasCode(error, 'EPERM');
  }
}

/** The pid a lock file names, undefined if it names none (being written, or not a lock), null if gone. */
async function readLockHolder(path: string): Promise<number | undefined | null> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    if (hasCode(error, 'ENOENT')) return null;
    throw error;
  });
  if (handle === null) return null;
  try {
    const buffer = Buffer.alloc(MAX_LOCK_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.toString('latin1', 0, bytesRead).trim();
    return bytesRead <= MAX_LOCK_FILE_BYTES && PID_PATTERN.test(text) ? Number(text) : undefined;
  } finally {
    await handle.close();
  }
}

/** Creates the lock file with O_EXCL; false if one exists. */
async function tryCreateLock(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o644);
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if (hasCode(error, 'EEXIST')) return false;
    throw error;
  }
}

/**
 * Removes a lock whose owner `stalePid` is dead. It is renamed aside first and re-read, so that
 * if another process took the stale lock over between our read and our rename, its fresh lock is
 * linked back (link, like O_EXCL, never replaces a file) instead of deleted.
 */
async function removeStaleLock(path: string, stalePid: number): Promise<void> {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return;
    throw error;
  }
  try {
    if ((await readLockHolder(aside)) !== stalePid) await link(aside, path);
  } catch (error) {
    if (!hasCode(error, 'EEXIST')) throw error;
  } finally {
    await rm(aside, { force: true });
  }
}

function lockedError(directory: string, holder: number | undefined): RootOfTrustError {
  const who =
    holder === undefined
      ? 'a lock file that names no process (remove it if nothing runs this device)'
      : `process ${holder}`;
  return new RootOfTrustError('ROT_DIRECTORY_LOCKED', `${directory} is held by ${who}`);
}

function contendedError(directory: string): RootOfTrustError {
  return new RootOfTrustError(
    'ROT_DIRECTORY_LOCKED',
    `${directory}: other processes kept taking its lock over ${MAX_ACQUIRE_ATTEMPTS} attempts`,
  );
}

async function releaseLock(path: string): Promise<void> {
  // Never remove a lock that another process has since taken over.
  if ((await readLockHolder(path)) === process.pid) await rm(path, { force: true });
}

/**
 * Takes the device directory's lock, or throws ROT_DIRECTORY_LOCKED if a live process (this
 * one included) holds it. A lock whose pid is dead is taken over. A lock that names no pid is
 * treated as held: it is being written, or a crash left it half-written, and failing closed is
 * the safe reading of both.
 */
export async function lockDeviceDirectory(directory: string): Promise<DirectoryLock> {
  const path = join(directory, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < MAX_ACQUIRE_ATTEMPTS; attempt += 1) {
    if (await tryCreateLock(path)) {
      let released = false;
      return Object.freeze({
        path,
        async release(): Promise<void> {
          if (released) return;
          released = true;
          await releaseLock(path);
        },
      });
    }
    const holder = await readLockHolder(path);
    if (holder === null) continue;
    if (holder === undefined || isProcessAlive(holder)) throw lockedError(directory, holder);
    await removeStaleLock(path, holder);
  }
  throw contendedError(directory);
}
