import { allocateElement, encodingError, TAG, tlv } from './tlv.ts';

/**
 * A non-negative INTEGER from its unsigned big-endian magnitude, in the one DER form
 * (X.690 8.3.2): leading zero octets dropped, one zero octet added when the high bit is set so
 * the value stays positive. Serial numbers are written this way.
 */
export function integer(unsigned: Uint8Array): Uint8Array {
  if (unsigned.byteLength === 0) throw encodingError('an INTEGER needs at least one octet');
  let first = 0;
  while (first < unsigned.byteLength - 1 && unsigned[first] === 0) first += 1;
  const pad = (unsigned[first] as number) & 0x80 ? 1 : 0;
  const { out, start } = allocateElement(TAG.INTEGER, pad + unsigned.byteLength - first);
  out.set(unsigned.subarray(first), start + pad);
  return out;
}

/** A small non-negative INTEGER (a version, a path length). */
export function smallInteger(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0)
    throw encodingError(`${value} is not a small unsigned integer`);
  const digits: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
  return integer(Uint8Array.from(digits.length === 0 ? [0] : digits));
}

const TRUE = Uint8Array.of(TAG.BOOLEAN, 1, 0xff);
const FALSE = Uint8Array.of(TAG.BOOLEAN, 1, 0x00);

/** X.690 11.1: DER writes TRUE as 0xff. */
export function boolean(value: boolean): Uint8Array {
  return Uint8Array.from(value ? TRUE : FALSE);
}

export function nullValue(): Uint8Array {
  return Uint8Array.of(TAG.NULL, 0);
}

export function octetString(contents: Uint8Array): Uint8Array {
  return tlv(TAG.OCTET_STRING, contents);
}

/**
 * A BIT STRING of whole octets `bytes` whose last `unusedBits` bits are padding. DER requires
 * the padding bits to be zero (X.690 11.2.1) and an empty string to declare none (8.6.2.3).
 */
export function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7) {
    throw encodingError('a BIT STRING has 0 to 7 unused bits');
  }
  const last = bytes[bytes.byteLength - 1];
  if (last === undefined ? unusedBits !== 0 : (last & ((1 << unusedBits) - 1)) !== 0) {
    throw encodingError('the unused bits of a BIT STRING must be zero and exist');
  }
  const { out, start } = allocateElement(TAG.BIT_STRING, 1 + bytes.byteLength);
  out[start] = unusedBits;
  out.set(bytes, start + 1);
  return out;
}

/**
 * A named-bit BIT STRING such as KeyUsage (RFC 5280 4.2.1.3), with the bits numbered from the
 * most significant bit of the first octet. DER drops trailing zero bits (X.690 11.2.2), so
 * digitalSignature (bit 0) alone is `03 02 07 80` and keyCertSign (bit 5) alone `03 02 02 04`.
 */
export function namedBitString(bits: readonly number[]): Uint8Array {
  let highest = -1;
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0 || bit > 255) throw encodingError(`bad named bit ${bit}`);
    highest = Math.max(highest, bit);
  }
  if (highest < 0) return bitString(new Uint8Array(0));
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] as number) | (0x80 >> (bit & 7));
  return bitString(bytes, 7 - (highest & 7));
}
