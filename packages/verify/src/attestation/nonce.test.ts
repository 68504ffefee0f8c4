import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { DeviceId } from '@orbis/crypto';
import { NONCE_LIFETIME_SECONDS } from '@orbis/protocol';
import { AttestationError } from '../errors.ts';
import {
  computeNonceMac,
  createNonce,
  encodeNonce,
  isNonceFresh,
  isValidNonceMac,
  MAX_NONCE_TIME_MS,
  parseNonce,
  verifyNonce,
  type VerifyNonceOptions,
} from './nonce.ts';

const key = randomBytes(32);
const deviceId = 'ab'.repeat(32) as DeviceId;
const otherDevice = 'cd'.repeat(32) as DeviceId;
const now = Date.UTC(2026, 10, 22, 12, 0, 0, 123);
const random = { bytes: (length: number) => Uint8Array.from({ length }, (_, index) => index + 1) };
const options: VerifyNonceOptions = { key, deviceId, now, lifetimeSeconds: NONCE_LIFETIME_SECONDS };

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof AttestationError, `not an AttestationError: ${String(error)}`);
    return error.code;
  }
}

describe('attestation nonces', () => {
  it('are 51 characters of base64url that carry the issuing time to the millisecond', () => {
    const text = createNonce({ key, deviceId, now, random });
    assert.equal(text.length, 51);
    assert.match(text, /^[A-Za-z0-9_-]{51}$/);
    const nonce = parseNonce(text);
    assert.equal(nonce.time, now);
    assert.deepEqual(nonce.random, random.bytes(16));
    assert.equal(encodeNonce(nonce), text);
    assert.deepEqual(verifyNonce(text, options), nonce);
  });

  it('encode the largest time 6 bytes hold, and refuse times they cannot', () => {
    const mac = new Uint8Array(16);
    const parts = { time: MAX_NONCE_TIME_MS, random: random.bytes(16), mac };
    assert.equal(parseNonce(encodeNonce(parts)).time, MAX_NONCE_TIME_MS);
    for (const time of [MAX_NONCE_TIME_MS + 1, -1, 1.5, Number.NaN]) {
      assert.equal(
        codeOf(() => encodeNonce({ ...parts, time })),
        'ATTESTATION_NONCE_MALFORMED',
      );
    }
    assert.equal(
      codeOf(() => encodeNonce({ ...parts, random: new Uint8Array(15) })),
      'ATTESTATION_NONCE_MALFORMED',
    );
    assert.equal(
      codeOf(() => encodeNonce({ ...parts, mac: new Uint8Array(17) })),
      'ATTESTATION_NONCE_MALFORMED',
    );
  });

  it('rejects a nonce of the wrong length, padding or a second spelling', () => {
    const text = createNonce({ key, deviceId, now, random });
    for (const bad of [text.slice(1), `${text}A`, `${text}=`, `${text.slice(0, 50)}+`, '', 'A'.repeat(52)]) {
      assert.equal(
        codeOf(() => parseNonce(bad)),
        'ATTESTATION_NONCE_MALFORMED',
        bad,
      );
    }
    // 38 bytes leave 2 spare bits in the last character: a second spelling of the same bytes.
    const last = text.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1] as string;
    assert.equal(
      codeOf(() => parseNonce(`${text.slice(0, 50)}${twin}`)),
      'ATTESTATION_NONCE_MALFORMED',
    );
  });

  it('rejects a nonce issued to another device (its MAC binds the device ID)', () => {
    const text = createNonce({ key, deviceId: otherDevice, now, random });
    assert.equal(
      codeOf(() => verifyNonce(text, options)),
      'ATTESTATION_NONCE_INVALID',
    );
  });

  it('rejects a nonce forged without the key, or with its time moved forward', () => {
    const nonce = parseNonce(createNonce({ key, deviceId, now: now - 10 * 60_000, random }));
    const forged = encodeNonce({
      ...nonce,
      mac: computeNonceMac(randomBytes(32), nonce.time, nonce.random, deviceId),
    });
    assert.equal(
      codeOf(() => verifyNonce(forged, options)),
      'ATTESTATION_NONCE_INVALID',
    );
    const moved = encodeNonce({ ...nonce, time: now });
    assert.equal(
      codeOf(() => verifyNonce(moved, options)),
      'ATTESTATION_NONCE_INVALID',
    );
    assert.equal(isValidNonceMac(key, { ...nonce, mac: nonce.mac.subarray(0, 15) }, deviceId), false);
  });

  it('rejects an expired nonce, and one dated in the future beyond the tolerance', () => {
    const lifetimeMs = NONCE_LIFETIME_SECONDS * 1000;
    const at = (time: number) => createNonce({ key, deviceId, now: time, random });
    assert.ok(verifyNonce(at(now - lifetimeMs), options));
    assert.equal(
      codeOf(() => verifyNonce(at(now - lifetimeMs - 1), options)),
      'ATTESTATION_NONCE_EXPIRED',
    );
    assert.equal(
      codeOf(() => verifyNonce(at(now + 1), options)),
      'ATTESTATION_NONCE_EXPIRED',
    );
    assert.ok(verifyNonce(at(now + 500), { ...options, futureToleranceMs: 500 }));
    const nonce = parseNonce(at(now));
    assert.equal(isNonceFresh(nonce, now, NONCE_LIFETIME_SECONDS), true);
    assert.equal(isNonceFresh(nonce, now - 1, NONCE_LIFETIME_SECONDS), false);
    assert.equal(isNonceFresh(nonce, now - 1, NONCE_LIFETIME_SECONDS, 1), true);
    assert.equal(isNonceFresh(nonce, Number.NaN, NONCE_LIFETIME_SECONDS), false);
  });

  it('accepts the key as a secret KeyObject, and gives the same MAC as with its bytes', () => {
    const text = createNonce({ key: createSecretKey(key), deviceId, now, random });
    assert.equal(text, createNonce({ key, deviceId, now, random }));
  });

  it('refuses nonce keys too short to resist guessing, and keys that are not secret keys', () => {
    const parts = [now, random.bytes(16), deviceId] as const;
    assert.equal(
      codeOf(() => computeNonceMac(randomBytes(31), ...parts)),
      'ATTESTATION_NONCE_KEY_INVALID',
    );
    assert.equal(
      codeOf(() => computeNonceMac(createSecretKey(randomBytes(16)), ...parts)),
      'ATTESTATION_NONCE_KEY_INVALID',
    );
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    assert.equal(
      codeOf(() => computeNonceMac(privateKey, ...parts)),
      'ATTESTATION_NONCE_KEY_INVALID',
    );
  });

  it('refuses to MAC for something that is not a device ID', () => {
    assert.throws(
      () => computeNonceMac(key, now, random.bytes(16), 'AB'.repeat(32) as DeviceId),
      (error: Error & { code?: string }) => error.code === 'CRYPTO_DEVICE_ID_INVALID',
    );
  });
});
