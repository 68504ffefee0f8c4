import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publicKeyFromKeyObject } from '@orbis/crypto';
import {
  ATTESTATION_POLICY_OIDS,
  deviceUri,
  GROUP_ASSIGNMENT_EXTENSION_OID,
  NO_REV_AVAIL_OID,
  type AttestationResultClass,
} from '@orbis/protocol';
import {
  createTestDeviceKeys,
  createTestTenantCa,
  deviceCertificateExtensions,
  issueTestCertificate,
  opensslVerifyCertificate,
  SAMPLE_GROUP_ID,
  SAMPLE_PRODUCT_ID,
} from '@orbis/testkit';
import {
  certificateCode,
  DAY,
  deviceA,
  deviceCertificate,
  leafA,
  MINUTE,
  NOW,
  TENANT_A,
  TENANT_B,
  tenantCaA,
  tenantCaB,
} from './certificate-fixtures.test-helpers.ts';
import {
  bool,
  extension,
  hex,
  oid,
  resign,
  seq,
  set,
  splitCertificate,
  tlv,
  utcTime,
  utf8,
  withExtension,
} from './der-builder.test-helpers.ts';
import { assertTrustAnchor } from './issued-by-anchor.ts';
import { OID } from './oids.ts';
import { parseCertificate, type ParsedCertificate } from './parse-certificate.ts';
import {
  verifyDeviceCertificateChain,
  type VerifyDeviceCertificateChainOptions,
} from './verify-device-chain.ts';

const caA = tenantCaA();
const caB = tenantCaB();
const updateCa = createTestTenantCa({ notBefore: NOW - 30 * DAY });
const leaf = leafA();
const deviceId = deviceA().deviceId;
const anchorsByTenant = new Map([
  [TENANT_A, [parseCertificate(caA.der)]],
  [TENANT_B, [parseCertificate(caB.der)]],
]);
const options: VerifyDeviceCertificateChainOptions = {
  anchorsForTenant: (tenantId) => anchorsByTenant.get(tenantId) ?? [],
  updateAnchors: [parseCertificate(updateCa.der)],
  now: NOW,
  allowedClasses: ['trusted', 'development'],
};

function refusal(chain: readonly Uint8Array[], overrides: Partial<VerifyDeviceCertificateChainOptions> = {}) {
  return certificateCode(() => verifyDeviceCertificateChain(chain, { ...options, ...overrides }));
}

/** An authorityKeyIdentifier naming tenant A's CA, as openssl extfile DER. */
function caKeyIdentifier(): string {
  const ski = parseCertificate(caA.der).subjectKeyIdentifier ?? new Uint8Array(0);
  const value = seq(tlv(0x80, ski));
  return `DER:${Buffer.from(value)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1:')}`;
}

/** The fixture leaf with its TBSCertificate edited and signed again by tenant A's CA. */
const edited = (edit: Parameters<typeof resign>[2]) => resign(leaf.der, caA.privateKey, edit);
const withExt = (id: string, value: Uint8Array | null) => edited({ extensions: withExtension(id, value) });
const san = (...names: Uint8Array[]) => extension(OID.subjectAltName, seq(...names));
const uri = (text: string) => tlv(0x86, Buffer.from(text));
const cn = (text: string) => set(seq(oid('2.5.4.3'), utf8(text)));

describe('verifyDeviceCertificateChain accepts what its tenant issued', () => {
  it("accepts a leaf issued by tenant A's CA, for tenant A", () => {
    const verified = verifyDeviceCertificateChain([leaf.der], options);
    assert.deepEqual(verified, {
      deviceId,
      tenantId: TENANT_A,
      resultClass: 'trusted',
      notBefore: NOW - 5 * MINUTE,
      notAfter: NOW + DAY,
      serial: parseCertificate(leaf.der).serialNumber,
      groupAssignment: { tenantId: TENANT_A, productId: SAMPLE_PRODUCT_ID, groupId: SAMPLE_GROUP_ID },
      publicKey: verified.publicKey,
    });
    assert.equal(verified.publicKey.keyId, publicKeyFromKeyObject(leaf.privateKey).keyId);
    const outside = opensslVerifyCertificate({
      anchors: [caA.der],
      leaf: leaf.der,
      purpose: 'sslclient',
      at: NOW,
    });
    assert.equal(outside.verified, true, outside.output);
  });

  it('accepts leaves from the next anchor during rotation, and at both ends of the validity', () => {
    const next = createTestTenantCa({ notBefore: NOW - DAY });
    const fromNext = deviceCertificate({ ca: next });
    const rotating = { anchorsForTenant: () => [parseCertificate(caA.der), parseCertificate(next.der)] };
    assert.equal(refusal([fromNext.der], rotating), undefined);
    assert.equal(refusal([leaf.der], rotating), undefined);
    assert.equal(refusal([leaf.der], { now: NOW - 5 * MINUTE }), undefined);
    assert.equal(refusal([leaf.der], { now: NOW + DAY }), undefined);
  });

  it('ignores whatever else the chain holds, without parsing it', () => {
    assert.equal(refusal([leaf.der, caA.der, Uint8Array.of(0xde, 0xad)]), undefined);
  });

  it('accepts development certificates where they are allowed', () => {
    const development = deviceCertificate({ resultClass: 'development' });
    assert.equal(verifyDeviceCertificateChain([development.der], options).resultClass, 'development');
    assert.equal(refusal([development.der], { allowedClasses: ['trusted'] }), 'CERT_CLASS_NOT_ALLOWED');
  });
});

