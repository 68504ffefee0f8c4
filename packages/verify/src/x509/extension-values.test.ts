import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SAMPLE_GROUP_ID, SAMPLE_PRODUCT_ID, SAMPLE_TENANT_ID } from '@orbis/testkit';
import { certificateCode } from './certificate-fixtures.test-helpers.ts';
import { bool, hex, oid, seq, tlv, utf8 } from './der-builder.test-helpers.ts';
import {
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeCertificatePolicies,
  decodeExtKeyUsage,
  decodeGroupAssignment,
  decodeKeyUsage,
  decodeNoRevAvail,
  decodeSubjectAltName,
  decodeSubjectKeyIdentifier,
} from './extension-values.ts';

const refused = (run: () => unknown) => assert.equal(certificateCode(run), 'CERT_MALFORMED');
const integer = (value: number) => tlv(0x02, Uint8Array.of(value));

describe('basicConstraints (RFC 5280 4.2.1.9)', () => {
  it('reads cA with and without a path length, and the empty (end-entity) form', () => {
    assert.deepEqual(decodeBasicConstraints(seq(bool(true), integer(0))), { ca: true, pathLength: 0 });
    assert.deepEqual(decodeBasicConstraints(seq(bool(true))), { ca: true, pathLength: undefined });
    assert.deepEqual(decodeBasicConstraints(seq()), { ca: false, pathLength: undefined });
  });

  it('rejects an encoded cA FALSE, a path length without cA, and an absurd path length', () => {
    refused(() => decodeBasicConstraints(seq(bool(false))));
    refused(() => decodeBasicConstraints(seq(integer(1))));
    refused(() => decodeBasicConstraints(seq(bool(true), tlv(0x02, hex('0100')))));
    refused(() => decodeBasicConstraints(seq(bool(true), integer(0), integer(0))));
  });
});

describe('keyUsage (RFC 5280 4.2.1.3)', () => {
  it('reads named bits, including decipherOnly in the second octet', () => {
    assert.deepEqual(decodeKeyUsage(tlv(0x03, hex('07 80'))), ['digitalSignature']);
    assert.deepEqual(decodeKeyUsage(tlv(0x03, hex('01 06'))), ['keyCertSign', 'cRLSign']);
    assert.deepEqual(decodeKeyUsage(tlv(0x03, hex('07 80 80'))), ['digitalSignature', 'decipherOnly']);
  });

  it('rejects no bits, trailing zero bits (not DER) and bits past decipherOnly', () => {
    refused(() => decodeKeyUsage(tlv(0x03, hex('00'))));
    refused(() => decodeKeyUsage(tlv(0x03, hex('00 80'))));
    refused(() => decodeKeyUsage(tlv(0x03, hex('06 40 00'))));
    refused(() => decodeKeyUsage(tlv(0x03, hex('06 00 40'))));
  });
});

describe('extKeyUsage (RFC 5280 4.2.1.12)', () => {
  it('reads purposes in order', () => {
    assert.deepEqual(decodeExtKeyUsage(seq(oid('1.3.6.1.5.5.7.3.2'))), ['1.3.6.1.5.5.7.3.2']);
  });

  it('rejects an empty list, a purpose listed twice and a non-OID', () => {
    refused(() => decodeExtKeyUsage(seq()));
    refused(() => decodeExtKeyUsage(seq(oid('1.3.6.1.5.5.7.3.2'), oid('1.3.6.1.5.5.7.3.2'))));
    refused(() => decodeExtKeyUsage(seq(utf8('clientAuth'))));
  });
});

describe('subjectAltName (RFC 5280 4.2.1.6)', () => {
  it('reads URIs and counts every other kind of name', () => {
    const names = seq(
      tlv(0x86, Buffer.from('urn:a')),
      tlv(0x82, Buffer.from('example.com')),
      tlv(0x87, hex('7f000001')),
    );
    assert.deepEqual(decodeSubjectAltName(names), { uris: ['urn:a'], otherCount: 2 });
    const directory = seq(tlv(0xa4, seq()), tlv(0xa0, seq(oid('1.2.3'), tlv(0xa0, utf8('x')))));
    assert.deepEqual(decodeSubjectAltName(directory), { uris: [], otherCount: 2 });
  });

  it('rejects an empty list, unknown name tags and a URI that is not ASCII', () => {
    refused(() => decodeSubjectAltName(seq()));
    refused(() => decodeSubjectAltName(seq(tlv(0x89, hex('00')))));
    refused(() => decodeSubjectAltName(seq(tlv(0xa6, Buffer.from('urn:a')))));
    refused(() => decodeSubjectAltName(seq(tlv(0x86, Buffer.from('urn:é')))));
  });
});

