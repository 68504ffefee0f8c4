import { CryptoError } from './errors.ts';

const BASE64URL_ALPHABET = /^[A-Za-z0-9_-]*$/;
/** The base64url digits in value order: a character's index is the 6 bits it encodes. */
const BASE64URL_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Unpadded base64url (RFC 4648 section 5). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Strict base64url: the URL-safe alphabet only, no padding, no whitespace, and the canonical
 * encoding (unused trailing bits zero), so each byte string has exactly one text form.
 */
export function decodeBase64Url(text: string): Uint8Array {
  const remainder = text.length % 4;
  if (!BASE64URL_ALPHABET.test(text) || remainder === 1) {
    throw new CryptoError('CRYPTO_BASE64URL_INVALID', 'not unpadded base64url');
  }
  // A last group of 2 or 3 characters carries 4 or 2 bits that no byte uses: canonical base64url
  // has them zero (RFC 4648 section 3.5). Checked on that one character, not by re-encoding.
  if (
    remainder !== 0 &&
    (BASE64URL_DIGITS.indexOf(text.charAt(text.length - 1)) & (remainder === 2 ? 0b1111 : 0b11)) !== 0
  ) {
    throw new CryptoError('CRYPTO_BASE64URL_INVALID', 'base64url with non-zero trailing bits');
  }
  const bytes = Buffer.from(text, 'base64url');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Lowercase hexadecimal. */
export function encodeHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** PEM armour (RFC 7468 section 2) around DER: base64 in lines of 64 characters. */
export function encodePem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines =
    Buffer.from(der.buffer, der.byteOffset, der.byteLength)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const PEM_BLOCK = /^\s*-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END \1-----\s*$/;

/**
 * The DER inside exactly one PEM block labelled `label` (RFC 7468 strict base64 lines, CRLF or
 * LF, surrounding whitespace allowed). Anything else — another label, two blocks, text between
 * the lines, base64 that does not round-trip — is CRYPTO_PEM_INVALID.
 */
export function decodePem(pem: string, label = 'CERTIFICATE'): Uint8Array {
  const match = PEM_BLOCK.exec(pem);
  if (match?.[1] !== label) {
    throw new CryptoError('CRYPTO_PEM_INVALID', `not exactly one PEM block labelled ${label}`);
  }
  const body = (match[2] as string).replace(/\r?\n/g, '');
  const der = Buffer.from(body, 'base64');
  if (der.byteLength === 0 || der.toString('base64') !== body) {
    throw new CryptoError('CRYPTO_PEM_INVALID', `the ${label} block is not canonical base64`);
  }
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
}
