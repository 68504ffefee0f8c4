import { CryptoError } from './errors.ts';

/** How an ECDSA P-256 signature is laid out: DER (X.509, OpenSSL) or r ‖ s (JOSE, IEEE P1363). */
export type SignatureEncoding = 'der' | 'p1363';

export const P256_SCALAR_BYTES = 32;
export const P1363_SIGNATURE_BYTES = 2 * P256_SCALAR_BYTES;

const DER_SEQUENCE = 0x30;
const DER_INTEGER = 0x02;

function malformed(reason: string): CryptoError {
  return new CryptoError('CRYPTO_SIGNATURE_MALFORMED', `ECDSA signature: ${reason}`);
}

/**
 * Reads one DER INTEGER holding a P-256 scalar at `offset`, refusing every non-minimal form
 * (X.690 section 8.3.2): a leading zero only where the high bit is set, no negative values.
 * Returns the 32-byte big-endian value and where the next element starts.
 */
function readScalar(der: Uint8Array, offset: number): { value: Uint8Array; next: number } {
  if (der[offset] !== DER_INTEGER) throw malformed('expected an INTEGER');
  const length = der[offset + 1];
  if (length === undefined || length < 1 || length > P256_SCALAR_BYTES + 1)
    throw malformed('bad INTEGER length');
  const start = offset + 2;
  const end = start + length;
  if (end > der.byteLength) throw malformed('INTEGER runs past the end');
  const first = der[start] as number;
  if (first & 0x80) throw malformed('negative INTEGER');
  if (length > 1 && first === 0 && !((der[start + 1] as number) & 0x80))
    throw malformed('non-minimal INTEGER');
  const digits = der.subarray(first === 0 && length > 1 ? start + 1 : start, end);
  if (digits.byteLength > P256_SCALAR_BYTES) throw malformed('INTEGER wider than a P-256 scalar');
  const value = new Uint8Array(P256_SCALAR_BYTES);
  value.set(digits, P256_SCALAR_BYTES - digits.byteLength);
  return { value, next: end };
}

/** Strict DER `SEQUENCE { INTEGER r, INTEGER s }` to the 64-byte r ‖ s form. */
export function derToP1363(der: Uint8Array): Uint8Array {
  if (der.byteLength < 8 || der[0] !== DER_SEQUENCE) throw malformed('expected a SEQUENCE');
  // Short-form length only: the longest P-256 signature body is 70 bytes.
  if (der[1] !== der.byteLength - 2) throw malformed('SEQUENCE length does not match');
  const r = readScalar(der, 2);
  const s = readScalar(der, r.next);
  if (s.next !== der.byteLength) throw malformed('bytes after the SEQUENCE contents');
  const out = new Uint8Array(P1363_SIGNATURE_BYTES);
  out.set(r.value, 0);
  out.set(s.value, P256_SCALAR_BYTES);
  return out;
}

function encodeScalar(scalar: Uint8Array): Uint8Array {
  let start = 0;
  while (start < scalar.byteLength - 1 && scalar[start] === 0) start += 1;
  const digits = scalar.subarray(start);
  const pad = (digits[0] as number) & 0x80 ? 1 : 0;
  const out = new Uint8Array(2 + pad + digits.byteLength);
  out[0] = DER_INTEGER;
  out[1] = pad + digits.byteLength;
  out.set(digits, 2 + pad);
  return out;
}

/** The 64-byte r ‖ s form to minimal DER. */
export function p1363ToDer(signature: Uint8Array): Uint8Array {
  if (signature.byteLength !== P1363_SIGNATURE_BYTES) throw malformed('P1363 signature must be 64 bytes');
  const r = encodeScalar(signature.subarray(0, P256_SCALAR_BYTES));
  const s = encodeScalar(signature.subarray(P256_SCALAR_BYTES));
  const out = new Uint8Array(2 + r.byteLength + s.byteLength);
  out[0] = DER_SEQUENCE;
  out[1] = r.byteLength + s.byteLength;
  out.set(r, 2);
  out.set(s, 2 + r.byteLength);
  return out;
}
