import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { isValidSignature, publicKeyFromKeyObject } from '@orbis/crypto';
import {
  ATTESTATION_POLICY_OIDS,
  GROUP_ASSIGNMENT_EXTENSION_OID,
  MAX_CERTIFICATE_BYTES,
  NO_REV_AVAIL_OID,
} from '@orbis/protocol';
import { SAMPLE_GROUP_ID, SAMPLE_PRODUCT_ID } from '@orbis/testkit';
import {
  certificateCode,
  deviceA,
  leafA,
  MINUTE,
  NOW,
  TENANT_A,
  tenantCaA,
} from './certificate-fixtures.test-helpers.ts';
import {
  bool,
  children,
  extension,
  hex,
  oid,
  octets,
  resign,
  seq,
  signTbs,
  assembleTbs,
  splitCertificate,
  tlv,
  withExtension,
} from './der-builder.test-helpers.ts';
import { parseCertificate } from './parse-certificate.ts';

const leaf = leafA();
const ca = tenantCaA();
const caKey = ca.privateKey;
const parse = (der: Uint8Array) => certificateCode(() => parseCertificate(der));
const edited = (edit: Parameters<typeof resign>[2]) => resign(leaf.der, caKey, edit);
const ECDSA_SHA384 = seq(oid('1.2.840.10045.4.3.3'));