describe('key identifiers (RFC 5280 4.2.1.1, 4.2.1.2)', () => {
  it('reads them', () => {
    assert.deepEqual(decodeSubjectKeyIdentifier(tlv(0x04, hex('0102'))), hex('0102'));
    assert.deepEqual(decodeAuthorityKeyIdentifier(seq(tlv(0x80, hex('0102')))), hex('0102'));
    const full = seq(tlv(0x80, hex('0102')), tlv(0xa1, tlv(0xa4, seq())), tlv(0x82, hex('05')));
    assert.deepEqual(decodeAuthorityKeyIdentifier(full), hex('0102'));
    assert.equal(decodeAuthorityKeyIdentifier(seq()), undefined);
  });

  it('rejects empty identifiers, and an issuer without a serial number or the reverse', () => {
    refused(() => decodeSubjectKeyIdentifier(tlv(0x04)));
    refused(() => decodeAuthorityKeyIdentifier(seq(tlv(0x80))));
    refused(() => decodeAuthorityKeyIdentifier(seq(tlv(0x80, hex('01')), tlv(0xa1, tlv(0xa4, seq())))));
    refused(() => decodeAuthorityKeyIdentifier(seq(tlv(0x82, hex('05')))));
    refused(() => decodeAuthorityKeyIdentifier(seq(tlv(0x80, hex('01')), tlv(0x83, hex('05')))));
  });
});

describe('certificatePolicies (RFC 5280 4.2.1.4)', () => {
  it('reads policy OIDs and skips qualifiers', () => {
    const qualifier = seq(seq(oid('1.3.6.1.5.5.7.2.1'), tlv(0x16, Buffer.from('https://example.com/cps'))));
    assert.deepEqual(decodeCertificatePolicies(seq(seq(oid('2.5.29.32.0'), qualifier), seq(oid('1.2.3')))), [
      '2.5.29.32.0',
      '1.2.3',
    ]);
  });

  it('rejects an empty list, a policy named twice and extra fields', () => {
    refused(() => decodeCertificatePolicies(seq()));
    refused(() => decodeCertificatePolicies(seq(seq(oid('1.2.3')), seq(oid('1.2.3')))));
    refused(() => decodeCertificatePolicies(seq(seq(oid('1.2.3'), seq(), seq()))));
  });
});

describe('noRevAvail (RFC 9608) and the Orbis group assignment', () => {
  it('reads them', () => {
    assert.equal(decodeNoRevAvail(hex('0500')), true);
    const value = seq(utf8(SAMPLE_TENANT_ID), utf8(SAMPLE_PRODUCT_ID), utf8(SAMPLE_GROUP_ID));
    assert.deepEqual(decodeGroupAssignment(value), {
      tenantId: SAMPLE_TENANT_ID,
      productId: SAMPLE_PRODUCT_ID,
      groupId: SAMPLE_GROUP_ID,
    });
  });

  it('rejects a NULL with contents, and assignments that are not three lowercase UUIDs', () => {
    refused(() => decodeNoRevAvail(hex('050100')));
    refused(() => decodeGroupAssignment(seq(utf8(SAMPLE_TENANT_ID), utf8(SAMPLE_PRODUCT_ID))));
    refused(() =>
      decodeGroupAssignment(
        seq(utf8(SAMPLE_TENANT_ID), utf8(SAMPLE_PRODUCT_ID), utf8(SAMPLE_GROUP_ID.toUpperCase())),
      ),
    );
    const extra = seq(
      utf8(SAMPLE_TENANT_ID),
      utf8(SAMPLE_PRODUCT_ID),
      utf8(SAMPLE_GROUP_ID),
      utf8(SAMPLE_GROUP_ID),
    );
    refused(() => decodeGroupAssignment(extra));
    refused(() =>
      decodeGroupAssignment(
        seq(tlv(0x13, Buffer.from(SAMPLE_TENANT_ID)), utf8(SAMPLE_PRODUCT_ID), utf8(SAMPLE_GROUP_ID)),
      ),
    );
  });
});
