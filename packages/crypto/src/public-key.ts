import { createPublicKey, type KeyObject } from 'node:crypto';
import { sha256 } from './digest.ts';
import { decodeBase64Url, encodeBase64Url, encodeHex } from './encoding.ts';
import { CryptoError } from './errors.ts';
import { P256_SCALAR_BYTES } from './signature-encoding.ts';

/**
 * The one encoding of a P-256 public key that Orbis accepts as SPKI: SEQUENCE { SEQUENCE {
 * id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) 0x04 ‖ x ‖ y }. Everything that
 * names a key (device IDs, key IDs) hashes exactly these 91 bytes, so a key in another
 * encoding (compressed point, explicit curve parameters) is refused, never given a second name.
 */
const CANONICAL_SPKI_PREFIX = Uint8Array.from(
  Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200' + '04', 'hex'),
);
export const P256_SPKI_BYTES = CANONICAL_SPKI_PREFIX.byteLength + 2 * P256_SCALAR_BYTES;
/** x ‖ y, without the 0x04 prefix. */
export const P256_RAW_PUBLIC_KEY_BYTES = 2 * P256_SCALAR_BYTES;

/** A parsed, validated P-256 public key. Built only by the parsers below. */
export interface PublicKey {
  readonly kind: 'p256-public-key';
  /** The canonical SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  /** SHA-256 of `spki`, lowercase hex: the key ID, and for an identity key the device ID. */
  readonly keyId: string;
  /** node:crypto's handle, built on first use and then kept, so verification parses the key once. */
  readonly keyObject: KeyObject;
}

export interface P256Jwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

function hasCanonicalPrefix(der: Uint8Array): boolean {
  if (der.byteLength !== P256_SPKI_BYTES) return false;
  return CANONICAL_SPKI_PREFIX.every((byte, index) => der[index] === byte);
}

/** The field prime and the constant b of P-256 (SEC 2 section 2.4.2; the curve is y² = x³ − 3x + b). */
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function readCoordinate(bytes: Uint8Array): bigint {
  return BigInt(`0x${encodeHex(bytes)}`);
}

/**
 * Full public-key validation for P-256 (NIST SP 800-56A Rev. 3, 5.6.2.3.3): both coordinates
 * are field elements (below p) and the point satisfies the curve equation. P-256's cofactor is
 * 1, so every such point has the group's prime order, and an affine x ‖ y cannot encode the
 * point at infinity. The same answer as OpenSSL's, at a twentieth of the cost of building a
 * key object (public-key.test.ts cross-checks the two); verification builds one on first use.
 */
export function isP256Point(xy: Uint8Array): boolean {
  if (xy.byteLength !== P256_RAW_PUBLIC_KEY_BYTES) return false;
  const x = readCoordinate(xy.subarray(0, P256_SCALAR_BYTES));
  const y = readCoordinate(xy.subarray(P256_SCALAR_BYTES));
  if (x >= P256_P || y >= P256_P) return false;
  const right = (((x * x) % P256_P) * x - 3n * x + P256_B) % P256_P;
  return (y * y - right) % P256_P === 0n;
}

function fromCanonicalSpki(spki: Uint8Array): PublicKey {
  const copy = Uint8Array.from(spki);
  if (!isP256Point(copy.subarray(CANONICAL_SPKI_PREFIX.byteLength))) {
    throw new CryptoError('CRYPTO_KEY_INVALID', 'not a point on P-256');
  }
  let keyObject: KeyObject | undefined;
  return Object.freeze({
    kind: 'p256-public-key',
    spki: copy,
    keyId: encodeHex(sha256(copy)),
    // Built on first use: a certificate key is only ever written into a certificate.
    get keyObject(): KeyObject {
      keyObject ??= createPublicKey({ key: Buffer.from(copy), format: 'der', type: 'spki' });
      return keyObject;
    },
  });
}

/**
 * Strict: `der` must be the canonical 91-byte P-256 SPKI. An EC key in any other encoding is
 * refused with CRYPTO_KEY_NONCANONICAL; anything else with CRYPTO_KEY_INVALID.
 */
