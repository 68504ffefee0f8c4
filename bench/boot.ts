/**
 * Secure and measured boot: what booting a device costs over the cryptography it cannot avoid.
 * Four images as a device would hold them (bootloader, security monitor, OS, one app) are
 * verified and measured, and compared with a baseline measured in the same run: for each image,
 * a raw SHA-256 of the package (its measurement) plus one ECDSA P-256 verification of its
 * signature, with node:crypto and cached KeyObjects. Results go in docs/benchmarks.md.
 *
 * Run with `node_modules/.bin/node bench/boot.ts`.
 */
import { createHash, verify } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { packImage } from '@orbis/ca';
import {
  BOOT_STAGES,
  secureBoot,
  verifyAppImage,
  verifyAppImages,
  verifyBootImage,
  writeSlot,
  type BootStage,
  manufactureEmulatedRootOfTrust,
  type RootOfTrust,
} from '@orbis/device';
import { sampleAppHeader } from '@orbis/testkit';
import { parseImage } from '@orbis/verify';
import {
  appSigner,
  createDeviceDir,
  flipByte,
  osReleaseSigner,
  removeDevice,
  stageHeader,
} from '../packages/device/src/boot/boot.test-helpers.ts';
import { compare } from './measure.ts';

const KIB = 1024;
/** Realistic sizes: a small bootloader, a larger monitor, a multi-megabyte OS, a bundled app. */
const STAGE_BYTES: Record<BootStage, number> = {
  bootloader: 64 * KIB,
  'security-monitor': 256 * KIB,
  os: 4 * KIB * KIB,
};
const APP_BYTES = 512 * KIB;

function payloadOf(bytes: number, fill: number): Uint8Array {
  return new Uint8Array(bytes).fill(fill);
}

function packStage(stage: BootStage): Promise<Uint8Array> {
  return packImage({
    header: stageHeader(stage),
    payload: payloadOf(STAGE_BYTES[stage], 0x41 + BOOT_STAGES.indexOf(stage)),
    signers: [osReleaseSigner],
  });
}

const stageImages: Record<BootStage, Uint8Array> = {
  bootloader: await packStage('bootloader'),
  'security-monitor': await packStage('security-monitor'),
  os: await packStage('os'),
};
const app = await packImage({
  header: sampleAppHeader,
  payload: payloadOf(APP_BYTES, 0x61),
  signers: [appSigner],
});

const dir = await createDeviceDir();
for (const stage of BOOT_STAGES) await writeSlot(dir, stage, 'a', stageImages[stage]);
const tamperedDir = await createDeviceDir();
for (const stage of BOOT_STAGES) {
  await writeSlot(tamperedDir, stage, 'a', stageImages[stage]);
  await writeSlot(tamperedDir, stage, 'b', stageImages[stage]);
}
// A payload byte near the end: only the signature check, after hashing all 4 MiB, finds it.
await writeSlot(tamperedDir, 'os', 'a', flipByte(stageImages.os, stageImages.os.byteLength - 200));

const osKeys = [osReleaseSigner.publicKey];
const appOptions = { trustedAppKeys: [appSigner.publicKey], tenantId: sampleAppHeader.tenantId };

/** The unavoidable work, per image: hash the whole package, verify one signature over its signed part. */
const baselineInputs = [...BOOT_STAGES.map((stage) => stageImages[stage]), app].map((bytes) => {
  const parsed = parseImage(bytes);
  const signer = parsed.header.kind === 'app' ? appSigner : osReleaseSigner;
  return {
    bytes,
    signedBytes: parsed.signedBytes,
    signature: parsed.signatures[0]!.signature,
    key: signer.publicKey.keyObject,
  };
});

function rawHashAndVerify(): boolean {
  let valid = true;
  for (const input of baselineInputs) {
    createHash('sha256').update(input.bytes).digest();
    valid &&= verify('sha256', input.signedBytes, input.key, input.signature);
  }
  return valid;
}

function verifyInMemory(): void {
  const policy = { trustedKeys: osKeys, floors: {} };
  for (const stage of BOOT_STAGES) verifyBootImage(stageImages[stage], stage, policy);
  verifyAppImage(app, { trustedKeys: appOptions.trustedAppKeys, floors: {}, tenantId: appOptions.tenantId });
}

/** Each device has the emulated root of trust, so every boot also raises its boot counter durably. */
const roots = new Map<string, RootOfTrust>();
for (const deviceDir of [dir, tamperedDir]) {
  const root = await manufactureEmulatedRootOfTrust(deviceDir);
  await root.completeManufacturing();
  roots.set(deviceDir, root);
}

async function bootDevice(deviceDir: string): Promise<void> {
  const root = roots.get(deviceDir) as RootOfTrust;
  await root.beginBoot();
  await secureBoot(deviceDir, root, { trustedOsKeys: osKeys });
  await verifyAppImages([app], root, appOptions);
}

const rows = await compare(
  { name: 'raw SHA-256 + P-256 verify of each of the four images', run: rawHashAndVerify },
  [
    { name: 'verifyBootImage ×3 + verifyAppImage, in memory (no flash, no root)', run: verifyInMemory },
    {
      name: 'beginBoot + secureBoot from flash + verifyAppImages (emulated root of trust; counter and report fsynced)',
      run: () => bootDevice(dir),
    },
    {
      name: 'same, active OS slot tampered (falls back to slot b)',
      run: () => bootDevice(tamperedDir),
    },
  ],
);
for (const root of roots.values()) await root.close();
await removeDevice(dir);
await removeDevice(tamperedDir);

const total = baselineInputs.reduce((sum, input) => sum + input.bytes.byteLength, 0);
const sizes = BOOT_STAGES.map((stage) => `${STAGE_BYTES[stage] / KIB} KiB (${stage})`);
process.stderr.write('\n');
console.log(
  `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), median of rounds; ` +
    `payloads of ${sizes.join(', ')} and ${APP_BYTES / KIB} KiB (app), ` +
    `${(total / KIB / KIB).toFixed(2)} MiB of image packages in all\n`,
);
console.log(
  `### Four images: bootloader, security monitor, OS, one app\n\n| case | ops/s | ratio to baseline |\n| --- | ---: | ---: |\n${rows.join('\n')}\n`,
);
