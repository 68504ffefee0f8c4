export {
  ImageError,
  AttestationError,
  CertificateError,
  AppError,
  type ImageErrorCode,
  type AttestationErrorCode,
  type CertificateErrorCode,
  type AppErrorCode,
} from './errors.ts';
export { parseImage, type ParsedImage, type ImageSignature } from './image/parse-image.ts';
export { verifyImage, type VerifyImageOptions, type VerifiedImage } from './image/verify-image.ts';
export { validateAppManifest } from './app/validate-app-manifest.ts';
export {
  assertPeripheralsFree,
  findPeripheralConflicts,
  type PeripheralConflict,
} from './app/peripherals.ts';
export {
  parseAppPayload,
  assertManifestMatchesHeader,
  type ParsedAppPayload,
} from './app/parse-app-payload.ts';
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
export {
  encodeNonce,
  parseNonce,
  computeNonceMac,
  isValidNonceMac,
  isNonceFresh,
  createNonce,
  verifyNonce,
  NONCE_TIME_BYTES,
  NONCE_RANDOM_BYTES,
  NONCE_MAC_BYTES,
  MAX_NONCE_TIME_MS,
  MIN_NONCE_KEY_BYTES,
  type AttestationNonce,
  type CreateNonceOptions,
  type VerifyNonceOptions,
} from './attestation/nonce.ts';
export { parseEvidenceJws, type EvidenceJws } from './attestation/evidence-jws.ts';
export {
  verifyEvidence,
  ueidForDevice,
  type VerifyEvidenceOptions,
  type VerifiedEvidence,
} from './attestation/verify-evidence.ts';
export { parseCertificate, type ParsedCertificate } from './x509/parse-certificate.ts';
export type { DistinguishedName, NameAttribute } from './x509/name.ts';
export type { CertificateExtension } from './x509/extensions.ts';
export {
  KEY_USAGES,
  type BasicConstraints,
  type GroupAssignment,
  type KeyUsage,
  type SubjectAltName,
} from './x509/extension-values.ts';
export { assertTrustAnchor, assertWithinValidity, verifyIssuedByAnchor } from './x509/issued-by-anchor.ts';
export {
  verifyDeviceCertificateChain,
  type VerifyDeviceCertificateChainOptions,
  type VerifiedDeviceCertificate,
} from './x509/verify-device-chain.ts';
export {
  tpmQualifyingData,
  replayBootLog,
  extendRegister,
  TPM_MEASUREMENT_PCR,
} from './attestation/tpm-binding.ts';
export { TpmStructureError } from './attestation/tpm-reader.ts';
export {
  parseTpmIdentityPublic,
  isRestrictedSigningKey,
  assertRestrictedSigningKey,
  parseQuoteAttest,
  parseEcdsaSignature,
  TPM_ALG,
  TPM_ECC_NIST_P256,
  TPM_GENERATED_VALUE,
  TPM_ST_ATTEST_QUOTE,
  TPMA_OBJECT,
  type TpmIdentityPublic,
  type TpmPcrSelection,
  type TpmQuoteAttest,
} from './attestation/tpm-structures.ts';
export { verifyTpmQuote, type ExpectedTpmQuote } from './attestation/tpm-quote.ts';
