import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  decodeBase64Url,
  decodePem,
  encodeBase64Url,
  parsePublicKeySpki,
  type PublicKey,
} from '@orbis/crypto';
import { parseCertificate } from '@orbis/verify';
import { runAttestationLoop, type AgentEvent } from './agent/device-agent.ts';
import {
  readDeviceManifest,
  writeDeviceManifest,
  writeTufRoots,
  DEVICE_MANIFEST_FORMAT,
  type DeviceManifest,
} from './agent/device-directory.ts';
import type { BootReport } from './boot/boot-report.ts';
import { setActiveSlot, writeSlot } from './boot/flash.ts';
import { secureBoot } from './boot/secure-boot.ts';
import { BOOT_SLOTS, BOOT_STAGES, type BootStage } from './boot/stages.ts';
import { verifyBootImage } from './boot/verify-boot-image.ts';
import { AgentError, RootOfTrustError } from './errors.ts';
import { manufactureEmulatedRootOfTrust, openEmulatedRootOfTrust } from './rot/emulated/emulated-backend.ts';
import type { DeviceTrustAnchors, RootOfTrust } from './rot/root-of-trust.ts';
import { startSwtpm } from './rot/tpm/swtpm.ts';
import type { TpmConnection } from './rot/tpm/tpm2-tools.ts';
import { manufactureTpmRootOfTrust, openTpmRootOfTrust } from './rot/tpm/tpm-backend.ts';
import { verifyTufRootPair } from './updates/tuf-root.ts';

/**
 * The root of trust a device is made with: the emulated one (state in the device directory),
 * or a TPM 2.0. A TPM is named by its TCTI (`device:/dev/tpmrm0`, `swtpm:host=…,port=…`); with
 * none named, the device gets its own swtpm, whose state lives in `<dir>/swtpm/` and which
 * manufacture and every run start and stop.
 */
export type RootOfTrustSelection =
  { readonly backend: 'emulated' } | { readonly backend: 'tpm'; readonly tpm?: TpmConnection | undefined };

export interface ManufactureDeviceOptions {
  readonly trustAnchors: DeviceTrustAnchors;
  /** Default: the emulated root of trust. */
  readonly rootOfTrust?: RootOfTrustSelection;
  /** The signed OS release the device ships with: one image package per boot stage, in both slots. */
  readonly bootImages: Readonly<Record<BootStage, Uint8Array>>;
  /** `dbgstat`; production devices keep the default, disabledPermanently. */
  readonly debugStatus?: number;
  readonly now: number;
}

export interface ManufacturedDevice {
  readonly dir: string;
  readonly deviceId: string;
  /** The identity key's canonical SPKI, DER: what the manufacturer's signed list registers. */
  readonly identitySpki: Uint8Array;
  /** With the TPM backend: the identity key's TPM2B_PUBLIC, which the list carries too. */
  readonly tpmPublic?: Uint8Array;
}

/** Where a device's own swtpm keeps its state, inside the device directory. */
export const DEVICE_SWTPM_DIRECTORY = 'swtpm' as const;

/**
 * Runs `work` with the device's TPM: the one named, or else the device's own swtpm (started
 * on free ports and stopped afterwards), or ROT_TPM_UNAVAILABLE if it has none.
 */
async function withTpm<T>(
  dir: string,
  named: TpmConnection | undefined,
  ownSwtpm: boolean,
  work: (tpm: TpmConnection) => Promise<T>,
): Promise<T> {
  if (named !== undefined) return work(named);
  if (!ownSwtpm) {
    throw new RootOfTrustError(
      'ROT_TPM_UNAVAILABLE',
      "this device's root of trust is a TPM it does not carry: name it (--tpm TCTI)",
    );
  }
  const swtpm = await startSwtpm(join(dir, DEVICE_SWTPM_DIRECTORY));
  try {
    return await work(swtpm);
  } finally {
    await swtpm.stop();
  }
}

function invalidAnchors(reason: string, cause?: unknown): AgentError {
  return new AgentError('AGENT_DEVICE_DIRECTORY_INVALID', `trust anchors: ${reason}`, { cause });
}

/** The OS-release keys a device boots with, parsed; manufacture refuses anchors that do not parse. */
export function osReleaseKeysOf(anchors: DeviceTrustAnchors): PublicKey[] {
  try {
    return anchors.osReleaseKeys.map((key) => parsePublicKeySpki(decodeBase64Url(key)));
  } catch (cause) {
    throw invalidAnchors('an OS-release key is not a canonical P-256 SPKI in base64url', cause);
  }
}

/**
 * The anchors, checked before anything is made: keys and the platform root parse, and both TUF
 * roots are ones the device can start updating from at `now` (AGENT_TUF_ROOT_INVALID).
 */
