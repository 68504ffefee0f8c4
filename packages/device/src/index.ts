export * from './rot/root-of-trust.ts';
export * from './errors.ts';
export { lockDeviceDirectory, LOCK_FILE_NAME, type DirectoryLock } from './rot/directory-lock.ts';
export {
  manufactureEmulatedRootOfTrust,
  openEmulatedRootOfTrust,
  type ManufactureEmulatedOptions,
} from './rot/emulated/emulated-backend.ts';
export { ROT_DIRECTORY_NAME } from './rot/emulated/layout.ts';
export { BOOT_STAGES, BOOT_SLOTS, otherSlot, type BootStage, type BootSlot } from './boot/stages.ts';
export type { BootRoot } from './boot/boot-root.ts';
export {
  FLASH_DIRECTORY,
  writeSlot,
  setActiveSlot,
  readActiveSlot,
  readSlot,
  readSlots,
  type SlotContents,
} from './boot/flash.ts';
export { verifyBootImage, type ImagePolicy, type MeasuredImage } from './boot/verify-boot-image.ts';
export { secureBoot, type SecureBootOptions } from './boot/secure-boot.ts';
export { BOOT_REPORT_PATH, type BootReport, type StageReport, type SlotRefusal } from './boot/boot-report.ts';
export {
  verifyAppImage,
  verifyAppImages,
  type VerifyAppImagesOptions,
  type VerifiedApp,
  type AppRefusal,
  type AppImagesResult,
} from './boot/app-images.ts';
export {
  manufactureDevice,
  runDevice,
  osReleaseKeysOf,
  DEVICE_SWTPM_DIRECTORY,
  type ManufactureDeviceOptions,
  type ManufacturedDevice,
  type RootOfTrustSelection,
  type RunDeviceOptions,
} from './device-runtime.ts';
export { startSwtpm, type RunningSwtpm } from './rot/tpm/swtpm.ts';
export type { TpmConnection } from './rot/tpm/tpm2-tools.ts';
export {
  manufactureTpmRootOfTrust,
  openTpmRootOfTrust,
  type ManufactureTpmOptions,
  type OpenTpmOptions,
} from './rot/tpm/tpm-backend.ts';
export type { TpmRootOfTrust } from './rot/tpm/tpm-root-of-trust.ts';
export {
  attestOnce,
  renewalTime,
  retryDelay,
  MAX_RENEWAL_INTERVAL_MS,
  type HeldCertificate,
} from './agent/attestation-client.ts';
export { runAttestationLoop, type AgentEvent, type DeviceAgentOptions } from './agent/device-agent.ts';
export {
  identityKeyOf,
  readDeviceManifest,
  readHeldCertificate,
  DEVICE_MANIFEST_FORMAT,
  TUF_ROOT_PATHS,
  type DeviceManifest,
} from './agent/device-directory.ts';
export { verifyTufRoot, verifyTufRootPair, MAX_TUF_ROOT_BYTES } from './updates/tuf-root.ts';
export {
  createServiceClient,
  sendJson,
  type ServiceClient,
  type ServiceReply,
} from './agent/service-client.ts';
