import type { Random } from '@orbis/crypto';
import { CaError } from '../errors.ts';

/** Serial numbers are this many bytes from the injected Random (RFC 5280 4.1.2.2 allows 20). */
export const SERIAL_NUMBER_BYTES = 16;

/** `random.bytes(length)`, refusing a source that returns anything but `length` bytes. */
export function drawRandom(random: Random, length: number): Uint8Array {
  const bytes = random.bytes(length);
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== length) {
    throw new CaError('CA_RANDOM_INVALID', `the random source did not return ${length} bytes`);
  }
  return Uint8Array.from(bytes);
}

/**
 * A serial number: 16 random bytes made a positive integer of exactly 16 octets (RFC 5280
 * 4.1.2.2: positive, unique per CA). The top bit is cleared, so DER needs no 0x00 pad, and the
 * next bit is set, so the value is never zero and never shrinks to fewer octets: 126 random
 * bits, well past the 64 that the CA/Browser Forum asks for to make serials unpredictable.
 */
export function drawSerialNumber(random: Random): Uint8Array {
  const serial = drawRandom(random, SERIAL_NUMBER_BYTES);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  return serial;
}
