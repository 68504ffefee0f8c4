import { randomFillSync } from 'node:crypto';
import type { Random } from '@orbis/crypto';

/** Bytes drawn from OpenSSL at a time: one call serves about a hundred nonces and serials. */
const POOL_BYTES = 4096;
/** Requests larger than this bypass the pool. */
const MAX_POOLED_REQUEST = 256;

/**
 * The service's randomness: OpenSSL's CSPRNG (node:crypto), drawn a pool at a time because
 * each call into OpenSSL costs more than the 16 bytes a nonce needs. Every byte is handed out
 * once and the pool is never reused, so the output is exactly OpenSSL's stream.
 */
export function createSystemRandom(): Random {
  const pool = new Uint8Array(POOL_BYTES);
  let offset = POOL_BYTES;
  return Object.freeze({
    bytes(length: number): Uint8Array {
      if (length > MAX_POOLED_REQUEST) return randomFillSync(new Uint8Array(length));
      if (offset + length > POOL_BYTES) {
        randomFillSync(pool);
        offset = 0;
      }
      const out = pool.slice(offset, offset + length);
      offset += length;
      return out;
    },
  });
}

/** One pool per process. */
export const systemRandom: Random = createSystemRandom();
