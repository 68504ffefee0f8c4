import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.ts';
import { publicKeyFromKeyObject, type PublicKey } from './public-key.ts';
import {
  derToP1363,
  p1363ToDer,
  P1363_SIGNATURE_BYTES,
  type SignatureEncoding,
} from './signature-encoding.ts';

/**
 * A signing key as a handle: it signs, and tells its public key, but never gives out private
 * key bytes. Software keys, an HSM (PKCS#11), a TPM and the device's root of trust all sit
 * behind this one interface.
 */
export interface Signer {
  /** ECDSA over P-256 with SHA-256: the only algorithm Orbis signs with. */
  readonly algorithm: 'ES256';
  readonly publicKey: PublicKey;
  /** ECDSA P-256 over SHA-256(data), in the encoding asked for. */
  sign(data: Uint8Array, encoding: SignatureEncoding): Promise<Uint8Array>;
}

// node:crypto works in DER internally and converts P1363 on the way in and out; passing the key
// object itself (not an options object) for DER is the fastest path (docs/benchmarks.md).
function signWith(privateKey: KeyObject, data: Uint8Array, encoding: SignatureEncoding): Uint8Array {
  const signature =
    encoding === 'der'
      ? nodeSign('sha256', data, privateKey)
      : nodeSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength);
}

/**
 * A Signer over a node:crypto private key object. The key object stays in this closure; the
 * handle exposes no property that reaches it.
 */
export function createSoftwareSigner(privateKey: KeyObject): Signer {
  if (
    privateKey.type !== 'private' ||
    privateKey.asymmetricKeyType !== 'ec' ||
    privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new CryptoError('CRYPTO_SIGNER_INVALID', 'a software signer needs an ECDSA P-256 private key');
  }
  const publicKey = publicKeyFromKeyObject(privateKey);
  return Object.freeze({
    algorithm: 'ES256',
    publicKey,
    sign(data: Uint8Array, encoding: SignatureEncoding): Promise<Uint8Array> {
      return Promise.resolve(signWith(privateKey, data, encoding));
    },
  });
}

/**
 * Generates a fresh P-256 key inside OpenSSL (the one accepted source of randomness in the
 * trusted core) and returns its handle and, for KeyStores that must persist it, a PKCS#8
 * export function that only KeyStore implementations call.
 */
export function generateSoftwareSigner(): { signer: Signer; exportPkcs8: () => Uint8Array } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    signer: createSoftwareSigner(privateKey),
    exportPkcs8: () => new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' })),
  };
}

/**
 * Never throws: whether `signature` is a valid ECDSA P-256 signature by `publicKey` over
 * SHA-256(data). Malformed signatures (non-minimal DER, wrong length) are simply invalid.
 */
export function isValidSignature(
  publicKey: PublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  encoding: SignatureEncoding,
): boolean {
  if (encoding === 'der') {
    // OpenSSL tolerates some non-minimal DER; Orbis accepts one encoding of each signature.
    try {
      derToP1363(signature);
    } catch {
      return false;
    }
    return nodeVerify('sha256', data, publicKey.keyObject, signature);
  }
  if (signature.byteLength !== P1363_SIGNATURE_BYTES) return false;
  // r ‖ s re-encoded as minimal DER verifies about 30% faster than dsaEncoding 'ieee-p1363'
  // (docs/benchmarks.md); the conversion is exact, so the answer is the same.
  return nodeVerify('sha256', data, publicKey.keyObject, p1363ToDer(signature));
}

/** Throws CRYPTO_SIGNATURE_MALFORMED or CRYPTO_SIGNATURE_INVALID unless the signature verifies. */
export function verifySignature(
  publicKey: PublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  encoding: SignatureEncoding,
): void {
  if (encoding === 'der') derToP1363(signature);
  else if (signature.byteLength !== P1363_SIGNATURE_BYTES) {
    throw new CryptoError('CRYPTO_SIGNATURE_MALFORMED', 'a P1363 ECDSA P-256 signature is 64 bytes');
  }
  if (!isValidSignature(publicKey, data, signature, encoding)) {
    throw new CryptoError('CRYPTO_SIGNATURE_INVALID', 'signature does not verify');
  }
}
