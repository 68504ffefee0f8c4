import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Durable file replacement for the device directory: root-of-trust state, flash slots, the boot
 * report, the held certificate. A counter that a crash can roll back is no
 * counter, so every write reaches the disk before the caller hears it succeeded: the bytes go
 * to a temporary file beside the target, which is fsynced and renamed over the target (rename
 * is atomic within a file system), and then the directory is fsynced so the rename itself
 * survives a power cut. A reader sees the old file or the new one, never a torn one.
 */

/** Owner read and write only: the emulated root of trust's secrets are these files. */
export const PRIVATE_FILE_MODE = 0o600;

/** Flushes a directory's entries (a rename or a new file in it) to the disk. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` to a new file (refusing to overwrite one) and fsyncs it, not its directory. */
export async function writeNewFileDurably(path: string, bytes: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'wx', PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` with `bytes` atomically and durably (see the module comment), creating its directory. */
export async function writeFileAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeNewFileDurably(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/**
 * Reads a whole file of at most `maxBytes`, checking the size before allocating, so a huge or
 * growing file on flash cannot exhaust memory. Returns null when the file is larger.
 */
export async function readFileBounded(path: string, maxBytes: number): Promise<Uint8Array | null> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) return null;
    const bytes = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