describe('parseCertificate reads what openssl writes', () => {
  it('reads every field of a device certificate', () => {
    const parsed = parseCertificate(leaf.der);
    const anchor = parseCertificate(ca.der);
    assert.equal(parsed.version, 3);
    assert.match(parsed.serialNumber, /^[0-9a-f]{2,32}$/);
    assert.equal(parsed.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.deepEqual(parsed.issuer.der, anchor.subject.der);
    assert.equal(parsed.subject.commonName, deviceA().deviceId);
    assert.equal(parsed.notBefore, NOW - 5 * MINUTE);
    assert.equal(parsed.notAfter, NOW + 24 * 60 * MINUTE);
    assert.equal(parsed.publicKey.keyId, publicKeyFromKeyObject(leaf.privateKey).keyId);
    assert.deepEqual(parsed.keyUsage, ['digitalSignature']);
    assert.equal(parsed.extensions.get('2.5.29.15')?.critical, true);
    assert.deepEqual(parsed.extKeyUsage, ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1']);
    assert.deepEqual(parsed.subjectAltName, {
      uris: [`urn:orbis:tenant:${TENANT_A}:device:${deviceA().deviceId}`],
      otherCount: 0,
    });
    assert.deepEqual(parsed.authorityKeyIdentifier, anchor.subjectKeyIdentifier);
    assert.equal(parsed.subjectKeyIdentifier, undefined);
    assert.equal(parsed.basicConstraints, undefined);
    assert.deepEqual(parsed.certificatePolicies, [ATTESTATION_POLICY_OIDS.trusted]);
    assert.equal(parsed.noRevAvail, true);
    assert.deepEqual(parsed.groupAssignment, {
      tenantId: TENANT_A,
      productId: SAMPLE_PRODUCT_ID,
      groupId: SAMPLE_GROUP_ID,
    });
    assert.equal(isValidSignature(anchor.publicKey, parsed.tbs, parsed.signatureValue, 'der'), true);
    assert.deepEqual(parsed.der, leaf.der);
  });

  it('reads a tenant CA', () => {
    const anchor = parseCertificate(ca.der);
    assert.deepEqual(anchor.basicConstraints, { ca: true, pathLength: 0 });
    assert.deepEqual(anchor.keyUsage, ['keyCertSign']);
    assert.equal(anchor.subjectKeyIdentifier?.byteLength, 20);
    assert.equal(anchor.authorityKeyIdentifier, undefined);
    assert.deepEqual(anchor.issuer.der, anchor.subject.der);
  });

  it('keeps its own copy, so a caller reusing its buffer changes nothing', () => {
    const buffer = Uint8Array.from(leaf.der);
    const parsed = parseCertificate(buffer);
    const issuer = Uint8Array.from(parsed.issuer.der);
    buffer.fill(0);
    assert.deepEqual(parsed.issuer.der, issuer);
    assert.deepEqual(parsed.der, leaf.der);
  });

  it('reads a certificate without extensions, an unknown non-critical extension and a 20-octet serial', () => {
    const bare = parseCertificate(edited({ extensions: null }));
    assert.equal(bare.extensions.size, 0);
    assert.equal(bare.noRevAvail, false);
    assert.equal(bare.keyUsage, undefined);
    const unknown = parseCertificate(
      edited({ extensions: (list) => [...list, extension('1.2.3.4', hex('0500'))] }),
    );
    assert.deepEqual(unknown.extensions.get('1.2.3.4'), {
      oid: '1.2.3.4',
      critical: false,
      value: hex('0500'),
    });
    assert.equal(
      parseCertificate(edited({ serial: tlv(0x02, hex('7f'.repeat(20))) })).serialNumber,
      '7f'.repeat(20),
    );
    assert.equal(parseCertificate(edited({ serial: tlv(0x02, hex('00ff')) })).serialNumber, 'ff');
  });
});

describe('parseCertificate refuses malformed DER', () => {
  it('rejects every truncation of a certificate', () => {
    for (let length = 0; length < leaf.der.byteLength; length += 1) {
      assert.equal(parse(leaf.der.subarray(0, length)), 'CERT_MALFORMED', `truncated to ${length} bytes`);
    }
  });

  it('rejects trailing bytes after the certificate, and inside it after the signature', () => {
    assert.equal(parse(Buffer.concat([leaf.der, Uint8Array.of(0)])), 'CERT_MALFORMED');
    assert.equal(parse(Buffer.concat([leaf.der, leaf.der])), 'CERT_MALFORMED');
    const [tbs, algorithm, signature] = children(leaf.der) as [Uint8Array, Uint8Array, Uint8Array];
    assert.equal(parse(seq(tbs, algorithm, signature, tlv(0x05))), 'CERT_MALFORMED');
  });

  it('rejects a certificate larger than MAX_CERTIFICATE_BYTES before reading it', () => {
    const huge = new Uint8Array(MAX_CERTIFICATE_BYTES + 1);
    huge.set(leaf.der);
    assert.equal(parse(huge), 'CERT_TOO_LARGE');
  });

  it('throws nothing but CertificateError for any single flipped byte', () => {
    for (let offset = 0; offset < leaf.der.byteLength; offset += 1) {
      for (const mask of [0x01, 0xff]) {
        const altered = Uint8Array.from(leaf.der);
        altered[offset] = (altered[offset] as number) ^ mask;
        parse(altered);
      }
    }
  });

  it('rejects issuerUniqueID and subjectUniqueID, which conforming CAs never write', () => {
    assert.equal(parse(edited({ extra: [tlv(0x81, hex('00ab'))] })), 'CERT_MALFORMED');
    assert.equal(parse(edited({ extra: [tlv(0xa2, tlv(0x03, hex('00ab')))] })), 'CERT_MALFORMED');
  });

  it('rejects a validity with a third time, and a serial number that is zero, negative or over 20 octets', () => {
    const { validity } = splitCertificate(leaf.der).tbs;
    const times = children(validity);
    assert.equal(parse(edited({ validity: seq(...times, times[0] as Uint8Array) })), 'CERT_MALFORMED');
    assert.equal(parse(edited({ serial: tlv(0x02, hex('00')) })), 'CERT_MALFORMED');
    assert.equal(parse(edited({ serial: tlv(0x02, hex('ff01')) })), 'CERT_MALFORMED');
    assert.equal(parse(edited({ serial: tlv(0x02, hex(`00${'ff'.repeat(20)}`)) })), 'CERT_MALFORMED');
  });

  it('rejects a signature value with unused bits or in non-strict DER', () => {
    const [tbs, algorithm, signature] = children(leaf.der) as [Uint8Array, Uint8Array, Uint8Array];
    const bits = signature.subarray(signature[1] === 0x81 ? 3 : 2);
    const ecdsa = bits.subarray(1);
    assert.equal(
      parse(seq(tbs, algorithm, tlv(0x03, Uint8Array.of(1), ecdsa.subarray(0, -1), hex('00')))),
      'CERT_MALFORMED',
    );
    // A redundant leading zero on r: OpenSSL tolerates it, Orbis accepts one encoding only.
    const r = children(ecdsa)[0] as Uint8Array;
    const s = children(ecdsa)[1] as Uint8Array;
    const paddedR = tlv(0x02, hex('00'), r.subarray(2));
    assert.equal(parse(seq(tbs, algorithm, tlv(0x03, hex('00'), seq(paddedR, s)))), 'CERT_MALFORMED');
  });
});

describe('parseCertificate refuses what Orbis does not accept', () => {
  it('rejects X.509 v1 and v2 certificates', () => {
    assert.equal(parse(edited({ version: null })), 'CERT_VERSION_UNSUPPORTED');
    assert.equal(parse(edited({ version: tlv(0xa0, tlv(0x02, hex('01'))) })), 'CERT_VERSION_UNSUPPORTED');
    assert.equal(parse(edited({ version: tlv(0xa0, tlv(0x02, hex('00'))) })), 'CERT_VERSION_UNSUPPORTED');
    assert.equal(parse(edited({ version: tlv(0xa0, tlv(0x02, hex('02')), hex('0500')) })), 'CERT_MALFORMED');
  });

  it('rejects other signature algorithms, parameters, and an outer algorithm that differs', () => {
    assert.equal(parse(edited({ signature: ECDSA_SHA384 })), 'CERT_UNSUPPORTED_ALGORITHM');
    const withNull = seq(oid('1.2.840.10045.4.3.2'), hex('0500'));
    assert.equal(parse(edited({ signature: withNull })), 'CERT_UNSUPPORTED_ALGORITHM');
    const { tbs } = splitCertificate(leaf.der);
    assert.equal(parse(signTbs(assembleTbs(tbs), caKey, ECDSA_SHA384)), 'CERT_UNSUPPORTED_ALGORITHM');
  });

  it('rejects subject keys other than canonical P-256: P-384, RSA, a compressed point', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    for (const key of [p384, rsa]) {
      const spki = key.export({ format: 'der', type: 'spki' });
      assert.equal(parse(edited({ spki })), 'CERT_KEY_UNSUPPORTED');
    }
    const point = createPublicKey(leaf.privateKey).export({ format: 'jwk' });
    const y = Buffer.from(String(point.y), 'base64url');
    const compressed = Buffer.concat([
      hex('3039301306072a8648ce3d020106082a8648ce3d030107032200'),
      Uint8Array.of(2 + ((y.at(-1) as number) & 1)),
      Buffer.from(String(point.x), 'base64url'),
    ]);
    assert.equal(parse(edited({ spki: compressed })), 'CERT_KEY_UNSUPPORTED');
  });
});

describe('parseCertificate enforces RFC 5280 section 4.2 on extensions', () => {
  const ext = (list: (existing: readonly Uint8Array[]) => readonly Uint8Array[]) =>
    parse(edited({ extensions: list }));

  it('rejects an unknown critical extension', () => {
    assert.equal(
      ext((list) => [...list, extension('1.2.3.4', hex('0500'), true)]),
      'CERT_EXTENSION_UNKNOWN_CRITICAL',
    );
  });

  it('rejects a critical extension it knows but does not process (name constraints)', () => {
    const nameConstraints = seq(tlv(0xa0, seq(tlv(0x82, Buffer.from('example.com')))));
    assert.equal(
      ext((list) => [...list, extension('2.5.29.30', nameConstraints, true)]),
      'CERT_EXTENSION_UNKNOWN_CRITICAL',
    );
  });

  it('rejects the same extension twice, even with different values', () => {
    const second = extension(ATTESTATION_POLICY_OIDS.trusted, hex('0500'));
    assert.equal(
      ext((list) => [...list, list[0] as Uint8Array]),
      'CERT_EXTENSION_INVALID',
    );
    assert.equal(
      ext((list) => [...list, second, second]),
      'CERT_EXTENSION_INVALID',
    );
    const policies = extension('2.5.29.32', seq(seq(oid(ATTESTATION_POLICY_OIDS['update-only']))));
    assert.equal(
      ext((list) => [...list, policies]),
      'CERT_EXTENSION_INVALID',
    );
  });

  it('rejects an empty extensions list and an explicitly encoded critical FALSE', () => {
    assert.equal(
      ext(() => []),
      'CERT_EXTENSION_INVALID',
    );
    const explicitFalse = seq(oid('1.2.3.4'), bool(false), octets(hex('0500')));
    assert.equal(
      ext((list) => [...list, explicitFalse]),
      'CERT_EXTENSION_INVALID',
    );
  });

  it('rejects SKI, AKI and noRevAvail marked critical', () => {
    for (const [id, value] of [
      ['2.5.29.14', octets(hex('0102'))],
      ['2.5.29.35', seq(tlv(0x80, hex('0102')))],
      [NO_REV_AVAIL_OID, hex('0500')],
    ] as const) {
      assert.equal(ext(withExtension(id, extension(id, value, true))), 'CERT_EXTENSION_INVALID', id);
    }
  });

  it('accepts the extensions that may be critical when they are', () => {
    const group = extension(GROUP_ASSIGNMENT_EXTENSION_OID, splitValue(GROUP_ASSIGNMENT_EXTENSION_OID), true);
    const parsed = parseCertificate(
      edited({ extensions: withExtension(GROUP_ASSIGNMENT_EXTENSION_OID, group) }),
    );
    assert.equal(parsed.extensions.get(GROUP_ASSIGNMENT_EXTENSION_OID)?.critical, true);
  });

  it('rejects every recognised extension whose value cannot be decoded', () => {
    for (const id of [
      '2.5.29.19',
      '2.5.29.15',
      '2.5.29.37',
      '2.5.29.17',
      '2.5.29.14',
      '2.5.29.35',
      '2.5.29.32',
      NO_REV_AVAIL_OID,
      GROUP_ASSIGNMENT_EXTENSION_OID,
    ]) {
      assert.equal(ext(withExtension(id, extension(id, hex('1f00')))), 'CERT_EXTENSION_INVALID', id);
    }
  });

  it('rejects an extension whose structure is wrong', () => {
    assert.equal(
      ext((list) => [...list, seq(oid('1.2.3.4'), octets(hex('00')), hex('0500'))]),
      'CERT_MALFORMED',
    );
    assert.equal(
      ext((list) => [...list, seq(oid('1.2.3.4'), hex('0500'))]),
      'CERT_MALFORMED',
    );
  });
});

/** The extnValue contents of `id` in the fixture leaf. */
function splitValue(id: string): Uint8Array {
  const parsed = parseCertificate(leaf.der);
  return parsed.extensions.get(id)?.value ?? new Uint8Array(0);
}
