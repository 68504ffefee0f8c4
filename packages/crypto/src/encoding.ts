import { CryptoError } from './errors.ts';

const BASE64URL_ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Unpadded base64url (RFC 4648 section 5). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Strict base64url: the URL-safe alphabet only, no padding, no whitespace, and the canonical
 * encoding (unused trailing bits zero), so each byte string has exactly one text form.
 */
export function decodeBase64Url(text: string): Uint8Array {
  if (!BASE64URL_ALPHABET.test(text) || text.length % 4 === 1) {
    throw new CryptoError('CRYPTO_BASE64URL_INVALID', 'not unpadded base64url');
  }
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) {
    throw new CryptoError('CRYPTO_BASE64URL_INVALID', 'base64url with non-zero trailing bits');
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Lowercase hexadecimal. */
export function encodeHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
