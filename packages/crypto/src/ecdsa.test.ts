import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { opensslVerifies } from '@orbis/testkit';
import { createSoftwareSigner, generateSoftwareSigner, isValidSignature, verifySignature } from './ecdsa.ts';

const data = new TextEncoder().encode('orbis image bytes');

describe('software signer', () => {
  it('signs in DER that `openssl dgst -sha256 -verify` accepts, and openssl refuses other data', async () => {
    const { signer } = generateSoftwareSigner();
    const signature = await signer.sign(data, 'der');
    assert.equal(opensslVerifies(signer.publicKey.spki, data, signature), true);
    assert.equal(opensslVerifies(signer.publicKey.spki, Uint8Array.of(1), signature), false);
  });

  it('signs in IEEE P1363 that verifies, and in DER that verifies', async () => {
    const { signer } = generateSoftwareSigner();
    assert.equal(isValidSignature(signer.publicKey, data, await signer.sign(data, 'p1363'), 'p1363'), true);
    verifySignature(signer.publicKey, data, await signer.sign(data, 'der'), 'der');
  });

  it('is a handle: no property of it reaches private-key bytes', () => {
    const { signer } = generateSoftwareSigner();
    assert.deepEqual(Object.keys(signer).sort(), ['algorithm', 'publicKey', 'sign']);
    assert.ok(Object.isFrozen(signer));
    assert.doesNotMatch(JSON.stringify(signer), /"d"|PRIVATE/);
    assert.equal(signer.publicKey.keyObject.type, 'public');
  });

  it('exports PKCS#8 for a KeyStore, which re-imports to the same key', async () => {
    const generated = generateSoftwareSigner();
    const { createPrivateKey } = await import('node:crypto');
    const reloaded = createSoftwareSigner(
      createPrivateKey({ key: Buffer.from(generated.exportPkcs8()), format: 'der', type: 'pkcs8' }),
    );
    assert.equal(reloaded.publicKey.keyId, generated.signer.publicKey.keyId);
  });

  it('refuses to wrap anything but a P-256 private key', () => {
    const code = { code: 'CRYPTO_SIGNER_INVALID' };
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    assert.throws(() => createSoftwareSigner(p256.publicKey), code);
    assert.throws(
      () => createSoftwareSigner(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey),
      code,
    );
    assert.throws(() => createSoftwareSigner(generateKeyPairSync('ed25519').privateKey), code);
  });
});

describe('signature verification', () => {
  it('rejects a non-minimal DER re-encoding of a valid signature (a second spelling of it)', async () => {
    const { signer } = generateSoftwareSigner();
    const der = await signer.sign(data, 'der');
    const rLength = der[3] ?? 0;
    // Insert a needless 0x00 before r: SEQUENCE and INTEGER lengths grow by one.
    const padded = Uint8Array.from([0x30, (der[1] ?? 0) + 1, 0x02, rLength + 1, 0x00, ...der.subarray(4)]);
    assert.equal(isValidSignature(signer.publicKey, data, der, 'der'), true);
    assert.equal(isValidSignature(signer.publicKey, data, padded, 'der'), false);
  });

  it('rejects a signature by another key', async () => {
    const a = generateSoftwareSigner().signer;
    const b = generateSoftwareSigner().signer;
    const signature = await a.sign(data, 'der');
    assert.equal(isValidSignature(b.publicKey, data, signature, 'der'), false);
    assert.throws(() => verifySignature(b.publicKey, data, signature, 'der'), {
      code: 'CRYPTO_SIGNATURE_INVALID',
    });
  });

  it('rejects a signature over other data', async () => {
    const { signer } = generateSoftwareSigner();
    const signature = await signer.sign(data, 'p1363');
    assert.throws(() => verifySignature(signer.publicKey, Uint8Array.of(0), signature, 'p1363'), {
      code: 'CRYPTO_SIGNATURE_INVALID',
    });
  });

  it('rejects malformed signatures without throwing from isValidSignature', async () => {
    const { signer } = generateSoftwareSigner();
    const der = await signer.sign(data, 'der');
    assert.equal(isValidSignature(signer.publicKey, data, der.subarray(1), 'der'), false);
    assert.equal(isValidSignature(signer.publicKey, data, new Uint8Array(63), 'p1363'), false);
    assert.throws(() => verifySignature(signer.publicKey, data, der.subarray(1), 'der'), {
      code: 'CRYPTO_SIGNATURE_MALFORMED',
    });
    assert.throws(() => verifySignature(signer.publicKey, data, new Uint8Array(65), 'p1363'), {
      code: 'CRYPTO_SIGNATURE_MALFORMED',
    });
  });
});
