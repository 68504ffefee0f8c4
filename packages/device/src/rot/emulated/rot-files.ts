import type { KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { publicKeyFromKeyObject } from '@orbis/crypto';
import { RootOfTrustError } from '../../errors.ts';
import { syncDirectory, writeNewFileDurably } from '../atomic-file.ts';
import { encodePkcs8, MAX_KEY_FILE_BYTES, parseP256Pkcs8 } from './key-files.ts';
import type { RotPaths } from './layout.ts';
import {
  deriveStateMacKey,
  encodeStateFile,
  MAX_STATE_FILE_BYTES,
  parseStateFile,
  type EmulatedRotState,
} from './state-file.ts';

/** The unique device secret's size, in bytes. */
export const UDS_BYTES = 32;

/** Everything the emulated root of trust keeps in its files, read and checked. */
export interface RotMaterial {
  readonly uds: Uint8Array;
  readonly identityKey: KeyObject;
  /** Undefined until the first rotateCertificateKey. */
  readonly certificateKey: KeyObject | undefined;
  readonly state: EmulatedRotState;
}

function invalid(reason: string, cause?: unknown): RootOfTrustError {
  return new RootOfTrustError('ROT_STATE_INVALID', reason, { cause });
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Reads a file no larger than `maxBytes`; undefined if it does not exist and `optional`. */
async function readBounded(
  path: string,
  maxBytes: number,
  optional = false,
): Promise<Uint8Array | undefined> {
  try {
    // The size is checked first so a damaged or hostile file is never read whole into memory.
    if ((await stat(path)).size > maxBytes) throw invalid(`${path} is larger than ${maxBytes} bytes`);
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if (optional && isMissing(error)) return undefined;
    if (error instanceof RootOfTrustError) throw error;
    throw invalid(`cannot read ${path}`, error);
  }
}

async function readRequired(path: string, maxBytes: number): Promise<Uint8Array> {
  return (await readBounded(path, maxBytes)) as Uint8Array;
}

async function loadCertificateKey(paths: RotPaths, identityKeyId: string): Promise<KeyObject | undefined> {
  const der = await readBounded(paths.certificateKey, MAX_KEY_FILE_BYTES, true);
  if (der === undefined) return undefined;
  const key = parseP256Pkcs8(der, paths.certificateKey);
  // The service refuses a cnf that is the identity key; a state that would produce one is damaged.
  if (publicKeyFromKeyObject(key).keyId === identityKeyId)
    throw invalid('the certificate key is the identity key');
  return key;
}

/**
 * Reads and checks the root-of-trust files: UDS size, key encodings, the state file's MAC, and
 * that the identity key is the one the state records (its SHA-256 is the device ID). Any
 * failure is ROT_STATE_INVALID.
 */
export async function loadRotMaterial(paths: RotPaths): Promise<RotMaterial> {
  const uds = await readRequired(paths.uds, UDS_BYTES);
  if (uds.byteLength !== UDS_BYTES) throw invalid(`${paths.uds} is not ${UDS_BYTES} bytes`);
  const identityKey = parseP256Pkcs8(
    await readRequired(paths.identityKey, MAX_KEY_FILE_BYTES),
    paths.identityKey,
  );
  const state = parseStateFile(await readRequired(paths.state, MAX_STATE_FILE_BYTES), deriveStateMacKey(uds));
  const identityKeyId = publicKeyFromKeyObject(identityKey).keyId;
  if (identityKeyId !== state.deviceId) {
    throw invalid(`${paths.identityKey} is not the identity key of device ${state.deviceId}`);
  }
  const certificateKey = await loadCertificateKey(paths, identityKeyId);
  return { uds, identityKey, certificateKey, state };
}

/**
 * Writes a new set of root-of-trust files into an empty directory and fsyncs it. Manufacture
 * writes them into a staging directory and renames it into place, so a device directory holds
 * a whole root of trust or none.
 */
export async function writeNewRotFiles(paths: RotPaths, material: RotMaterial): Promise<void> {
  await writeNewFileDurably(paths.uds, material.uds);
  await writeNewFileDurably(paths.identityKey, encodePkcs8(material.identityKey));
  if (material.certificateKey !== undefined) {
    await writeNewFileDurably(paths.certificateKey, encodePkcs8(material.certificateKey));
  }
  await writeNewFileDurably(paths.state, encodeStateFile(material.state, deriveStateMacKey(material.uds)));
  await syncDirectory(paths.directory);
}
