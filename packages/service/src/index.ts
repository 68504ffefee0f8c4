export { parseConfig, ConfigError, type ServiceConfig } from './config.ts';
export { ServiceError } from './errors.ts';
export { FileKeyStore, MASTER_KEY_BYTES } from './keys/file-key-store.ts';
export {
  loadMasterKey,
  masterKeySourceFromEnv,
  type LoadedMasterKey,
  type MasterKeySource,
} from './keys/master-key.ts';
export { buildApp, type AppDeps, type OrbisApp } from './app.ts';
export { startService, type RunningService, type StartOptions } from './start.ts';
export {
  labOsReleaseSigner,
  packLabOsRelease,
  prepareLabFleet,
  LAB_OS_RELEASE_VERSION,
  type LabDevice,
} from './lab/lab-fleet.ts';
export { CAPABILITY_KEY_NAME } from './start.ts';
export {
  ensureTufRoots,
  TUF_KEY_NAMES,
  TUF_ROOT_LIFETIME_DAYS,
  type TufRoots,
  type TufRepository,
} from './updates/tuf-roots.ts';
