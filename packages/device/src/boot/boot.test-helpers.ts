import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { packImage } from '@orbis/ca';
import {
  canonicalJsonBytes,
  encodeBase64Url,
  generateSoftwareSigner,
  sha256,
  SHA256_BYTES,
  type Signer,
} from '@orbis/crypto';
import type { AppImageHeader, BootLogEntry, PlatformImageHeader } from '@orbis/protocol';
import { sampleAppHeader, sampleOsHeader } from '@orbis/testkit';
import type { BootRoot } from './boot-root.ts';
import { BOOT_REPORT_PATH, type BootReport } from './boot-report.ts';
import { writeSlot } from './flash.ts';
import { BOOT_STAGES, type BootSlot, type BootStage } from './stages.ts';

/**
 * An in-memory stand-in for the root of trust, implementing only what boot uses, with the
 * register defined as the interface documents it: 32 zero bytes, extended for each entry by
 * register = SHA-256(register ‖ SHA-256(canonical JSON of the entry)). The real emulated root
 * lives in rot/emulated/; boot's tests must not depend on it.
 */
export interface MemoryBootRootOptions {
  readonly floors?: Readonly<Record<string, number>>;
  readonly bootcount?: number;
}

export function createMemoryBootRoot(options: MemoryBootRootOptions = {}): BootRoot {
  const log: BootLogEntry[] = [];
  let register: Uint8Array = new Uint8Array(SHA256_BYTES);
  const boot = { bootcount: options.bootcount ?? 1, bootseed: encodeBase64Url(new Uint8Array(32).fill(7)) };
  const floors = { ...options.floors };
  return {
    currentBoot: () => boot,
    antiRollbackFloors: () => Promise.resolve(floors),
    measure: (entry) => {
      register = sha256(Buffer.concat([register, sha256(canonicalJsonBytes(entry))]));
      log.push(entry);
      return Promise.resolve();
    },
    bootLog: () => [...log],
    measurementRegister: () => register.slice(),
  };
}

/** The OS-release key the test devices trust. */
export const osReleaseSigner: Signer = generateSoftwareSigner().signer;
/** A tenant's app-signing key. */
export const appSigner: Signer = generateSoftwareSigner().signer;

const STAGE_HEADERS: Record<BootStage, PlatformImageHeader> = {
  bootloader: {
    kind: 'bootloader',
    componentId: '2b4d6f81-3a5c-4e7d-9f10-2c4e6a8b0d13',
    imageId: '8e0a2c4d-6f81-4b3d-a5c7-e9f1b3d5a7c9',
    name: 'Orbis bootloader',
    version: '26.11.0',
    securityVersion: 1,
  },
  'security-monitor': {
    kind: 'security-monitor',
    componentId: '6c8e0a2b-4d6f-4813-a5c7-9e1f3b5d7a90',
    imageId: '3f5a7c9e-1b3d-4f5a-8c7e-0d2f4a6c8e1b',
    name: 'Orbis security monitor',
    version: '26.11.0',
    securityVersion: 2,
  },
  os: sampleOsHeader,
};

export interface StageImageOptions {
  readonly securityVersion?: number;
  readonly version?: string;
  readonly signers?: readonly Signer[];
  readonly payloadBytes?: number;
}

/** The header of a stage's image, with the versions a test needs changed. */
export function stageHeader(stage: BootStage, options: StageImageOptions = {}): PlatformImageHeader {
  const base = STAGE_HEADERS[stage];
  return {
    ...base,
    version: options.version ?? base.version,
    securityVersion: options.securityVersion ?? base.securityVersion,
  };
}

/** A signed image package for `stage`, its payload filled so that each stage's bytes differ. */
export function packStageImage(stage: BootStage, options: StageImageOptions = {}): Promise<Uint8Array> {
  const payload = new Uint8Array(options.payloadBytes ?? 1024).fill(BOOT_STAGES.indexOf(stage) + 0x41);
  return packImage({
    header: stageHeader(stage, options),
    payload,
    signers: options.signers ?? [osReleaseSigner],
  });
}

/** An app image of `tenantId` (the sample tenant by default), signed by the app key. */
export function packAppImage(options: { tenantId?: string; signers?: readonly Signer[] } = {}) {
  const header: AppImageHeader = {
    ...sampleAppHeader,
    tenantId: options.tenantId ?? sampleAppHeader.tenantId,
  };
  const payload = new TextEncoder().encode('console.log("blink");');
  return packImage({ header, payload, signers: options.signers ?? [appSigner] });
}

/** A fresh device directory; remove it with removeDevice. */
export function createDeviceDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'orbis-boot-'));
}

export function removeDevice(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Flashes a good image of every stage into `slot` and returns them. */
export async function flashGoodChain(
  dir: string,
  slot: BootSlot = 'a',
): Promise<Record<BootStage, Uint8Array>> {
  const images = {
    bootloader: await packStageImage('bootloader'),
    'security-monitor': await packStageImage('security-monitor'),
    os: await packStageImage('os'),
  };
  for (const stage of BOOT_STAGES) await writeSlot(dir, stage, slot, images[stage]);
  return images;
}

/** A copy of `bytes` with the byte at `offset` inverted. */
export function flipByte(bytes: Uint8Array, offset: number): Uint8Array {
  const altered = Uint8Array.from(bytes);
  altered[offset] = (altered[offset] ?? 0) ^ 0xff;
  return altered;
}

/** The report as written to the device directory. */
export async function readBootReport(dir: string): Promise<BootReport> {
  return JSON.parse(await readFile(join(dir, BOOT_REPORT_PATH), 'utf8')) as BootReport;
}

/** For a test file: a function making fresh device directories, all removed after the file's tests. */
export function deviceDirectories(): () => Promise<string> {
  const made: string[] = [];
  after(() => Promise.all(made.map(removeDevice)));
  return async () => {
    const dir = await createDeviceDir();
    made.push(dir);
    return dir;
  };
}
