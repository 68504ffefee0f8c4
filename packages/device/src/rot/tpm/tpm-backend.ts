import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { constantTimeEqual } from '@orbis/crypto';
import { DEBUG_STATUS } from '@orbis/protocol';
import { RootOfTrustError } from '../../errors.ts';
import { readFileBounded, syncDirectory, writeNewFileDurably } from '../atomic-file.ts';
import { lockDeviceDirectory, type DirectoryLock } from '../directory-lock.ts';
import type { ManufactureEmulatedOptions } from '../emulated/emulated-backend.ts';
import { rotDirectoryOf, rotPathsIn } from '../emulated/layout.ts';
import { isDebugStatus, MAX_STATE_FILE_BYTES } from '../emulated/state-file.ts';
import type { TpmConnection } from './tpm2-tools.ts';
import {
  assertTpmCounters,
  defineTpmCounter,
  initializeTpmCounter,
  readTpmCounter,
  tpmCounterIndices,
  undefineTpmCounter,
  type TpmCounterIndices,
  type TpmCounterRole,
} from './tpm-counters.ts';
import { createTpmIdentityKey, IDENTITY_KEY_NAME, tpmIdentityPublicKey } from './tpm-identity.ts';
import { TPM_BACKEND_MARKER, tpmRotPathsIn, type TpmRotPaths } from './tpm-layout.ts';
import { SCRATCH_PREFIX, withScratch } from './tpm-objects.ts';
import { swtpmControlOf } from './tpm-platform.ts';
import { createTpmRootOfTrust, type TpmRootOfTrust, type TpmRootOfTrustParts } from './tpm-root-of-trust.ts';
import { createTpmDeviceSecret, SECRET_KEY_NAME, withTpmDeviceSecret } from './tpm-secret.ts';
import { encodeTpmStateFile, parseTpmStateFile, tpmStateMacInput, type TpmRotState } from './tpm-state.ts';
import { TpmStateStore, type TpmStateStoreParts } from './tpm-state-store.ts';

/**
 * Making and opening the TPM 2.0 root of trust in a device directory, as emulated-backend.ts
 * does for the emulated one: both take the directory's lock first, and the root of trust they
 * return holds it until close().
 */

export interface ManufactureTpmOptions extends ManufactureEmulatedOptions {
  /** The TPM: `swtpm:host=…,port=…` (reset by beginBoot as a power-on would) or `device:/dev/tpmrm0`. */
  readonly tpm: TpmConnection;
}

export interface OpenTpmOptions {
  /** The TPM the device was manufactured on: its keys load in no other (ROT_TPM_KEY_UNLOADABLE). */
  readonly tpm: TpmConnection;
}

/** Largest identity.pub read back, in bytes: an ECC TPM2B_PUBLIC is about 90. */
const MAX_TPM_PUBLIC_BYTES = 1024;
const MAX_MARKER_BYTES = 256;
const KEY_BLOBS = [IDENTITY_KEY_NAME, SECRET_KEY_NAME].flatMap((name) => [`${name}.pub`, `${name}.priv`]);