describe('verifyDeviceCertificateChain keeps tenants apart', () => {
  it('rejects a tenant-B device presenting its own CA as an intermediate to tenant A’s anchors', () => {
    const forged = deviceCertificate({ ca: caB });
    assert.equal(refusal([forged.der, caB.der]), 'CERT_UNKNOWN_ISSUER');
    assert.equal(refusal([forged.der, caB.der, caA.der]), 'CERT_UNKNOWN_ISSUER');
  });

  it('reports a tenant-B device as tenant B, checked against tenant B’s anchors only', () => {
    const other = createTestDeviceKeys();
    const leafB = deviceCertificate({ ca: caB, tenantId: TENANT_B, deviceId: other.deviceId });
    assert.equal(verifyDeviceCertificateChain([leafB.der], options).tenantId, TENANT_B);
    assert.equal(
      refusal([leafB.der], { anchorsForTenant: () => anchorsByTenant.get(TENANT_A) ?? [] }),
      'CERT_UNKNOWN_ISSUER',
    );
  });

  it('never uses a presented certificate as an intermediate, even a CA that tenant A’s anchor signed', () => {
    const intermediate = createTestTenantCa({ issuer: caA, notBefore: NOW - DAY });
    const viaIntermediate = deviceCertificate({ ca: intermediate });
    assert.equal(refusal([viaIntermediate.der, intermediate.der]), 'CERT_UNKNOWN_ISSUER');
  });

  it('rejects a forged leaf signed by a real device certificate of the same tenant', () => {
    const victim = createTestDeviceKeys().deviceId;
    // It even claims tenant A's CA key identifier; its issuer name is still the device's.
    const forged = deviceCertificate({
      ca: leaf,
      deviceId: victim,
      extensions: { authorityKeyIdentifier: null, '2.5.29.35': caKeyIdentifier() },
    });
    assert.equal(refusal([forged.der, leaf.der]), 'CERT_UNKNOWN_ISSUER');
  });

  it("rejects a self-signed leaf carrying a registered device's ID", () => {
    const selfSigned = issueTestCertificate({
      subject: `/CN=${deviceId}`,
      notBefore: NOW - MINUTE,
      notAfter: NOW + DAY,
      extensions: {
        ...deviceCertificateExtensions({ ca: caA, tenantId: TENANT_A, deviceId }),
        subjectKeyIdentifier: '0102030405060708090a0b0c0d0e0f1011121314',
        authorityKeyIdentifier: null,
        '2.5.29.35': 'DER:30:16:80:14:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14',
      },
    });
    assert.equal(refusal([selfSigned.der]), 'CERT_UNKNOWN_ISSUER');
  });

  it("rejects a leaf that copies tenant A's CA name and key identifier but is signed by another key", () => {
    const anchor = parseCertificate(caA.der);
    const impostor = createTestTenantCa({
      subject: caA.subject,
      notBefore: NOW - DAY,
      extensions: { subjectKeyIdentifier: Buffer.from(anchor.subjectKeyIdentifier ?? []).toString('hex') },
    });
    const forged = deviceCertificate({ ca: impostor });
    assert.deepEqual(parseCertificate(forged.der).authorityKeyIdentifier, anchor.subjectKeyIdentifier);
    assert.equal(refusal([forged.der, impostor.der]), 'CERT_SIGNATURE_INVALID');
  });

  it('rejects any device of a tenant with no anchors', () => {
    assert.equal(refusal([leaf.der], { anchorsForTenant: () => [] }), 'CERT_UNKNOWN_ISSUER');
  });
});

