import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { RootOfTrustError } from '../../errors.ts';
import type { SealingPolicy } from '../root-of-trust.ts';
import { isCounterValue } from './state-file.ts';

/**
 * Sealing, DICE-style (ARCHITECTURE.md, "What the root of trust can and cannot promise"): the
 * key is HKDF-SHA256 (RFC 5869) of the unique device secret, with an info string that binds a
 * context label, the signing authority of the running boot chain and a security-version floor.
 * The sealed blob records the floor it was sealed at, so code at floor N re-derives the key of
 * any floor ≤ N (as SGX does) and legitimate updates and rollbacks above the floor still
 * unseal, while another device (another UDS), another authority, or code below the floor
 * cannot.
 *
 * Blob: version (1) ‖ floor (4, big-endian) ‖ IV (12) ‖ AES-256-GCM ciphertext ‖ tag (16). The
 * version and floor are the GCM additional data, so neither can be changed without detection.
 *
 * The TPM backend uses the same format and floor rule with keys the TPM derives
 * (tpm/tpm-sealing.ts): hence the *WithKey functions, which take a key already derived.
 */

export const SEALED_FORMAT_VERSION = 1;
export const SEALING_KEY_BYTES = 32;
/** AES-GCM's 96-bit IV (NIST SP 800-38D 8.2.2: random IVs, at most 2^32 per key). */
export const SEALING_IV_BYTES = 12;
export const SEALING_TAG_BYTES = 16;
const FLOOR_BYTES = 4;
const HEADER_BYTES = 1 + FLOOR_BYTES;
const OVERHEAD_BYTES = HEADER_BYTES + SEALING_IV_BYTES + SEALING_TAG_BYTES;
/** Largest plaintext sealed, in bytes: sealing is for keys and small secrets, not bulk data. */
export const MAX_SEALED_PLAINTEXT_BYTES = 1024 * 1024;
/** Separates sealing keys from every other key derived from the UDS. */
const SEALING_CONTEXT = new TextEncoder().encode('orbis emulated rot sealing v1\0');
const AUTHORITY = /^[0-9a-f]{64}$/;

/** Never throws: whether `policy` names a key ID and an unsigned 32-bit floor. */
export function isSealingPolicy(policy: SealingPolicy): boolean {
  return AUTHORITY.test(policy.signingAuthority) && isCounterValue(policy.securityVersionFloor);
}

function encodeFloor(floor: number): Uint8Array {
  const bytes = new Uint8Array(FLOOR_BYTES);
  new DataView(bytes.buffer).setUint32(0, floor);
  return bytes;
}

/**
 * The info a sealing key derives from: `context` ‖ key ID (32 bytes) ‖ floor (4 bytes,
 * big-endian). Every field after the context has a fixed length, so for one context no two
 * policies share an info string. The TPM backend feeds the same string to the TPM's HMAC key.
 */
export function sealingKeyInfo(context: Uint8Array, signingAuthority: string, floor: number): Uint8Array {
  return new Uint8Array(Buffer.concat([context, Buffer.from(signingAuthority, 'hex'), encodeFloor(floor)]));
}

/** The sealing key for one authority and floor: HKDF-SHA256 of the UDS over sealingKeyInfo. */
export function deriveSealingKey(uds: Uint8Array, signingAuthority: string, floor: number): Uint8Array {
  const info = sealingKeyInfo(SEALING_CONTEXT, signingAuthority, floor);
  return new Uint8Array(hkdfSync('sha256', uds, new Uint8Array(0), info, SEALING_KEY_BYTES));
}

/** Throws RangeError unless `data` can be sealed under `policy` with `iv`. */
export function assertSealable(data: Uint8Array, policy: SealingPolicy, iv: Uint8Array): void {
  if (!isSealingPolicy(policy)) throw new RangeError('a sealing policy needs a key ID and a uint32 floor');
  if (data.byteLength > MAX_SEALED_PLAINTEXT_BYTES) {
    throw new RangeError(`sealed data is at most ${MAX_SEALED_PLAINTEXT_BYTES} bytes`);
  }
  if (iv.byteLength !== SEALING_IV_BYTES) throw new RangeError(`the IV is ${SEALING_IV_BYTES} bytes`);
}

