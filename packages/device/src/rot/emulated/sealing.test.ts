import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { assertRotError, assertRotErrorSync, manufacturedDevice } from './emulated.test-helpers.ts';
import { openEmulatedRootOfTrust } from './emulated-backend.ts';
import {
  deriveSealingKey,
  MAX_SEALED_PLAINTEXT_BYTES,
  sealWithSecret,
  SEALING_IV_BYTES,
  unsealWithSecret,
} from './sealing.ts';

const authority = 'a'.repeat(64);
const otherAuthority = 'b'.repeat(64);
const secret = new TextEncoder().encode('app storage key');
const uds = new Uint8Array(randomBytes(32));

function seal(floor: number, signingAuthority = authority, deviceSecret = uds): Uint8Array {
  return sealWithSecret(
    deviceSecret,
    secret,
    { signingAuthority, securityVersionFloor: floor },
    randomBytes(SEALING_IV_BYTES),
  );
}

function unseal(sealed: Uint8Array, floor: number, signingAuthority = authority): Uint8Array {
  return unsealWithSecret(uds, sealed, { signingAuthority, securityVersionFloor: floor });
}

describe('sealing, DICE-style', () => {
  it('opens what it sealed under the same authority and floor', () => {
    assert.deepEqual(unseal(seal(3), 3), secret);
  });

  it('derives a different sealing key for a different signing authority', () => {
    assert.notDeepEqual(deriveSealingKey(uds, authority, 3), deriveSealingKey(uds, otherAuthority, 3));
    assertRotErrorSync(() => unseal(seal(3), 3, otherAuthority), 'ROT_UNSEAL_FAILED');
  });

  it('derives a different sealing key for each floor and each device secret', () => {
    assert.notDeepEqual(deriveSealingKey(uds, authority, 3), deriveSealingKey(uds, authority, 4));
    const otherUds = new Uint8Array(randomBytes(32));
    assert.notDeepEqual(deriveSealingKey(uds, authority, 3), deriveSealingKey(otherUds, authority, 3));
  });

  it('cannot unseal data sealed at a higher security version', () => {
    assertRotErrorSync(() => unseal(seal(5), 4), 'ROT_UNSEAL_FAILED');
  });

  it('opens data sealed at a lower security version after a security-version bump', () => {
    assert.deepEqual(unseal(seal(2), 7), secret);
    assert.deepEqual(unseal(seal(0), 0xffff_ffff), secret);
  });

  it('does not open data sealed on another device', () => {
    assertRotErrorSync(
      () => unseal(seal(1, authority, new Uint8Array(randomBytes(32))), 1),
      'ROT_UNSEAL_FAILED',
    );
  });

  it('rejects altered sealed data: version, floor, IV, ciphertext or tag', () => {
    const sealed = seal(3);
    for (let index = 0; index < sealed.byteLength; index += 1) {
      const altered = Uint8Array.from(sealed);
      altered[index] = (altered[index] ?? 0) ^ 0x01;
      assertRotErrorSync(() => unseal(altered, 3), 'ROT_UNSEAL_FAILED');
    }
  });

  it('rejects sealed data whose floor was lowered to get past the check', () => {
    const sealed = seal(9);
    new DataView(sealed.buffer, sealed.byteOffset).setUint32(1, 3);
    assertRotErrorSync(() => unseal(sealed, 3), 'ROT_UNSEAL_FAILED');
  });

  it('answers ROT_UNSEAL_FAILED, never a crash, for malformed blobs and policies', () => {
    const sealed = seal(1);
    for (const blob of [
      new Uint8Array(0),
      sealed.subarray(0, 20),
      new Uint8Array(MAX_SEALED_PLAINTEXT_BYTES + 64),
    ]) {
      assertRotErrorSync(() => unseal(blob, 1), 'ROT_UNSEAL_FAILED');
    }
    assertRotErrorSync(() => unseal(sealed, 1, 'A'.repeat(64)), 'ROT_UNSEAL_FAILED');
    assertRotErrorSync(() => unseal(sealed, -1), 'ROT_UNSEAL_FAILED');
    assertRotErrorSync(() => unseal(sealed, 1.5), 'ROT_UNSEAL_FAILED');
  });

  it('refuses to seal under a policy that names no authority, or data beyond the limit', () => {
    assert.throws(() => seal(1, 'not a key id'), RangeError);
    assert.throws(() => seal(2 ** 32), RangeError);
    const policy = { signingAuthority: authority, securityVersionFloor: 0 };
    const big = new Uint8Array(MAX_SEALED_PLAINTEXT_BYTES + 1);
    assert.throws(() => sealWithSecret(uds, big, policy, randomBytes(SEALING_IV_BYTES)), RangeError);
  });
});

describe('sealing through the emulated root of trust', () => {
  it('uses a fresh IV for every seal, and still opens after a reopen', async (t) => {
    const { dir, rot, opened } = await manufacturedDevice(t);
    const policy = { signingAuthority: authority, securityVersionFloor: 2 };
    const first = await rot.seal(secret, policy);
    assert.notDeepEqual(await rot.seal(secret, policy), first);
    await rot.close();
    const reopened = await openEmulatedRootOfTrust(dir);
    opened.push(reopened);
    assert.deepEqual(await reopened.unseal(first, { ...policy, securityVersionFloor: 3 }), secret);
    await assertRotError(reopened.unseal(first, { ...policy, securityVersionFloor: 1 }), 'ROT_UNSEAL_FAILED');
  });

  it('does not open what another device sealed', async (t) => {
    const policy = { signingAuthority: authority, securityVersionFloor: 0 };
    const one = await manufacturedDevice(t);
    const other = await manufacturedDevice(t);
    await assertRotError(other.rot.unseal(await one.rot.seal(secret, policy), policy), 'ROT_UNSEAL_FAILED');
  });
});
