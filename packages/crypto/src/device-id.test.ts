import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { openssl } from '@orbis/testkit';
import { deviceIdFromPublicKey, isDeviceId, parseDeviceId } from './device-id.ts';
import { parsePublicKeySpki } from './public-key.ts';

const invalid = { code: 'CRYPTO_DEVICE_ID_INVALID' };
const sample = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);

describe('device IDs', () => {
  it('is SHA-256 of the canonical SPKI, as `openssl pkey -pubout -outform DER | sha256` computes it', () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' });
    const der = openssl(['pkey', '-pubout', '-outform', 'DER'], pem);
    const digest = Buffer.from(openssl(['dgst', '-sha256', '-r'], der))
      .toString()
      .split(' ')[0];
    const id = deviceIdFromPublicKey(parsePublicKeySpki(spki));
    assert.equal(id, digest);
    assert.equal(parseDeviceId(id), id);
  });

  it('rejects device IDs of the wrong length', () => {
    assert.throws(() => parseDeviceId(sample.slice(1)), invalid);
    assert.throws(() => parseDeviceId(`${sample}0`), invalid);
    assert.throws(() => parseDeviceId(''), invalid);
    // Azure Sphere's 128-character form (the raw 64-byte key) is not an Orbis device ID.
    assert.throws(() => parseDeviceId(sample + sample), invalid);
  });

  it('rejects device IDs in upper or mixed case rather than folding them', () => {
    assert.throws(() => parseDeviceId(sample.toUpperCase()), invalid);
    assert.throws(() => parseDeviceId(`A${sample.slice(1)}`), invalid);
  });

  it('rejects device IDs outside the hexadecimal alphabet', () => {
    for (const bad of ['g', ' ', '-', 'é', '\n']) {
      assert.throws(() => parseDeviceId(bad + sample.slice(1)), invalid, JSON.stringify(bad));
    }
  });

  it('rejects values that are not strings', () => {
    for (const bad of [null, 42, Buffer.from(sample), [sample]])
      assert.throws(() => parseDeviceId(bad), invalid);
  });

  it('isDeviceId answers without throwing', () => {
    assert.equal(isDeviceId(sample), true);
    assert.equal(isDeviceId(sample.toUpperCase()), false);
    assert.equal(isDeviceId(7), false);
  });
});
