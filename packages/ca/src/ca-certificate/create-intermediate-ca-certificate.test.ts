import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSoftwareSigner, isValidSignature } from '@orbis/crypto';
import { cryptoRandom, extensionOf, opensslCertificateText, readCertificate } from '@orbis/testkit';
import { parseCertificate } from '@orbis/verify';
import { DAY_MS, deviceRequest, fixtureCa, NOW } from '../fixtures.test-helpers.ts';
import { createDeviceCertificateIssuer } from '../device-certificate/issuer.ts';
import { fixtureChain, opensslVerifyChain } from '../server-certificate/chain.test-helpers.ts';
import { createIntermediateCaCertificate } from './create-intermediate-ca-certificate.ts';
import { parseCaCertificate, parseIntermediateCaCertificate } from './parse-ca-certificate.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('createIntermediateCaCertificate', () => {
  it('writes a CA certificate that openssl verifies under its root with -x509_strict', async () => {
    const { root, intermediate } = await fixtureChain();
    const result = opensslVerifyChain({
      root: root.der,
      untrusted: [],
      leaf: intermediate.der,
      purpose: 'any',
      at: NOW,
    });
    assert.equal(result.verified, true, result.output);
    const text = opensslCertificateText(intermediate.der);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/);
    assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign\n/);
    assert.match(text, /X509v3 Subject Key Identifier: \n/);
    assert.match(text, /X509v3 Authority Key Identifier: \n/);
    assert.match(text, /Subject: O ?= ?Orbis, CN ?= ?Orbis CA [0-9a-f]{16}\n/);
  });

  it('chains by name and key: issuer = the root subject, AKI = the root SKI, its own SKI', async () => {
    const { root, intermediate, intermediateKey } = await fixtureChain();
    const view = readCertificate(intermediate.der);
    assert.equal(hex(view.issuer), hex(root.subjectName));
    assert.notEqual(hex(view.subject), hex(root.subjectName));
    const aki = extensionOf(view, '2.5.29.35');
    assert.equal(aki.critical, false);
    // AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier }: only the key identifier.
    assert.equal(aki.parsed.children.length, 1);
    assert.equal(hex(aki.parsed.children[0]!.contents), hex(root.subjectKeyIdentifier));
    assert.equal(intermediate.publicKey.keyId, intermediateKey.signer.publicKey.keyId);
    assert.notEqual(hex(intermediate.subjectKeyIdentifier), hex(root.subjectKeyIdentifier));

    // packages/verify reads it the same way, and the root's key verifies its signature.
    const parsed = parseCertificate(intermediate.der);
    assert.deepEqual(parsed.basicConstraints, { ca: true, pathLength: 0 });
    assert.deepEqual(parsed.keyUsage, ['keyCertSign']);
    assert.equal(hex(parsed.authorityKeyIdentifier!), hex(root.subjectKeyIdentifier));
    assert.equal(hex(parsed.subjectKeyIdentifier!), hex(intermediate.subjectKeyIdentifier));
    assert.equal(isValidSignature(root.publicKey, parsed.tbs, parsed.signatureValue, 'der'), true);
  });

  it('reads back from its DER only under its own issuer', async () => {
    const { root, intermediate } = await fixtureChain();
    const again = parseIntermediateCaCertificate(Uint8Array.from(intermediate.der), root);
    assert.deepEqual(
      { ...again, publicKey: again.publicKey.keyId },
      { ...intermediate, publicKey: intermediate.publicKey.keyId },
    );
    const other = await fixtureChain();
    assert.throws(() => parseIntermediateCaCertificate(intermediate.der, other.root), {
      code: 'CA_CERTIFICATE_INVALID',
    });
    // Not self-issued, so never a trust anchor.
    assert.throws(() => parseCaCertificate(intermediate.der), { code: 'CA_CERTIFICATE_INVALID' });
    // A self-signed CA is not an intermediate of anyone, itself included.
    assert.throws(() => parseIntermediateCaCertificate(root.der, root), { code: 'CA_CERTIFICATE_INVALID' });
    assert.throws(() => parseIntermediateCaCertificate(intermediate.der, { ...root }), {
      code: 'CA_ISSUER_INVALID',
    });
  });

  it("rejects an intermediate whose signature does not verify under the issuer's key", async () => {
    const { root, intermediate } = await fixtureChain();
    const forged = Uint8Array.from(intermediate.der);
    forged[forged.length - 5]! ^= 0x01; // inside the signature's s
    assert.throws(() => parseIntermediateCaCertificate(forged, root), { code: 'CA_CERTIFICATE_INVALID' });
  });

  it('can issue device certificates like any CaCertificate (the issuer accepts it)', async () => {
    const { intermediate, intermediateKey } = await fixtureChain();
    const issuer = createDeviceCertificateIssuer({
      caCertificate: intermediate,
      signer: intermediateKey.signer,
      random: cryptoRandom,
      scope: { kind: 'update' },
    });
    const issued = await issuer.issue(deviceRequest({ resultClass: 'update-only' }));
    assert.equal(hex(readCertificate(issued.der).issuer), hex(intermediate.subjectName));
  });

  it("refuses what the issuer's path length, validity or key does not allow", async () => {
    const { root, rootSigner, intermediate, intermediateKey } = await fixtureChain();
    const base = {
      issuer: root,
      issuerSigner: rootSigner,
      subjectKey: generateSoftwareSigner().signer.publicKey,
      random: cryptoRandom,
      notBefore: NOW,
      notAfter: NOW + DAY_MS,
      pathLength: 0,
    };
    // pathLen 1 above allows pathLen 0 only; a pathLen-0 CA (a tenant CA) certifies no CA at all.
    await assert.rejects(createIntermediateCaCertificate({ ...base, pathLength: 1 }), {
      code: 'CA_PATH_LENGTH_INVALID',
    });
    await assert.rejects(
      createIntermediateCaCertificate({
        ...base,
        issuer: intermediate,
        issuerSigner: intermediateKey.signer,
      }),
      { code: 'CA_PATH_LENGTH_INVALID' },
    );
    const tenantCa = await fixtureCa(0);
    await assert.rejects(
      createIntermediateCaCertificate({
        ...base,
        issuer: tenantCa.caCertificate,
        issuerSigner: tenantCa.signer,
      }),
      { code: 'CA_PATH_LENGTH_INVALID' },
    );
    await assert.rejects(createIntermediateCaCertificate({ ...base, pathLength: -1 }), {
      code: 'CA_PATH_LENGTH_INVALID',
    });
    await assert.rejects(createIntermediateCaCertificate({ ...base, notAfter: root.notAfter + 1000 }), {
      code: 'CA_VALIDITY_INVALID',
    });
    await assert.rejects(createIntermediateCaCertificate({ ...base, notAfter: NOW }), {
      code: 'CA_VALIDITY_INVALID',
    });
    await assert.rejects(createIntermediateCaCertificate({ ...base, issuerSigner: intermediateKey.signer }), {
      code: 'CA_SIGNER_MISMATCH',
    });
    await assert.rejects(createIntermediateCaCertificate({ ...base, subjectKey: root.publicKey }), {
      code: 'CA_CERTIFICATE_KEY_INVALID',
    });
    await assert.rejects(createIntermediateCaCertificate({ ...base, issuer: { ...root } }), {
      code: 'CA_ISSUER_INVALID',
    });
  });
});
