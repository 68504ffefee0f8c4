import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { publicKeyFromKeyObject, type PublicKey } from '@orbis/crypto';
import { RootOfTrustError } from '../../errors.ts';

/**
 * The emulated root of trust's keys as PKCS#8 DER files. Keys are generated inside OpenSSL and
 * leave this module only as KeyObjects, which the backend wraps in Signer handles.
 */

/** Largest key file read back, in bytes: a P-256 PKCS#8 key is 138 bytes. */
export const MAX_KEY_FILE_BYTES = 512;

/** A fresh ECDSA P-256 private key, generated in OpenSSL. */
export function generateP256Key(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

export function encodePkcs8(privateKey: KeyObject): Uint8Array {
  return new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
}

/** Strict: PKCS#8 DER of an ECDSA P-256 private key, else ROT_STATE_INVALID naming `what`. */
export function parseP256Pkcs8(der: Uint8Array, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new RootOfTrustError('ROT_STATE_INVALID', `${what} is not a PKCS#8 private key`, { cause });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new RootOfTrustError('ROT_STATE_INVALID', `${what} is not an ECDSA P-256 key`);
  }
  return key;
}

/** The certificate key: its private half stays in process for Node's TLS (the documented limit). */
export interface CertificateKey {
  readonly privateKey: KeyObject;
  readonly publicKey: PublicKey;
}

export function certificateKeyOf(privateKey: KeyObject): CertificateKey {
  return { privateKey, publicKey: publicKeyFromKeyObject(privateKey) };
}
