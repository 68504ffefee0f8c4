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
export { checkDeviceCapability, type CapabilityContext } from './appraisal/device-capability.ts';
export {
  appraiseEvidence,
  type AppraisalCode,
  type AppraisalFinding,
  type AppraisalOutcome,
  type AppraisalPolicy,
  type AppraisalResult,
  type DeviceRecord,
  type ReferenceAppImage,
  type ReferenceMeasurement,
} from './appraisal/appraise.ts';