describe('verifyDeviceCertificateChain refuses altered certificates', () => {
  it('rejects a flipped byte anywhere in the TBS or the signature', () => {
    for (let offset = 0; offset < leaf.der.byteLength; offset += 1) {
      const altered = Uint8Array.from(leaf.der);
      altered[offset] = (altered[offset] as number) ^ 0x01;
      assert.notEqual(refusal([altered]), undefined, `byte ${offset} flipped was accepted`);
    }
    // The serial number's last octet: the certificate still parses, so the signature decides.
    const { serial } = splitCertificate(leaf.der).tbs;
    const serialAt = Buffer.from(leaf.der).indexOf(Buffer.from(serial)) + serial.byteLength - 1;
    const altered = Uint8Array.from(leaf.der);
    altered[serialAt] = (altered[serialAt] as number) ^ 0x01;
    assert.equal(refusal([altered]), 'CERT_SIGNATURE_INVALID');
  });

  it('rejects truncated DER and trailing bytes', () => {
    assert.equal(refusal([leaf.der.subarray(0, leaf.der.byteLength - 1)]), 'CERT_MALFORMED');
    assert.equal(refusal([Buffer.concat([leaf.der, Uint8Array.of(0)])]), 'CERT_MALFORMED');
  });

  it('rejects an unknown critical extension, even signed by the tenant CA', () => {
    const marked = deviceCertificate({ extensions: { '1.3.6.1.4.1.99999.1': 'critical, DER:05:00' } });
    assert.equal(refusal([marked.der]), 'CERT_EXTENSION_UNKNOWN_CRITICAL');
  });

  it('rejects an empty chain and one longer than MAX_CERTIFICATE_CHAIN_LENGTH', () => {
    assert.equal(refusal([]), 'CERT_CHAIN_INVALID');
    assert.equal(refusal([leaf.der, caA.der, caA.der, caA.der, caA.der]), 'CERT_CHAIN_INVALID');
  });
});

describe('verifyDeviceCertificateChain checks time', () => {
  it('rejects an expired certificate and one not yet valid', () => {
    assert.equal(refusal([leaf.der], { now: NOW + DAY + 1000 }), 'CERT_EXPIRED');
    assert.equal(refusal([leaf.der], { now: NOW - 5 * MINUTE - 1000 }), 'CERT_NOT_YET_VALID');
  });

  it('fails closed when the time it is given is not a number', () => {
    assert.equal(refusal([leaf.der], { now: Number.NaN }), 'CERT_NOT_YET_VALID');
  });

  it('rejects a certificate whose anchor has expired or is not yet valid', () => {
    const anchorValid = (from: string, to: string) => {
      const anchor = parseCertificate(
        resign(caA.der, caA.privateKey, { validity: seq(utcTime(from), utcTime(to)) }),
      );
      return { anchorsForTenant: () => [anchor] };
    };
    assert.equal(refusal([leaf.der], anchorValid('250101000000Z', '260115115959Z')), 'CERT_EXPIRED');
    assert.equal(refusal([leaf.der], anchorValid('260115120001Z', '280101000000Z')), 'CERT_NOT_YET_VALID');
  });
});

describe('verifyDeviceCertificateChain enforces the attestation result class', () => {
  const updateOnly = deviceCertificate({ ca: updateCa, resultClass: 'update-only' });

  it('rejects an update-only certificate where only trusted ones are allowed', () => {
    assert.equal(refusal([updateOnly.der], { allowedClasses: ['trusted'] }), 'CERT_CLASS_NOT_ALLOWED');
    const verified = verifyDeviceCertificateChain([updateOnly.der], {
      ...options,
      allowedClasses: ['update-only'],
    });
    assert.equal(verified.resultClass, 'update-only');
  });

  it('rejects update-only certificates where no update anchors are configured', () => {
    const { updateAnchors: _, ...withoutUpdateCa } = options;
    const allowed: AttestationResultClass[] = ['update-only'];
    assert.equal(
      certificateCode(() =>
        verifyDeviceCertificateChain([updateOnly.der], { ...withoutUpdateCa, allowedClasses: allowed }),
      ),
      'CERT_UNKNOWN_ISSUER',
    );
  });

  it('rejects a trusted certificate issued by the update CA, and an update-only one by a tenant CA', () => {
    const trustedByUpdateCa = deviceCertificate({ ca: updateCa });
    assert.equal(refusal([trustedByUpdateCa.der]), 'CERT_UNKNOWN_ISSUER');
    const updateOnlyByTenant = deviceCertificate({ resultClass: 'update-only' });
    assert.equal(
      refusal([updateOnlyByTenant.der], { allowedClasses: ['update-only'] }),
      'CERT_UNKNOWN_ISSUER',
    );
  });

  it('rejects no policy, an unknown policy, or two classes at once', () => {
    const policies = (...ids: string[]) =>
      extension(OID.certificatePolicies, seq(...ids.map((id) => seq(oid(id)))));
    assert.equal(refusal([withExt(OID.certificatePolicies, null)]), 'CERT_PROFILE_INVALID');
    assert.equal(
      refusal([withExt(OID.certificatePolicies, policies('2.5.29.32.0'))]),
      'CERT_PROFILE_INVALID',
    );
    const both = policies(ATTESTATION_POLICY_OIDS.trusted, ATTESTATION_POLICY_OIDS['update-only']);
    assert.equal(refusal([withExt(OID.certificatePolicies, both)]), 'CERT_PROFILE_INVALID');
  });
});