export function parsePublicKeySpki(der: Uint8Array): PublicKey {
  if (hasCanonicalPrefix(der)) return fromCanonicalSpki(der);
  let parsed: KeyObject | undefined;
  try {
    parsed = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    parsed = undefined;
  }
  const curve = parsed?.asymmetricKeyDetails?.namedCurve;
  // Explicit curve parameters leave namedCurve unset; a compressed point keeps prime256v1.
  if (parsed?.asymmetricKeyType === 'ec' && (curve === undefined || curve === 'prime256v1')) {
    throw new CryptoError('CRYPTO_KEY_NONCANONICAL', 'a P-256 key in a non-canonical SPKI encoding');
  }
  throw new CryptoError('CRYPTO_KEY_INVALID', 'not an ECDSA P-256 SubjectPublicKeyInfo');
}

/** Strict: exactly 64 bytes, x ‖ y, a point on P-256. */
export function parsePublicKeyRaw(xy: Uint8Array): PublicKey {
  if (xy.byteLength !== P256_RAW_PUBLIC_KEY_BYTES) {
    throw new CryptoError('CRYPTO_KEY_INVALID', 'a raw P-256 public key is 64 bytes, x ‖ y');
  }
  const spki = new Uint8Array(P256_SPKI_BYTES);
  spki.set(CANONICAL_SPKI_PREFIX, 0);
  spki.set(xy, CANONICAL_SPKI_PREFIX.byteLength);
  return fromCanonicalSpki(spki);
}

const JWK_MEMBERS = ['crv', 'kty', 'x', 'y'];

/**
 * Strict: a public P-256 JWK (RFC 7518 section 6.2.1) with exactly kty, crv, x and y, each
 * coordinate 32 bytes of canonical base64url. Private members or anything else are refused.
 */
export function parsePublicKeyJwk(jwk: unknown): PublicKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new CryptoError('CRYPTO_KEY_INVALID', 'a JWK is a JSON object');
  }
  const members = Object.keys(jwk).sort();
  if (members.join() !== JWK_MEMBERS.join()) {
    throw new CryptoError('CRYPTO_KEY_NONCANONICAL', 'a public P-256 JWK has exactly kty, crv, x and y');
  }
  const { kty, crv, x, y } = jwk as Record<string, unknown>;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') {
    throw new CryptoError('CRYPTO_KEY_INVALID', 'not an EC P-256 JWK');
  }
  let xBytes: Uint8Array;
  let yBytes: Uint8Array;
  try {
    xBytes = decodeBase64Url(x);
    yBytes = decodeBase64Url(y);
  } catch (cause) {
    throw new CryptoError('CRYPTO_KEY_INVALID', 'JWK coordinates are not base64url', { cause });
  }
  if (xBytes.byteLength !== P256_SCALAR_BYTES || yBytes.byteLength !== P256_SCALAR_BYTES) {
    throw new CryptoError('CRYPTO_KEY_NONCANONICAL', 'JWK coordinates must each be 32 bytes');
  }
  const xy = new Uint8Array(P256_RAW_PUBLIC_KEY_BYTES);
  xy.set(xBytes, 0);
  xy.set(yBytes, P256_SCALAR_BYTES);
  return parsePublicKeyRaw(xy);
}

/** x ‖ y, 64 bytes. */
export function publicKeyToRaw(key: PublicKey): Uint8Array {
  return key.spki.slice(CANONICAL_SPKI_PREFIX.byteLength);
}

export function publicKeyToJwk(key: PublicKey): P256Jwk {
  const xy = publicKeyToRaw(key);
  return {
    kty: 'EC',
    crv: 'P-256',
    x: encodeBase64Url(xy.subarray(0, P256_SCALAR_BYTES)),
    y: encodeBase64Url(xy.subarray(P256_SCALAR_BYTES)),
  };
}

/** Builds a PublicKey from a node:crypto key object by re-encoding it canonically. */
export function publicKeyFromKeyObject(keyObject: KeyObject): PublicKey {
  const publicObject = keyObject.type === 'private' ? createPublicKey(keyObject) : keyObject;
  if (
    publicObject.asymmetricKeyType !== 'ec' ||
    publicObject.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new CryptoError('CRYPTO_KEY_INVALID', 'not an ECDSA P-256 key');
  }
  return parsePublicKeySpki(publicObject.export({ format: 'der', type: 'spki' }));
}
