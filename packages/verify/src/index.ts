export { ImageError, type ImageErrorCode } from './errors.ts';
export { parseImage, type ParsedImage, type ImageSignature } from './image/parse-image.ts';
export { verifyImage, type VerifyImageOptions, type VerifiedImage } from './image/verify-image.ts';
export {
  verifyDeviceList,
  RegistryError,
  type RegistryErrorCode,
  type VerifiedDevice,
  type VerifiedDeviceList,
} from './registry/verify-device-list.ts';