describe('verifyDeviceCertificateChain enforces the device-certificate profile', () => {
  const expectProfile = (der: Uint8Array, why: string) =>
    assert.equal(refusal([der]), 'CERT_PROFILE_INVALID', why);

  it('requires exactly one URI SAN naming an Orbis device', () => {
    const own = deviceUri(TENANT_A, deviceId);
    expectProfile(withExt(OID.subjectAltName, null), 'no SAN');
    expectProfile(withExt(OID.subjectAltName, san(uri(own), uri(own))), 'two URIs');
    expectProfile(
      withExt(OID.subjectAltName, san(uri(own), tlv(0x82, Buffer.from('device.example')))),
      'URI and DNS',
    );
    expectProfile(withExt(OID.subjectAltName, san(tlv(0x82, Buffer.from('device.example')))), 'DNS only');
    expectProfile(withExt(OID.subjectAltName, san(uri(`spiffe://orbis/${deviceId}`))), 'another scheme');
    expectProfile(withExt(OID.subjectAltName, san(uri(own.toUpperCase()))), 'upper case');
  });

  it('requires the subject to be exactly CN = the device ID in the URI', () => {
    const other = createTestDeviceKeys().deviceId;
    expectProfile(edited({ subject: seq(cn(other)) }), 'another device');
    expectProfile(
      edited({ subject: seq(cn(deviceId), set(seq(oid('2.5.4.10'), utf8('Orbis')))) }),
      'extra attribute',
    );
    expectProfile(edited({ subject: seq() }), 'empty subject');
  });

  it('requires keyUsage critical digitalSignature only, and extKeyUsage clientAuth', () => {
    const keyUsage = (bits: string, critical: boolean) =>
      extension(OID.keyUsage, tlv(0x03, hex(bits)), critical);
    expectProfile(withExt(OID.keyUsage, null), 'no keyUsage');
    expectProfile(withExt(OID.keyUsage, keyUsage('0780', false)), 'not critical');
    expectProfile(withExt(OID.keyUsage, keyUsage('05a0', true)), 'keyEncipherment too');
    expectProfile(withExt(OID.extKeyUsage, null), 'no extKeyUsage');
    expectProfile(
      withExt(OID.extKeyUsage, extension(OID.extKeyUsage, seq(oid(OID.serverAuth)))),
      'serverAuth only',
    );
  });

  it('requires noRevAvail and a group assignment for the same tenant', () => {
    expectProfile(withExt(NO_REV_AVAIL_OID, null), 'no noRevAvail');
    expectProfile(withExt(GROUP_ASSIGNMENT_EXTENSION_OID, null), 'no group assignment');
    const elsewhere = seq(utf8(TENANT_B), utf8(SAMPLE_PRODUCT_ID), utf8(SAMPLE_GROUP_ID));
    expectProfile(
      withExt(GROUP_ASSIGNMENT_EXTENSION_OID, extension(GROUP_ASSIGNMENT_EXTENSION_OID, elsewhere)),
      'tenant B',
    );
  });

  it('requires an authority key identifier', () => {
    expectProfile(withExt(OID.authorityKeyIdentifier, null), 'no AKI');
  });

  it('rejects a CA certificate presented as a device certificate', () => {
    const ca = extension(OID.basicConstraints, seq(bool(true)), true);
    expectProfile(withExt(OID.basicConstraints, ca), 'cA TRUE');
    expectProfile(
      withExt(OID.keyUsage, extension(OID.keyUsage, tlv(0x03, hex('0284')), true)),
      'keyCertSign',
    );
  });
});

