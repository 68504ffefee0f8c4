export * from './rot/root-of-trust.ts';
export * from './errors.ts';
export { lockDeviceDirectory, LOCK_FILE_NAME, type DirectoryLock } from './rot/directory-lock.ts';
export {
  manufactureEmulatedRootOfTrust,
  openEmulatedRootOfTrust,
  type ManufactureEmulatedOptions,
} from './rot/emulated/emulated-backend.ts';
export { ROT_DIRECTORY_NAME } from './rot/emulated/layout.ts';
