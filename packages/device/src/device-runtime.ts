import { access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeBase64Url,
  decodePem,
  encodeBase64Url,
  parsePublicKeySpki,
  type PublicKey,
} from '@orbis/crypto';
import { parseCertificate } from '@orbis/verify';
import { runAttestationLoop, type AgentEvent } from './agent/device-agent.ts';
import { readDeviceManifest, writeDeviceManifest, DEVICE_MANIFEST_FORMAT } from './agent/device-directory.ts';
import type { BootReport } from './boot/boot-report.ts';
import { setActiveSlot, writeSlot } from './boot/flash.ts';
import { secureBoot } from './boot/secure-boot.ts';
import { BOOT_SLOTS, BOOT_STAGES, type BootStage } from './boot/stages.ts';
import { verifyBootImage } from './boot/verify-boot-image.ts';
import { AgentError, RootOfTrustError } from './errors.ts';
import { manufactureEmulatedRootOfTrust, openEmulatedRootOfTrust } from './rot/emulated/emulated-backend.ts';
import type { DeviceTrustAnchors } from './rot/root-of-trust.ts';

export interface ManufactureDeviceOptions {
  readonly trustAnchors: DeviceTrustAnchors;
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

function checkAnchors(anchors: DeviceTrustAnchors): PublicKey[] {
  const keys = osReleaseKeysOf(anchors);
  if (keys.length === 0) throw invalidAnchors('no OS-release key: the device could never boot');
  try {
    parsePublicKeySpki(decodeBase64Url(anchors.capabilityKey));
    parseCertificate(decodePem(anchors.platformRootPem));
  } catch (cause) {
    throw invalidAnchors('the capability key or the platform root does not parse', cause);
  }
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
 * identity key, the trust anchors, and the OS release in both slots of every boot stage, each
 * image checked against those anchors first so no unbootable device leaves the line. Ends in
 * DeviceComplete, which cannot be undone.
 */
export async function manufactureDevice(
  dir: string,
  options: ManufactureDeviceOptions,
): Promise<ManufacturedDevice> {
  if (await exists(join(dir, 'device.json'))) {
    throw new AgentError('AGENT_DEVICE_DIRECTORY_EXISTS', `${dir} already holds a device`);
  }
  const trustedKeys = checkAnchors(options.trustAnchors);
  for (const stage of BOOT_STAGES) {
    verifyBootImage(options.bootImages[stage], stage, { trustedKeys, floors: {} });
  }
  const root = await manufactureEmulatedRootOfTrust(
    dir,
    options.debugStatus === undefined ? {} : { debugStatus: options.debugStatus },
  );
  try {
    for (const stage of BOOT_STAGES) {
      for (const slot of BOOT_SLOTS) await writeSlot(dir, stage, slot, options.bootImages[stage]);
      await setActiveSlot(dir, stage, 'a');
    }
    await writeDeviceManifest(dir, {
      formatVersion: DEVICE_MANIFEST_FORMAT,
      deviceId: root.deviceId,
      identityKey: encodeBase64Url(root.identityKey.spki),
      backend: root.backend,
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
}

/**
 * Runs a device directory (`orbis device run DIR`): takes the directory (one process at a
 * time), boots it (secure and measured), then attests and keeps its certificate fresh until
 * `signal` aborts. A boot that halts rejects with BOOT_HALTED after recording why.
 */
export async function runDevice(dir: string, options: RunDeviceOptions): Promise<void> {
  const manifest = await readDeviceManifest(dir);
  if (manifest.backend !== 'emulated') {
    throw new RootOfTrustError('ROT_TPM_UNAVAILABLE', 'the TPM backend is not built yet');
  }
  const root = await openEmulatedRootOfTrust(dir);
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