describe('trust anchors must be able to issue', () => {
  const anchorVariant = (edit: Parameters<typeof resign>[2]): ParsedCertificate =>
    parseCertificate(resign(caA.der, caA.privateKey, edit));
  const withAnchor = (anchor: ParsedCertificate) => ({ anchorsForTenant: () => [anchor] });

  it('rejects an anchor that is not a CA or lacks keyCertSign, as a configuration error', () => {
    const notCa = anchorVariant({ extensions: withExtension(OID.basicConstraints, null) });
    assert.equal(refusal([leaf.der], withAnchor(notCa)), 'CERT_ANCHOR_INVALID');
    const noKeyUsage = anchorVariant({ extensions: withExtension(OID.keyUsage, null) });
    assert.equal(refusal([leaf.der], withAnchor(noKeyUsage)), 'CERT_ANCHOR_INVALID');
    const signOnly = extension(OID.keyUsage, tlv(0x03, hex('0780')), true);
    assert.equal(
      refusal([leaf.der], withAnchor(anchorVariant({ extensions: withExtension(OID.keyUsage, signOnly) }))),
      'CERT_ANCHOR_INVALID',
    );
  });

  it('finds no issuer in an anchor without a subject key identifier', () => {
    const noSki = anchorVariant({ extensions: withExtension(OID.subjectKeyIdentifier, null) });
    assert.equal(refusal([leaf.der], withAnchor(noSki)), 'CERT_UNKNOWN_ISSUER');
    assert.equal(
      certificateCode(() => assertTrustAnchor(noSki)),
      'CERT_ANCHOR_INVALID',
    );
    assert.equal(
      certificateCode(() => assertTrustAnchor(parseCertificate(caA.der))),
      undefined,
    );
  });

  it('skips anchors whose name or key identifier differs', () => {
    const renamed = anchorVariant({ subject: seq(cn('another name')) });
    assert.equal(refusal([leaf.der], withAnchor(renamed)), 'CERT_UNKNOWN_ISSUER');
    const anchors = [renamed, parseCertificate(caB.der), parseCertificate(caA.der)];
    assert.equal(refusal([leaf.der], { anchorsForTenant: () => anchors }), undefined);
  });

  it('rejects an anchor with non-critical basicConstraints, or one that is not self-issued', () => {
    const nonCritical = extension(OID.basicConstraints, seq(bool(true), tlv(0x02, hex('00'))));
    const loose = anchorVariant({ extensions: withExtension(OID.basicConstraints, nonCritical) });
    assert.equal(refusal([leaf.der], withAnchor(loose)), 'CERT_ANCHOR_INVALID');
    const crossSigned = anchorVariant({ issuer: seq(cn('a platform root')) });
    assert.equal(refusal([leaf.der], withAnchor(crossSigned)), 'CERT_ANCHOR_INVALID');
  });

  it('rejects an anchor whose authority key identifier is not its own', () => {
    const ski = parseCertificate(caA.der).subjectKeyIdentifier ?? new Uint8Array(0);
    const aki = (value: Uint8Array) => extension(OID.authorityKeyIdentifier, value);
    const own = anchorVariant({
      extensions: withExtension(OID.authorityKeyIdentifier, aki(seq(tlv(0x80, ski)))),
    });
    assert.equal(refusal([leaf.der], withAnchor(own)), undefined);
    const other = anchorVariant({
      extensions: withExtension(OID.authorityKeyIdentifier, aki(seq(tlv(0x80, hex('01'))))),
    });
    assert.equal(refusal([leaf.der], withAnchor(other)), 'CERT_ANCHOR_INVALID');
    const none = anchorVariant({ extensions: withExtension(OID.authorityKeyIdentifier, aki(seq())) });
    assert.equal(refusal([leaf.der], withAnchor(none)), 'CERT_ANCHOR_INVALID');
  });

  it('matches no anchor to an empty issuer name, even an anchor with an empty subject', () => {
    const nameless = anchorVariant({ subject: seq(), issuer: seq() });
    const leafOfNameless = resign(leaf.der, caA.privateKey, { issuer: seq() });
    assert.equal(refusal([leafOfNameless], withAnchor(nameless)), 'CERT_UNKNOWN_ISSUER');
  });
});
