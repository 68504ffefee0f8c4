import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ATTESTATION_POLICY_OIDS,
  deviceUri,
  GROUP_ASSIGNMENT_EXTENSION_OID,
  NO_REV_AVAIL_OID,
} from '@orbis/protocol';
import {
  child,
  constantRandom,
  decodeOid,
  derText,
  extensionOf,
  readCertificate,
  SAMPLE_GROUP_ID,
  SAMPLE_PRODUCT_ID,
  SAMPLE_TENANT_ID,
} from '@orbis/testkit';
import { createCaCertificate } from '../ca-certificate/create-ca-certificate.ts';
import { deviceRequest, fixtureCa, fixtureIssuer, NOW } from '../fixtures.test-helpers.ts';
import { createDeviceCertificateIssuer } from './issuer.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const OIDS = {
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  authorityKeyIdentifier: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

describe('a device certificate, read field by field from its DER', () => {
  it('has the v3 header, a 16-byte positive serial, ecdsa-with-SHA256 without parameters, and the CA as issuer', async () => {
    const { issuer, caCertificate } = await fixtureIssuer();
    const issued = await issuer.issue(deviceRequest());
    const view = readCertificate(issued.der);
    assert.equal(view.version, 2);
    assert.equal(view.serialNumber.byteLength, 16);
    assert.ok((view.serialNumber[0] as number) >= 0x40 && (view.serialNumber[0] as number) < 0x80);
    assert.equal(hex(view.serialNumber), issued.serialNumber);
    assert.equal(view.signatureAlgorithm.oid, '1.2.840.10045.4.3.2');
    assert.equal(hex(view.signatureAlgorithm.inner), '300a06082a8648ce3d040302');
    assert.equal(hex(view.signatureAlgorithm.outer), hex(view.signatureAlgorithm.inner));
    assert.equal(hex(view.issuer), hex(caCertificate.subjectName));
  });

  it('has the validity asked for, in UTCTime, and the device ID as its only subject attribute', async () => {
    const { issuer } = await fixtureIssuer();
    const request = deviceRequest();
    const issued = await issuer.issue(request);
    const view = readCertificate(issued.der);
    assert.deepEqual(view.notBefore, { tag: 0x17, text: '261122115500Z' });
    assert.deepEqual(view.notAfter, { tag: 0x17, text: '261123120000Z' });
    assert.deepEqual([issued.notBefore, issued.notAfter], [request.notBefore, request.notAfter]);
    assert.deepEqual(view.subjectAttributes, [{ oid: '2.5.4.3', tag: 0x0c, value: request.deviceId }]);
    assert.equal(hex(view.subjectPublicKeyInfo), hex(request.certificateKey.spki));
  });

  it('carries exactly the profile extensions, in order, with keyUsage the only critical one', async () => {
    const { issuer } = await fixtureIssuer();
    const view = readCertificate((await issuer.issue(deviceRequest())).der);
    assert.deepEqual(
      view.extensions.map(({ oid, critical }) => [oid, critical]),
      [
        [OIDS.subjectAltName, false],
        [OIDS.keyUsage, true],
        [OIDS.extKeyUsage, false],
        [OIDS.authorityKeyIdentifier, false],
        [NO_REV_AVAIL_OID, false],
        [OIDS.certificatePolicies, false],
        [GROUP_ASSIGNMENT_EXTENSION_OID, false],
      ],
    );
  });

  it('encodes each extension value as the profile says', async () => {
    const { issuer, caCertificate } = await fixtureIssuer();
    const request = deviceRequest();
    const view = readCertificate((await issuer.issue(request)).der);

    const san = extensionOf(view, OIDS.subjectAltName).parsed;
    assert.equal(san.children.length, 1);
    assert.equal(child(san, 0).tag, 0x86); // [6] IMPLICIT IA5String: uniformResourceIdentifier
    assert.equal(derText(child(san, 0)), deviceUri(SAMPLE_TENANT_ID, request.deviceId));

    assert.equal(hex(extensionOf(view, OIDS.keyUsage).value), '03020780'); // digitalSignature only
    const usages = extensionOf(view, OIDS.extKeyUsage).parsed.children.map((node) =>
      decodeOid(node.contents),
    );
    assert.deepEqual(usages, [OIDS.clientAuth, OIDS.serverAuth]);

    const aki = extensionOf(view, OIDS.authorityKeyIdentifier).parsed;
    assert.equal(aki.children.length, 1);
    assert.equal(child(aki, 0).tag, 0x80); // [0] IMPLICIT keyIdentifier
    assert.equal(hex(child(aki, 0).contents), hex(caCertificate.subjectKeyIdentifier));

    assert.equal(hex(extensionOf(view, NO_REV_AVAIL_OID).value), '0500'); // RFC 9608: NULL

    const policies = extensionOf(view, OIDS.certificatePolicies).parsed;
    assert.equal(policies.children.length, 1);
    assert.equal(child(policies, 0).children.length, 1); // a policyIdentifier, no qualifiers
    assert.equal(decodeOid(child(child(policies, 0), 0).contents), ATTESTATION_POLICY_OIDS.trusted);

    const assignment = extensionOf(view, GROUP_ASSIGNMENT_EXTENSION_OID).parsed;
    assert.deepEqual(
      assignment.children.map((node) => [node.tag, derText(node)]),
      [
        [0x0c, SAMPLE_TENANT_ID],
        [0x0c, SAMPLE_PRODUCT_ID],
        [0x0c, SAMPLE_GROUP_ID],
      ],
    );
  });

  it('has no CRL distribution point, no authority information access and no subjectKeyIdentifier', async () => {
    const { issuer } = await fixtureIssuer();
    const oids = readCertificate((await issuer.issue(deviceRequest())).der).extensions.map((e) => e.oid);
    for (const absent of ['2.5.29.31', '1.3.6.1.5.5.7.1.1', '2.5.29.14', '2.5.29.19']) {
      assert.equal(oids.includes(absent), false, absent);
    }
  });

  it('is signed over its TBSCertificate by the CA key', async () => {
    const { issuer, caCertificate } = await fixtureIssuer();
    const view = readCertificate((await issuer.issue(deviceRequest())).der);
    assert.equal(view.signatureValue[0], 0); // no unused bits
    const caKey = createPublicKey({
      key: Buffer.from(caCertificate.publicKey.spki),
      format: 'der',
      type: 'spki',
    });
    assert.equal(verify('sha256', view.tbs, caKey, view.signatureValue.subarray(1)), true);
  });

  it('draws a different serial for every certificate', async () => {
    const { issuer } = await fixtureIssuer();
    const request = deviceRequest();
    const serials = await Promise.all(
      Array.from({ length: 64 }, async () => (await issuer.issue(request)).serialNumber),
    );
    assert.equal(new Set(serials).size, serials.length);
  });

  it('keeps a serial positive, non-zero and 16 octets even when the random bytes are all ones or all zeros', async () => {
    const ca = await fixtureCa();
    const scope = { kind: 'tenant', tenantId: SAMPLE_TENANT_ID } as const;
    for (const [byte, serial] of [
      [0xff, '7f' + 'ff'.repeat(15)],
      [0x00, '40' + '00'.repeat(15)],
    ] as const) {
      const issuer = createDeviceCertificateIssuer({ ...ca, scope, random: constantRandom(byte) });
      const issued = await issuer.issue(deviceRequest());
      assert.equal(issued.serialNumber, serial);
      assert.equal(hex(readCertificate(issued.der).serialNumber), serial);
    }
  });

  it('writes GeneralizedTime for a certificate that ends in 2050 (RFC 5280 4.1.2.5)', async () => {
    const { signer } = await fixtureCa();
    const late = Date.UTC(2049, 11, 31, 12);
    const caCertificate = await createCaCertificate({
      signer,
      random: constantRandom(1),
      notBefore: NOW,
      notAfter: Date.UTC(2051, 0, 1),
    });
    const issuer = createDeviceCertificateIssuer({
      caCertificate,
      signer,
      random: constantRandom(2),
      scope: { kind: 'tenant', tenantId: SAMPLE_TENANT_ID },
    });
    const view = readCertificate(
      (await issuer.issue(deviceRequest({ notBefore: late, notAfter: late + 86_400_000 }))).der,
    );
    assert.deepEqual(view.notBefore, { tag: 0x17, text: '491231120000Z' });
    assert.deepEqual(view.notAfter, { tag: 0x18, text: '20500101120000Z' });
  });
});
