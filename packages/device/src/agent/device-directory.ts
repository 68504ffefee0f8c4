import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../rot/atomic-file.ts';
import { decodeBase64Url, parsePublicKeySpki, type PublicKey } from '@orbis/crypto';
import { AgentError } from '../errors.ts';
import type { DeviceTrustAnchors } from '../rot/root-of-trust.ts';
import type { HeldCertificate } from './attestation-client.ts';

/*
 * A device is a directory (ARCHITECTURE.md, Apps and the device OS):
 *
 *   device.json            what manufacture wrote: device ID and identity key, backend, trust anchors
 *   tuf/image-repository/root.json, tuf/director/root.json
 *                          the TUF roots from the trust anchors, where the update client starts
 *   rot/                   the root of trust's state (emulated: fuses, keys, counters; TPM: key
 *                          blobs only this TPM loads, the state file its counter guards)
 *   swtpm/                 TPM backend without a TPM named: the device's own swtpm state
 *   flash/<stage>/{a,b}.img, active   boot slots (boot/flash.ts)
 *   boot/last-boot.json    what the last boot verified, measured and refused
 *   state/certificate.json the current certificate and the tenant's anchors
 *   lock                   held by the one process running the device
 */

/** Format 2: the trust anchors carry the TUF roots. */
export const DEVICE_MANIFEST_FORMAT = 2;

/** Where manufacture writes the TUF roots, inside the device directory. */
export const TUF_ROOT_PATHS = Object.freeze({
  imageRepository: join('tuf', 'image-repository', 'root.json'),
  director: join('tuf', 'director', 'root.json'),
} as const);

export interface DeviceManifest {
  readonly formatVersion: typeof DEVICE_MANIFEST_FORMAT;
  readonly deviceId: string;
  /** The identity key's canonical SPKI, base64url: what the manufacturer's list registers. */
  readonly identityKey: string;
  readonly backend: 'emulated' | 'tpm';
  /** TPM backend only: the directory (inside this one) of the device's own swtpm, if it has one. */
  readonly swtpmState?: 'swtpm';
  readonly manufacturedAt: number;
  readonly trustAnchors: DeviceTrustAnchors;
}

const manifestPath = (dir: string) => join(dir, 'device.json');
const certificatePath = (dir: string) => join(dir, 'state', 'certificate.json');

function damaged(what: string, cause?: unknown): AgentError {
  return new AgentError('AGENT_DEVICE_DIRECTORY_INVALID', what, { cause });
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw damaged(`${path} cannot be read`, cause);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw damaged(`${path} is not JSON`, cause);
  }
}

/** Writes the TUF roots where the update client starts from, durably, byte for byte. */
export async function writeTufRoots(dir: string, anchors: DeviceTrustAnchors): Promise<void> {
  await writeFileAtomically(join(dir, TUF_ROOT_PATHS.imageRepository), anchors.imageRepositoryRoot);
  await writeFileAtomically(join(dir, TUF_ROOT_PATHS.director), anchors.directorRoot);
}

export async function writeDeviceManifest(dir: string, manifest: DeviceManifest): Promise<void> {
  await writeFileAtomically(manifestPath(dir), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The manifest manufacture wrote; AGENT_DEVICE_DIRECTORY_INVALID if `dir` is not a device. */
export async function readDeviceManifest(dir: string): Promise<DeviceManifest> {
  const value = (await readJson(manifestPath(dir))) as Partial<DeviceManifest> | undefined;
  if (value === undefined) throw damaged(`${dir} is not a device directory (no device.json)`);
  if ((value.formatVersion as unknown) === 1) {
    throw damaged(
      `${manifestPath(dir)} is of format 1, made before devices carried TUF roots: manufacture it again`,
    );
  }
  const anchors = value.trustAnchors;
  if (
    value.formatVersion !== DEVICE_MANIFEST_FORMAT ||
    typeof value.deviceId !== 'string' ||
    !/^[0-9a-f]{64}$/.test(value.deviceId) ||
    (value.backend !== 'emulated' && value.backend !== 'tpm') ||
    typeof anchors?.platformRootPem !== 'string' ||
    !Array.isArray(anchors.osReleaseKeys) ||
    typeof anchors.capabilityKey !== 'string' ||
    typeof anchors.imageRepositoryRoot !== 'string' ||
    typeof anchors.directorRoot !== 'string' ||
    typeof value.identityKey !== 'string' ||
    // JSON from disk: the type says 'swtpm', the file may say anything.
    !(
      value.swtpmState === undefined ||
      (value.backend === 'tpm' && (value.swtpmState as unknown) === 'swtpm')
    )
  ) {
    throw damaged(`${manifestPath(dir)} is not a device manifest of format ${DEVICE_MANIFEST_FORMAT}`);
  }
  if (identityKeyOf(value as DeviceManifest).keyId !== value.deviceId) {
    throw damaged(`${manifestPath(dir)}: the identity key does not name device ${value.deviceId}`);
  }
  return value as DeviceManifest;
}

/** The manifest's identity key, parsed; AGENT_DEVICE_DIRECTORY_INVALID if it is not a P-256 SPKI. */
export function identityKeyOf(manifest: DeviceManifest): PublicKey {
  try {
    return parsePublicKeySpki(decodeBase64Url(manifest.identityKey));
  } catch (cause) {
    throw damaged('the manifest’s identity key is not a canonical P-256 SPKI', cause);
  }
}

export async function writeHeldCertificate(dir: string, held: HeldCertificate): Promise<void> {
  await writeFileAtomically(certificatePath(dir), `${JSON.stringify(held, null, 2)}\n`);
}

/** The certificate the device holds, if any. */
export async function readHeldCertificate(dir: string): Promise<HeldCertificate | undefined> {
  const value = (await readJson(certificatePath(dir))) as Partial<HeldCertificate> | undefined;
  if (value === undefined) return undefined;
  if (
    typeof value.certificate !== 'string' ||
    typeof value.notBefore !== 'number' ||
    typeof value.notAfter !== 'number' ||
    typeof value.receivedAt !== 'number' ||
    !Array.isArray(value.anchors)
  ) {
    throw damaged(`${certificatePath(dir)} is not a held certificate`);
  }
  return value as HeldCertificate;
}