/**
 * Seals `data` with `key`, already derived for `floor` (whoever derives it: HKDF of the UDS
 * here, the TPM's HMAC key in the TPM backend). The caller has run assertSealable.
 */
export function sealWithKey(key: Uint8Array, data: Uint8Array, floor: number, iv: Uint8Array): Uint8Array {
  const header = Buffer.concat([Uint8Array.of(SEALED_FORMAT_VERSION), encodeFloor(floor)]);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(header);
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  return new Uint8Array(Buffer.concat([header, iv, ciphertext, cipher.getAuthTag()]));
}

/** Seals `data` at the policy's floor with the given fresh IV. Throws RangeError on a bad policy or size. */
export function sealWithSecret(
  uds: Uint8Array,
  data: Uint8Array,
  policy: SealingPolicy,
  iv: Uint8Array,
): Uint8Array {
  assertSealable(data, policy, iv);
  const floor = policy.securityVersionFloor;
  return sealWithKey(deriveSealingKey(uds, policy.signingAuthority, floor), data, floor, iv);
}

function unsealFailed(reason: string, cause?: unknown): RootOfTrustError {
  return new RootOfTrustError('ROT_UNSEAL_FAILED', `cannot unseal: ${reason}`, { cause });
}

/** The floor a blob was sealed at, after checking its size and version. */
function readSealedFloor(sealed: Uint8Array): number {
  if (sealed.byteLength < OVERHEAD_BYTES || sealed.byteLength > OVERHEAD_BYTES + MAX_SEALED_PLAINTEXT_BYTES) {
    throw unsealFailed('not a sealed blob of a possible size');
  }
  if (sealed[0] !== SEALED_FORMAT_VERSION)
    throw unsealFailed(`not sealed-data version ${SEALED_FORMAT_VERSION}`);
  return new DataView(sealed.buffer, sealed.byteOffset + 1, FLOOR_BYTES).getUint32(0);
}

function decrypt(key: Uint8Array, sealed: Uint8Array): Uint8Array {
  const iv = sealed.subarray(HEADER_BYTES, HEADER_BYTES + SEALING_IV_BYTES);
  const tag = sealed.subarray(sealed.byteLength - SEALING_TAG_BYTES);
  const ciphertext = sealed.subarray(HEADER_BYTES + SEALING_IV_BYTES, sealed.byteLength - SEALING_TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: SEALING_TAG_BYTES });
  decipher.setAAD(sealed.subarray(0, HEADER_BYTES)).setAuthTag(tag);
  return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
}

/**
 * The floor whose key opens `sealed` for code running under `policy`: the floor it was sealed
 * at, refused (ROT_UNSEAL_FAILED) if that is above the policy's floor or the blob is malformed.
 */
export function sealedFloorUnder(sealed: Uint8Array, policy: SealingPolicy): number {
  if (!isSealingPolicy(policy)) throw unsealFailed('the policy needs a key ID and a uint32 floor');
  const floor = readSealedFloor(sealed);
  if (floor > policy.securityVersionFloor) {
    throw unsealFailed(`sealed at security version ${floor}, above the floor ${policy.securityVersionFloor}`);
  }
  return floor;
}

/**
 * Opens `sealed` with `key`, the key of the floor sealedFloorUnder named (whoever derived it).
 * ROT_UNSEAL_FAILED, never another error, if the blob is malformed or does not authenticate.
 */
export function unsealWithKey(key: Uint8Array, sealed: Uint8Array): Uint8Array {
  readSealedFloor(sealed);
  try {
    return decrypt(key, sealed);
  } catch (cause) {
    throw unsealFailed('authentication failed (another device or authority, or altered data)', cause);
  }
}

/**
 * Opens a blob under the policy of the running code: refused (ROT_UNSEAL_FAILED, never another
 * error) if it was sealed above the policy's floor, under another authority or UDS, or altered.
 */
export function unsealWithSecret(uds: Uint8Array, sealed: Uint8Array, policy: SealingPolicy): Uint8Array {
  const floor = sealedFloorUnder(sealed, policy);
  return unsealWithKey(deriveSealingKey(uds, policy.signingAuthority, floor), sealed);
}
