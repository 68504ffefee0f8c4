import { createHmac, type KeyObject } from 'node:crypto';
import {
  constantTimeEqual,
  decodeBase64Url,
  encodeBase64Url,
  parseDeviceId,
  type DeviceId,
  type Random,
} from '@orbis/crypto';
import { ATTESTATION_NONCE_BYTES } from '@orbis/protocol';
import { AttestationError } from '../errors.ts';

/**
 * The attestation nonce (ARCHITECTURE.md, Attestation step 1): base64url of
 * time (6 bytes) ‖ random (16) ‖ MAC (16), 51 characters. The service keeps nothing when it
 * issues one: the MAC, keyed by the service's nonce key and bound to the requesting device,
 * proves the service issued it, and the time bounds its life. Single use is the service's job.
 *
 * The time is milliseconds since the Unix epoch, big-endian: the unit of every injected
 * Clock, so a nonce carries the issuing instant without rounding. 48 bits of milliseconds
 * last until the year 10889.
 */

export const NONCE_TIME_BYTES = 6;
export const NONCE_RANDOM_BYTES = 16;
export const NONCE_MAC_BYTES = 16;
/** The largest time, in milliseconds, that 6 bytes hold. */
export const MAX_NONCE_TIME_MS = 2 ** (8 * NONCE_TIME_BYTES) - 1;
/** Shortest HMAC-SHA256 key accepted for nonces, in bytes (the hash's output size). */
export const MIN_NONCE_KEY_BYTES = 32;

/** Separates nonce MACs from any other MAC a misconfigured deployment makes with the same key. */
const MAC_CONTEXT = new TextEncoder().encode('orbis attestation nonce v1\0');
const TWO_TO_32 = 2 ** 32;

export interface AttestationNonce {
  /** When the service issued it, in milliseconds since the Unix epoch. */
  readonly time: number;
  readonly random: Uint8Array;
  readonly mac: Uint8Array;
}

function malformed(reason: string, cause?: unknown): AttestationError {
  return new AttestationError('ATTESTATION_NONCE_MALFORMED', `attestation nonce: ${reason}`, { cause });
}

function assertParts(time: number, random: Uint8Array): void {
  if (!Number.isSafeInteger(time) || time < 0 || time > MAX_NONCE_TIME_MS) {
    throw malformed(`time ${time} is not a whole number of milliseconds in 0..2^48-1`);
  }
  if (random.byteLength !== NONCE_RANDOM_BYTES)
    throw malformed(`random part is not ${NONCE_RANDOM_BYTES} bytes`);
}

/** The 6-byte big-endian time field. */
function encodeTime(time: number): Uint8Array {
  const bytes = new Uint8Array(NONCE_TIME_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, Math.floor(time / TWO_TO_32));
  view.setUint32(2, time % TWO_TO_32);
  return bytes;
}

/** The nonce's text form. Throws ATTESTATION_NONCE_MALFORMED on parts of the wrong size. */
export function encodeNonce(nonce: AttestationNonce): string {
  assertParts(nonce.time, nonce.random);
  if (nonce.mac.byteLength !== NONCE_MAC_BYTES) throw malformed(`MAC is not ${NONCE_MAC_BYTES} bytes`);
  const bytes = new Uint8Array(ATTESTATION_NONCE_BYTES);
  bytes.set(encodeTime(nonce.time), 0);
  bytes.set(nonce.random, NONCE_TIME_BYTES);
  bytes.set(nonce.mac, NONCE_TIME_BYTES + NONCE_RANDOM_BYTES);
  return encodeBase64Url(bytes);
}