function invalid(reason: string, cause?: unknown): RootOfTrustError {
  return new RootOfTrustError('ROT_STATE_INVALID', reason, { cause });
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Throws RangeError for a TCTI the backend cannot use (a `swtpm:` one it cannot read). */
function assertTpmConnection(tpm: TpmConnection): void {
  if (typeof tpm.tcti !== 'string' || tpm.tcti === '' || /[\0\n]/.test(tpm.tcti)) {
    throw new RangeError('the TPM connection needs a TCTI string');
  }
  swtpmControlOf(tpm.tcti);
}

/** Runs `open` under the directory's lock, releasing the lock if it fails. */
async function withDirectoryLock(
  directory: string,
  open: (lock: DirectoryLock) => Promise<TpmRootOfTrust>,
): Promise<TpmRootOfTrust> {
  const lock = await lockDeviceDirectory(directory);
  try {
    return await open(lock);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** A whole file of at most `maxBytes`, else ROT_STATE_INVALID. */
async function readRequired(path: string, maxBytes: number): Promise<Uint8Array> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readFileBounded(path, maxBytes);
  } catch (cause) {
    throw invalid(`cannot read ${path}`, cause);
  }
  if (bytes === null) throw invalid(`${path} is larger than ${maxBytes} bytes`);
  return bytes;
}

/** tpm2-tools writes the key blobs without fsync; a device must not lose its identity to a power cut. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface MadeRot {
  readonly state: TpmRotState;
  readonly generation: number;
  readonly counters: TpmCounterIndices;
  readonly identityKey: TpmRootOfTrustParts['identityKey'];
  readonly tpmPublic: Uint8Array;
}

function storeParts(
  paths: TpmRotPaths,
  tpm: TpmConnection,
  counters: TpmCounterIndices,
  state: TpmRotState,
  generation: number,
): TpmStateStoreParts {
  return {
    directory: paths.directory,
    statePath: paths.state,
    tpm,
    counter: counters.stateGeneration,
    state,
    generation,
  };
}

/** Defines the device's three counters, recording each in `defined` as soon as it exists. */
async function defineCounters(
  tpm: TpmConnection,
  counters: TpmCounterIndices,
  scratch: string,
  defined: number[],
): Promise<Record<TpmCounterRole, number>> {
  const bases: Partial<Record<TpmCounterRole, number>> = {};
  for (const role of ['bootcount', 'capabilityEpoch', 'stateGeneration'] as const) {
    await defineTpmCounter(tpm, counters[role], scratch);
    defined.push(counters[role]);
    bases[role] = await initializeTpmCounter(tpm, counters[role], scratch);
  }
  return bases as Record<TpmCounterRole, number>;
}

/** Keys, counters, marker and a Blank state, in `staging` (which becomes `rot/`). */
async function makeTpmRot(
  staging: string,
  tpm: TpmConnection,
  debugStatus: number,
  defined: number[],
): Promise<MadeRot> {
  const paths = tpmRotPathsIn(staging);
  const identityKey = await createTpmIdentityKey(staging, tpm);
  await createTpmDeviceSecret(staging, tpm);
  const counters = tpmCounterIndices(identityKey.keyId);
  const bases = await withScratch(staging, (scratch) => defineCounters(tpm, counters, scratch, defined));
  const state: TpmRotState = {
    deviceId: identityKey.keyId,
    manufacturingState: 'Blank',
    debugStatus,
    antiRollback: {},
    notBeforeMs: 0,
    certificateKey: null,
    counterBases: { bootcount: bases.bootcount, capabilityEpoch: bases.capabilityEpoch },
  };
  // The first file is written under the counter's current value: no older copy of it can exist.
  const generation = bases.stateGeneration;
  const mac = await withTpmDeviceSecret(staging, tpm, (hmac) => hmac(tpmStateMacInput(state, generation)));
  await writeNewFileDurably(paths.marker, TPM_BACKEND_MARKER);
  await writeNewFileDurably(paths.state, encodeTpmStateFile(state, generation, mac));
  for (const blob of KEY_BLOBS) await syncFile(join(staging, blob));
  await syncDirectory(staging);
  const tpmPublic = await readRequired(paths.identityPublic, MAX_TPM_PUBLIC_BYTES);
  return { state, generation, counters, identityKey, tpmPublic };
}

/**
 * Creates the root of trust in the TPM and under `<dir>/rot/` (creating `dir` if needed) and
 * returns it opened, Blank. Refuses with ROT_STATE_INVALID if `<dir>/rot/` exists. The files
 * are made in a staging directory renamed into place, so `rot/` is whole or absent; counters
 * defined before a failure are deleted again.
 */
export async function manufactureTpmRootOfTrust(
  dir: string,
  options: ManufactureTpmOptions,
): Promise<TpmRootOfTrust> {
  const debugStatus = options.debugStatus ?? DEBUG_STATUS.disabledPermanently;
  if (!isDebugStatus(debugStatus))
    throw new RangeError(`debugStatus ${String(debugStatus)} is not a dbgstat value`);
  const { tpm } = options;
  assertTpmConnection(tpm);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withDirectoryLock(dir, async (lock) => {
    const paths = tpmRotPathsIn(rotDirectoryOf(dir));
    if (await exists(paths.directory)) {
      throw new RootOfTrustError('ROT_STATE_INVALID', `${dir} already holds a root of trust`);
    }
    const staging = `${paths.directory}.${randomBytes(6).toString('hex')}.staging`;
    const defined: number[] = [];
    let made: MadeRot;
    try {
      await mkdir(staging, { mode: 0o700 });
      made = await makeTpmRot(staging, tpm, debugStatus, defined);
      await rename(staging, paths.directory);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      for (const index of defined) await undefineTpmCounter(tpm, index, dir);
      throw error;
    }
    await syncDirectory(dirname(paths.directory));
    const { state, generation, counters, identityKey, tpmPublic } = made;
    const store = new TpmStateStore(storeParts(paths, tpm, counters, state, generation));
    return createTpmRootOfTrust({ paths, tpm, lock, identityKey, tpmPublic, counters, store });
  });
}

/** The marker must name the TPM backend; an emulated directory is named as such. */
async function assertTpmMarker(paths: TpmRotPaths): Promise<void> {
  let marker: Uint8Array | null;
  try {
    marker = await readFileBounded(paths.marker, MAX_MARKER_BYTES);
  } catch (cause) {
    if (!isMissing(cause)) throw invalid(`cannot read ${paths.marker}`, cause);
    if (await exists(rotPathsIn(paths.directory).uds)) {
      throw invalid(`${paths.directory} holds an emulated root of trust, not a TPM one`, cause);
    }
    throw invalid(`${paths.directory} has no backend marker: it is not a TPM root of trust`, cause);
  }
  if (marker === null || Buffer.from(marker).toString('utf8') !== TPM_BACKEND_MARKER) {
    throw invalid(`${paths.marker} does not name the TPM backend`);
  }
}

/** Scratch directories a crash left behind (no secrets: HMAC results never reach a file). */
async function removeScratchLeftovers(directory: string): Promise<void> {
  for (const name of await readdir(directory)) {
    if (name.startsWith(SCRATCH_PREFIX)) await rm(join(directory, name), { recursive: true, force: true });
  }
}

async function assertStateMac(
  paths: TpmRotPaths,
  tpm: TpmConnection,
  file: ReturnType<typeof parseTpmStateFile>,
): Promise<void> {
  const input = tpmStateMacInput(file.state, file.generation);
  const expected = await withTpmDeviceSecret(paths.directory, tpm, (hmac) => hmac(input));
  if (!constantTimeEqual(expected, file.mac)) {
    throw invalid(`${paths.state}: the MAC does not match: the file was altered, or is another device's`);
  }
}

/**
 * The rollback check: the file must be at the counter's value, or one above it (a commit a crash
 * cut off between writing the file and incrementing the counter). Anything older is a copy put
 * back; anything further ahead was never written under this TPM's counter.
 */
function assertCurrentGeneration(paths: TpmRotPaths, fileGeneration: number, counter: number): void {
  if (fileGeneration < counter) {
    throw invalid(
      `${paths.state} is an older copy: written under generation ${fileGeneration}, the TPM's counter is at ${counter}`,
    );
  }
  if (fileGeneration > counter + 1) {
    throw invalid(`${paths.state} claims generation ${fileGeneration}; the TPM's counter is at ${counter}`);
  }
}

/**
 * Opens the TPM root of trust in `dir`. ROT_STATE_INVALID if it is missing, another backend's,
 * altered or rolled back; ROT_TPM_KEY_UNLOADABLE if its keys belong to another TPM;
 * ROT_DIRECTORY_LOCKED if another live process (or this one) has it open. Before it resolves,
 * the state is written again under a fresh generation (tpm-state-store.ts says why).
 */
export async function openTpmRootOfTrust(dir: string, options: OpenTpmOptions): Promise<TpmRootOfTrust> {
  const { tpm } = options;
  assertTpmConnection(tpm);
  const paths = tpmRotPathsIn(rotDirectoryOf(dir));
  if (!(await exists(paths.directory))) {
    throw invalid(`${dir} holds no root of trust (no ${paths.directory})`);
  }
  return withDirectoryLock(dir, async (lock) => {
    await assertTpmMarker(paths);
    await removeScratchLeftovers(paths.directory);
    const tpmPublic = await readRequired(paths.identityPublic, MAX_TPM_PUBLIC_BYTES);
    const identityKey = await tpmIdentityPublicKey(paths.directory, tpm);
    const file = parseTpmStateFile(await readRequired(paths.state, MAX_STATE_FILE_BYTES));
    await assertStateMac(paths, tpm, file);
    if (file.state.deviceId !== identityKey.keyId) {
      throw invalid(`${paths.state} is not the state of device ${identityKey.keyId}`);
    }
    const counters = tpmCounterIndices(identityKey.keyId);
    const generation = await withScratch(paths.directory, async (scratch) => {
      await assertTpmCounters(tpm, counters, scratch);
      return readTpmCounter(tpm, counters.stateGeneration, scratch);
    });
    assertCurrentGeneration(paths, file.generation, generation);
    const parts = storeParts(paths, tpm, counters, file.state, generation);
    const store = await TpmStateStore.resume(parts, file.generation);
    return createTpmRootOfTrust({ paths, tpm, lock, identityKey, tpmPublic, counters, store });
  });
}