function checkAnchors(anchors: DeviceTrustAnchors, now: number): PublicKey[] {
  const keys = osReleaseKeysOf(anchors);
  if (keys.length === 0) throw invalidAnchors('no OS-release key: the device could never boot');
  try {
    parsePublicKeySpki(decodeBase64Url(anchors.capabilityKey));
    parseCertificate(decodePem(anchors.platformRootPem));
  } catch (cause) {
    throw invalidAnchors('the capability key or the platform root does not parse', cause);
  }
  verifyTufRootPair(anchors, now);
  return keys;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Manufacture (the factory's step, `orbis device manufacture`): a new root of trust with its
 * identity key, the trust anchors (the TUF roots also under tuf/), and the OS release in both
 * slots of every boot stage, each image checked against those anchors first so no unbootable
 * device leaves the line. Ends in DeviceComplete, which cannot be undone.
 */
export async function manufactureDevice(
  directory: string,
  options: ManufactureDeviceOptions,
): Promise<ManufacturedDevice> {
  // Absolute: the TPM backend runs tpm2-tools in scratch directories of its own.
  const dir = resolve(directory);
  if (await exists(join(dir, 'device.json'))) {
    throw new AgentError('AGENT_DEVICE_DIRECTORY_EXISTS', `${dir} already holds a device`);
  }
  const trustedKeys = checkAnchors(options.trustAnchors, options.now);
  for (const stage of BOOT_STAGES) {
    verifyBootImage(options.bootImages[stage], stage, { trustedKeys, floors: {} });
  }
  const selection = options.rootOfTrust ?? { backend: 'emulated' };
  const rotOptions = options.debugStatus === undefined ? {} : { debugStatus: options.debugStatus };
  if (selection.backend === 'emulated') {
    return finishManufacture(dir, await manufactureEmulatedRootOfTrust(dir, rotOptions), options, undefined);
  }
  const ownSwtpm = selection.tpm === undefined;
  return withTpm(dir, selection.tpm, ownSwtpm, async (tpm) => {
    const root = await manufactureTpmRootOfTrust(dir, { ...rotOptions, tpm });
    const made = await finishManufacture(dir, root, options, ownSwtpm ? DEVICE_SWTPM_DIRECTORY : undefined);
    return { ...made, tpmPublic: root.tpmPublic };
  });
}

/** The slots, the manifest and DeviceComplete, on a root of trust just made; closes it. */
async function finishManufacture(
  dir: string,
  root: RootOfTrust,
  options: ManufactureDeviceOptions,
  swtpmState: typeof DEVICE_SWTPM_DIRECTORY | undefined,
): Promise<ManufacturedDevice> {
  try {
    for (const stage of BOOT_STAGES) {
      for (const slot of BOOT_SLOTS) await writeSlot(dir, stage, slot, options.bootImages[stage]);
      await setActiveSlot(dir, stage, 'a');
    }
    await writeTufRoots(dir, options.trustAnchors);
    await writeDeviceManifest(dir, {
      formatVersion: DEVICE_MANIFEST_FORMAT,
      deviceId: root.deviceId,
      identityKey: encodeBase64Url(root.identityKey.spki),
      backend: root.backend,
      ...(swtpmState === undefined ? {} : { swtpmState }),
      manufacturedAt: options.now,
      trustAnchors: options.trustAnchors,
    });
    await root.completeManufacturing();
    return { dir, deviceId: root.deviceId, identitySpki: root.identityKey.spki };
  } finally {
    await root.close();
  }
}

export interface RunDeviceOptions {
  readonly serviceUrl: string;
  readonly onEvent?: (event: AgentEvent | { readonly kind: 'booted'; readonly report: BootReport }) => void;
  /** Shuts the device down. */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** The TPM of a TPM-backed device that does not carry its own swtpm. */
  readonly tpm?: TpmConnection | undefined;
}

/**
 * Runs a device directory (`orbis device run DIR`): takes the directory (one process at a
 * time), boots it (secure and measured), then attests and keeps its certificate fresh until
 * `signal` aborts. A boot that halts rejects with BOOT_HALTED after recording why.
 */
export async function runDevice(directory: string, options: RunDeviceOptions): Promise<void> {
  const dir = resolve(directory);
  const manifest = await readDeviceManifest(dir);
  if (manifest.backend === 'emulated') {
    await bootAndAttest(dir, manifest, await openEmulatedRootOfTrust(dir), options);
    return;
  }
  await withTpm(dir, options.tpm, manifest.swtpmState !== undefined, async (tpm) => {
    await bootAndAttest(dir, manifest, await openTpmRootOfTrust(dir, { tpm }), options);
  });
}

async function bootAndAttest(
  dir: string,
  manifest: DeviceManifest,
  root: RootOfTrust,
  options: RunDeviceOptions,
): Promise<void> {
  try {
    await root.beginBoot();
    const report = await secureBoot(dir, root, { trustedOsKeys: osReleaseKeysOf(manifest.trustAnchors) });
    options.onEvent?.({ kind: 'booted', report });
    await runAttestationLoop({
      dir,
      root,
      serviceUrl: options.serviceUrl,
      platformRootPem: manifest.trustAnchors.platformRootPem,
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } finally {
    await root.close();
  }
}
