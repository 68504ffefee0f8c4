import { createHash, timingSafeEqual } from 'node:crypto';

export const SHA256_BYTES = 32;

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/**
 * Compares secrets (MACs, digests, tokens) in time that depends only on their length. Lengths
 * are not secret in any of Orbis's uses, so unequal lengths return false at once.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
