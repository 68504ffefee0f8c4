export { packImage, type PackImageOptions } from './image/pack-image.ts';
export { encodeAppPayload, type EncodeAppPayloadOptions } from './image/encode-app-payload.ts';
export { OFFLINE_KEY_NAMES, KEY_NAME_PATTERN, type KeyStore, type KeyStoreEntry } from './key-store.ts';
export { signDeviceList } from './registry/sign-device-list.ts';
export { signDeviceCapability } from './capabilities/sign-device-capability.ts';
export { CaError, type CaErrorCode } from './errors.ts';
export { type CaCertificate, isCaCertificate } from './ca-certificate/ca-certificate.ts';
export {
  createCaCertificate,
  type CreateCaCertificateOptions,
} from './ca-certificate/create-ca-certificate.ts';
export {
  parseCaCertificate,
  parseIntermediateCaCertificate,
  MAX_CA_CERTIFICATE_BYTES,
} from './ca-certificate/parse-ca-certificate.ts';
export {
  createIntermediateCaCertificate,
  type CreateIntermediateCaCertificateOptions,
} from './ca-certificate/create-intermediate-ca-certificate.ts';
export {
  issueServerCertificate,
  MAX_SERVER_CERTIFICATE_NAMES,
  MAX_SERVER_CERTIFICATE_VALIDITY_DAYS,
  type IssueServerCertificateOptions,
  type IssuedServerCertificate,
} from './server-certificate/issue-server-certificate.ts';
export {
  authorizeDeviceCertificate,
  type AuthorizedDeviceCertificate,
  type DeviceCertificateRequest,
  type IssuerScope,
} from './device-certificate/authorize.ts';
export {
  deviceCertificateTemplate,
  type DeviceCertificateTemplate,
} from './device-certificate/sign-options.ts';
export {
  createDeviceCertificateIssuer,
  issueDeviceCertificate,
  type DeviceCertificateIssuer,
  type DeviceCertificateIssuerOptions,
  type IssueDeviceCertificateOptions,
  type IssuedDeviceCertificate,
} from './device-certificate/issuer.ts';
export {
  EXTENDED_KEY_USAGES,
  MAX_DEVICE_CERTIFICATE_VALIDITY_SECONDS,
} from './device-certificate/profile.ts';
export { SERIAL_NUMBER_BYTES } from './x509/serial.ts';
export { KEY_IDENTIFIER_BYTES } from './x509/key-identifier.ts';
