export { packImage, type PackImageOptions } from './image/pack-image.ts';
export { OFFLINE_KEY_NAMES, KEY_NAME_PATTERN, type KeyStore, type KeyStoreEntry } from './key-store.ts';
export { signDeviceList } from './registry/sign-device-list.ts';
export { signDeviceCapability } from './capabilities/sign-device-capability.ts';
