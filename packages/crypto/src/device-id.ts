import { CryptoError } from './errors.ts';
import type { PublicKey } from './public-key.ts';

declare const deviceIdBrand: unique symbol;
/** SHA-256 of the identity key's canonical SPKI, 64 lowercase hex characters. */
export type DeviceId = string & { readonly [deviceIdBrand]: true };

export const DEVICE_ID_LENGTH = 64;
const DEVICE_ID = /^[0-9a-f]{64}$/;

/** The device ID an identity key names itself by: self-certifying, one per key. */
export function deviceIdFromPublicKey(identityKey: PublicKey): DeviceId {
  return identityKey.keyId as DeviceId;
}

/** Never throws. */
export function isDeviceId(value: unknown): value is DeviceId {
  return typeof value === 'string' && DEVICE_ID.test(value);
}

/**
 * Strict: exactly 64 lowercase hex characters. Upper case is refused, not folded, so one
 * device has one spelling in certificates, URLs and database keys.
 */
export function parseDeviceId(value: unknown): DeviceId {
  if (typeof value !== 'string') throw new CryptoError('CRYPTO_DEVICE_ID_INVALID', 'a device ID is a string');
  if (value.length !== DEVICE_ID_LENGTH) {
    throw new CryptoError('CRYPTO_DEVICE_ID_INVALID', `a device ID has ${DEVICE_ID_LENGTH} characters`);
  }
  if (!isDeviceId(value)) {
    throw new CryptoError('CRYPTO_DEVICE_ID_INVALID', 'a device ID is lowercase hexadecimal');
  }
  return value;
}
