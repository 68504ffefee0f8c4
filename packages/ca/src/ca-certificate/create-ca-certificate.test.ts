import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateSoftwareSigner } from '@orbis/crypto';
import {
  constantRandom,
  cryptoRandom,
  extensionOf,
  opensslCertificateText,
  opensslVerifyCertificate,
  readCertificate,
  SAMPLE_TENANT_ID,
  shortRandom,
} from '@orbis/testkit';
import { DAY_MS, fixtureCa, NOW } from '../fixtures.test-helpers.ts';
import { createCaCertificate } from './create-ca-certificate.ts';
import { parseCaCertificate } from './parse-ca-certificate.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('createCaCertificate', () => {
  it('writes the tenant-CA profile that openssl reads: v3, CA pathlen 0 critical, keyCertSign critical, SKI', async () => {
    const { caCertificate } = await fixtureCa();
    const text = opensslCertificateText(caCertificate.der);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/);
    assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign\n/);
    assert.match(text, /X509v3 Subject Key Identifier: \n/);
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.doesNotMatch(text, /Authority Key Identifier|CRL Distribution|Authority Information Access/);
  });

  it('is an anchor that `openssl verify -x509_strict` accepts as its own issuer', async () => {
    const { caCertificate } = await fixtureCa();
    const result = opensslVerifyCertificate({
      anchors: [caCertificate.der],
      leaf: caCertificate.der,
      purpose: 'any',
      at: NOW,
    });
    assert.equal(result.verified, true, result.output);
  });

  it('names itself opaquely, O = Orbis and CN = Orbis CA with 16 random hex digits, never a tenant', async () => {
    const [first, second] = await Promise.all([fixtureCa(), fixtureCa()]);
    const view = readCertificate(first.caCertificate.der);
    assert.equal(view.subjectAttributes.length, 2);
    assert.deepEqual(view.subjectAttributes[0], { oid: '2.5.4.10', tag: 0x0c, value: 'Orbis' });
    assert.match(view.subjectAttributes[1]?.value ?? '', /^Orbis CA [0-9a-f]{16}$/);
    assert.equal(hex(view.issuer), hex(view.subject));
    assert.equal(hex(first.caCertificate.subjectName), hex(view.subject));
    assert.notEqual(hex(first.caCertificate.subjectName), hex(second.caCertificate.subjectName));
    assert.equal(Buffer.from(first.caCertificate.der).includes(SAMPLE_TENANT_ID), false);
  });

  it('uses the leftmost 160 bits of SHA-256 over the public key bits as its key identifier (RFC 7093)', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const keyBits = signer.publicKey.spki.subarray(26); // 0x04 ‖ x ‖ y, after the BIT STRING header
    const expected = createHash('sha256').update(keyBits).digest().subarray(0, 20);
    assert.equal(hex(caCertificate.subjectKeyIdentifier), expected.toString('hex'));
    const ski = extensionOf(readCertificate(caCertificate.der), '2.5.29.14');
    assert.equal(ski.critical, false);
    assert.equal(hex(ski.parsed.contents), expected.toString('hex'));
  });

  it('draws a positive 16-byte serial and keeps the validity it was given, floored to seconds', async () => {
    const { signer } = generateSoftwareSigner();
    const created = await createCaCertificate({
      signer,
      random: constantRandom(0xff),
      notBefore: NOW + 999,
      notAfter: NOW + 2 * DAY_MS + 999,
    });
    assert.equal(created.serialNumber, '7f' + 'ff'.repeat(15));
    assert.equal(created.notBefore, NOW);
    assert.equal(created.notAfter, NOW + 2 * DAY_MS);
    assert.equal(created.publicKey.keyId, signer.publicKey.keyId);
  });

  it('is the same object shape parseCaCertificate reads back from the stored DER', async () => {
    const { caCertificate } = await fixtureCa();
    const stored = parseCaCertificate(Uint8Array.from(caCertificate.der));
    assert.deepEqual(
      { ...stored, publicKey: stored.publicKey.keyId },
      {
        ...caCertificate,
        publicKey: caCertificate.publicKey.keyId,
      },
    );
  });

  it('allows the platform root a path length of 1, and refuses lengths no Orbis chain needs', async () => {
    const { caCertificate } = await fixtureCa(1);
    assert.equal(caCertificate.pathLength, 1);
    assert.match(opensslCertificateText(caCertificate.der), /CA:TRUE, pathlen:1/);
    const { signer } = generateSoftwareSigner();
    const base = { signer, random: cryptoRandom, notBefore: NOW, notAfter: NOW + DAY_MS };
    for (const pathLength of [-1, 3, 0.5, Number.NaN]) {
      await assert.rejects(createCaCertificate({ ...base, pathLength }), { code: 'CA_PATH_LENGTH_INVALID' });
    }
  });

  it('refuses a validity that ends before it starts, or is not made of timestamps', async () => {
    const { signer } = generateSoftwareSigner();
    const base = { signer, random: cryptoRandom };
    for (const [notBefore, notAfter] of [
      [NOW, NOW],
      [NOW, NOW + 999],
      [NOW, NOW - DAY_MS],
      [Number.NaN, NOW],
      [NOW, Number.POSITIVE_INFINITY],
      [NOW, 253_402_300_800_000],
    ] as const) {
      await assert.rejects(createCaCertificate({ ...base, notBefore, notAfter }), {
        code: 'CA_VALIDITY_INVALID',
      });
    }
  });

  it('refuses a random source that returns fewer bytes than asked for', async () => {
    const { signer } = generateSoftwareSigner();
    await assert.rejects(
      createCaCertificate({ signer, random: shortRandom, notBefore: NOW, notAfter: NOW + DAY_MS }),
      {
        code: 'CA_RANDOM_INVALID',
      },
    );
  });
});
