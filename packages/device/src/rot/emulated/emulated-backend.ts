import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { publicKeyFromKeyObject } from '@orbis/crypto';
import { DEBUG_STATUS } from '@orbis/protocol';
import { RootOfTrustError } from '../../errors.ts';
import { syncDirectory } from '../atomic-file.ts';
import { lockDeviceDirectory, type DirectoryLock } from '../directory-lock.ts';
import type { RootOfTrust } from '../root-of-trust.ts';
import { createEmulatedRootOfTrust } from './emulated-root-of-trust.ts';
import { generateP256Key } from './key-files.ts';
import { rotDirectoryOf, rotPathsIn, type RotPaths } from './layout.ts';
import { loadRotMaterial, UDS_BYTES, writeNewRotFiles, type RotMaterial } from './rot-files.ts';
import { isDebugStatus } from './state-file.ts';
import { BACKEND_MARKER_NAME } from '../tpm/tpm-layout.ts';

/**
 * Making and opening the emulated root of trust in a device directory. Both take the
 * directory's lock first, and the RootOfTrust they return holds it until close().
 */

export interface ManufactureEmulatedOptions {
  /** `dbgstat` (RFC 9711) the device will report; DEBUG_STATUS.disabledPermanently unless given. */
  readonly debugStatus?: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** A Blank root of trust: a fresh UDS and identity key, counters at zero, no certificate key yet. */
function createRotMaterial(debugStatus: number): RotMaterial {
  const identityKey = generateP256Key();
  return {
    uds: new Uint8Array(randomBytes(UDS_BYTES)),
    identityKey,
    certificateKey: undefined,
    state: {
      deviceId: publicKeyFromKeyObject(identityKey).keyId,
      manufacturingState: 'Blank',
      debugStatus,
      bootcount: 0,
      capabilityEpoch: 0,
      antiRollback: {},
      notBeforeMs: 0,
    },
  };
}

/** Writes the files into a staging directory and renames it to `rot/`: all of them appear, or none. */
async function installRotFiles(paths: RotPaths, material: RotMaterial): Promise<void> {
  const staging = `${paths.directory}.${randomBytes(6).toString('hex')}.staging`;
  await mkdir(staging, { mode: 0o700 });
  try {
    await writeNewRotFiles(rotPathsIn(staging), material);
    await rename(staging, paths.directory);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  await syncDirectory(dirname(paths.directory));
}

/** Runs `open` under the directory's lock, releasing the lock if it fails. */
async function withDirectoryLock(
  directory: string,
  open: (lock: DirectoryLock) => Promise<RootOfTrust>,
): Promise<RootOfTrust> {
  const lock = await lockDeviceDirectory(directory);
  try {
    return await open(lock);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/**
 * Creates the root-of-trust state under `<dir>/rot/` (creating `dir` if needed) and returns it
 * opened, Blank. Refuses with ROT_STATE_INVALID if `<dir>/rot/` exists: manufacturing again
 * would give the device a new identity and reset its counters.
 */
export async function manufactureEmulatedRootOfTrust(
  dir: string,
  options: ManufactureEmulatedOptions = {},
): Promise<RootOfTrust> {
  const debugStatus = options.debugStatus ?? DEBUG_STATUS.disabledPermanently;
  if (!isDebugStatus(debugStatus))
    throw new RangeError(`debugStatus ${String(debugStatus)} is not a dbgstat value`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withDirectoryLock(dir, async (lock) => {
    const paths = rotPathsIn(rotDirectoryOf(dir));
    if (await exists(paths.directory)) {
      throw new RootOfTrustError('ROT_STATE_INVALID', `${dir} already holds a root of trust`);
    }
    const material = createRotMaterial(debugStatus);
    await installRotFiles(paths, material);
    return createEmulatedRootOfTrust({ paths, material, lock });
  });
}

/**
 * Opens the root of trust in `dir`. ROT_STATE_INVALID if it is missing, unreadable or altered;
 * ROT_DIRECTORY_LOCKED if another live process (or this one) has the directory open.
 */
export async function openEmulatedRootOfTrust(dir: string): Promise<RootOfTrust> {
  const paths = rotPathsIn(rotDirectoryOf(dir));
  if (!(await exists(paths.directory))) {
    throw new RootOfTrustError('ROT_STATE_INVALID', `${dir} holds no root of trust (no ${paths.directory})`);
  }
  if (await exists(join(paths.directory, BACKEND_MARKER_NAME))) {
    throw new RootOfTrustError('ROT_STATE_INVALID', `${dir} holds a TPM root of trust, not an emulated one`);
  }
  return withDirectoryLock(dir, async (lock) =>
    createEmulatedRootOfTrust({ paths, material: await loadRotMaterial(paths), lock }),
  );
}