/** Strict: 51 characters of canonical base64url decoding to 38 bytes. Checks no MAC. */
export function parseNonce(text: string): AttestationNonce {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64Url(text);
  } catch (cause) {
    throw malformed('not strict base64url', cause);
  }
  if (bytes.byteLength !== ATTESTATION_NONCE_BYTES) throw malformed(`not ${ATTESTATION_NONCE_BYTES} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const time = view.getUint16(0) * TWO_TO_32 + view.getUint32(2);
  return {
    time,
    random: bytes.slice(NONCE_TIME_BYTES, NONCE_TIME_BYTES + NONCE_RANDOM_BYTES),
    mac: bytes.slice(NONCE_TIME_BYTES + NONCE_RANDOM_BYTES),
  };
}

function assertKey(key: KeyObject | Uint8Array): void {
  const size = key instanceof Uint8Array ? key.byteLength : key.type === 'secret' ? key.symmetricKeySize : 0;
  if (size === undefined || size < MIN_NONCE_KEY_BYTES) {
    throw new AttestationError(
      'ATTESTATION_NONCE_KEY_INVALID',
      `the nonce key must be a secret key of at least ${MIN_NONCE_KEY_BYTES} bytes`,
    );
  }
}

/**
 * HMAC-SHA256 over a context label ‖ time (6) ‖ random (16) ‖ device ID (32 bytes), truncated
 * to 16 bytes. Every field has a fixed length, so no two inputs share an encoding.
 */
export function computeNonceMac(
  key: KeyObject | Uint8Array,
  time: number,
  random: Uint8Array,
  deviceId: DeviceId,
): Uint8Array {
  assertKey(key);
  assertParts(time, random);
  const device = Buffer.from(parseDeviceId(deviceId), 'hex');
  const mac = createHmac('sha256', key)
    .update(MAC_CONTEXT)
    .update(encodeTime(time))
    .update(random)
    .update(device)
    .digest();
  return new Uint8Array(mac.buffer, mac.byteOffset, NONCE_MAC_BYTES);
}

/** Never throws for a parsed nonce: whether its MAC is the service's, for this device. */
export function isValidNonceMac(
  key: KeyObject | Uint8Array,
  nonce: AttestationNonce,
  deviceId: DeviceId,
): boolean {
  return constantTimeEqual(computeNonceMac(key, nonce.time, nonce.random, deviceId), nonce.mac);
}

/**
 * Never throws: whether `nonce` was issued no more than `lifetimeSeconds` before `now` (ms).
 * A nonce dated after `now` is refused unless within `futureToleranceMs`, which a deployment
 * of several replicas may set to the clock difference it tolerates between them.
 */
export function isNonceFresh(
  nonce: AttestationNonce,
  now: number,
  lifetimeSeconds: number,
  futureToleranceMs = 0,
): boolean {
  const age = now - nonce.time;
  return age >= -futureToleranceMs && age <= lifetimeSeconds * 1000;
}

export interface CreateNonceOptions {
  readonly key: KeyObject | Uint8Array;
  readonly deviceId: DeviceId;
  /** Milliseconds since the Unix epoch, from the service's Clock. */
  readonly now: number;
  readonly random: Random;
}

/** Issues a nonce for `deviceId`: nothing is stored, the MAC carries the binding. */
export function createNonce(options: CreateNonceOptions): string {
  const random = options.random.bytes(NONCE_RANDOM_BYTES);
  const mac = computeNonceMac(options.key, options.now, random, options.deviceId);
  return encodeNonce({ time: options.now, random, mac });
}

export interface VerifyNonceOptions {
  readonly key: KeyObject | Uint8Array;
  /** The device the nonce must have been issued to. */
  readonly deviceId: DeviceId;
  readonly now: number;
  /** NONCE_LIFETIME_SECONDS in production. */
  readonly lifetimeSeconds: number;
  readonly futureToleranceMs?: number;
}

/**
 * Parses `text` and checks its MAC (in constant time) before its age, so a forged nonce learns
 * nothing about timing. Does not record use: the service does that in the same transaction as
 * the attestation it admits, and refuses a second use with ATTESTATION_NONCE_REPLAYED.
 */
export function verifyNonce(text: string, options: VerifyNonceOptions): AttestationNonce {
  const nonce = parseNonce(text);
  if (!isValidNonceMac(options.key, nonce, options.deviceId)) {
    throw new AttestationError('ATTESTATION_NONCE_INVALID', 'the nonce was not issued to this device');
  }
  if (!isNonceFresh(nonce, options.now, options.lifetimeSeconds, options.futureToleranceMs)) {
    throw new AttestationError('ATTESTATION_NONCE_EXPIRED', 'the nonce is outside its lifetime');
  }
  return nonce;
}
