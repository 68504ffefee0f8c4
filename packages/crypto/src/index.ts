export { CryptoError, type CryptoErrorCode } from './errors.ts';
export type { Clock, Random } from './interfaces.ts';
export { encodeBase64Url, decodeBase64Url, encodeHex, encodePem, decodePem } from './encoding.ts';
export { sha256, constantTimeEqual, SHA256_BYTES } from './digest.ts';
export {
  derToP1363,
  p1363ToDer,
  P1363_SIGNATURE_BYTES,
  P256_SCALAR_BYTES,
  type SignatureEncoding,
} from './signature-encoding.ts';
export {
  parsePublicKeySpki,
  parsePublicKeyRaw,
  parsePublicKeyJwk,
  publicKeyToRaw,
  publicKeyToJwk,
  publicKeyFromKeyObject,
  isP256Point,
  P256_SPKI_BYTES,
  P256_RAW_PUBLIC_KEY_BYTES,
  type PublicKey,
  type P256Jwk,
} from './public-key.ts';
export {
  deviceIdFromPublicKey,
  parseDeviceId,
  isDeviceId,
  DEVICE_ID_LENGTH,
  type DeviceId,
} from './device-id.ts';
export {
  createSoftwareSigner,
  generateSoftwareSigner,
  isValidSignature,
  verifySignature,
  type Signer,
} from './ecdsa.ts';
export {
  canonicalizeJson,
  canonicalJsonBytes,
  parseCanonicalJson,
  MAX_CANONICAL_JSON_DEPTH,
} from './canonical-json.ts';
