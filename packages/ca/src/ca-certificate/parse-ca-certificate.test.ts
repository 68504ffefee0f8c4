import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSoftwareSigner, type Signer } from '@orbis/crypto';
import { opensslSelfSigned } from '@orbis/testkit';
import {
  bitString,
  boolean,
  explicit,
  integer,
  nullValue,
  octetString,
  sequence,
  smallInteger,
  x509Time,
  type Der,
} from '../der/index.ts';
import { extension } from '../x509/extension.ts';
import { encodeName } from '../x509/name.ts';
import { OID } from '../x509/oids.ts';
import {
  craftCertificate,
  SHA384_ALGORITHM,
  standardExtensions,
  type CraftedFields,
} from './craft.test-helpers.ts';
import { deviceRequest, fixtureCa, fixtureIssuer } from '../fixtures.test-helpers.ts';
import { isCaCertificate } from './ca-certificate.ts';
import { MAX_CA_CERTIFICATE_BYTES, parseCaCertificate } from './parse-ca-certificate.ts';

const refuses = { code: 'CA_CERTIFICATE_INVALID' };
const P256 = ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const CA_EXTENSIONS = [
  'basicConstraints = critical, CA:TRUE, pathlen:0',
  'keyUsage = critical, keyCertSign',
  'subjectKeyIdentifier = hash',
];

function outsideCa(extensions: readonly string[], newKey = P256, digest = '-sha256'): Uint8Array {
  return opensslSelfSigned({ newKey, digest, extensions: extensions.join('\n') });
}

/** A copy of `der` with the first occurrence of `from` (hex) replaced by `to`. */
function patched(der: Uint8Array, from: string, to: string): Uint8Array {
  const hex = Buffer.from(der).toString('hex');
  assert.ok(hex.includes(from), `no ${from} in the certificate`);
  return Uint8Array.from(Buffer.from(hex.replace(from, to), 'hex'));
}

describe('parseCaCertificate', () => {
  it('reads back a P-256 CA certificate that openssl wrote, with its name, key identifier and validity', () => {
    const parsed = parseCaCertificate(outsideCa(CA_EXTENSIONS));
    assert.equal(isCaCertificate(parsed), true);
    assert.equal(parsed.pathLength, 0);
    assert.equal(parsed.subjectKeyIdentifier.byteLength, 20);
    assert.ok(parsed.notAfter > parsed.notBefore);
    assert.equal(
      parseCaCertificate(outsideCa(CA_EXTENSIONS.with(0, 'basicConstraints = critical, CA:TRUE'))).pathLength,
      null,
    );
  });

  it('refuses a CA whose basicConstraints is not critical, or which is not a CA', () => {
    assert.throws(
      () => parseCaCertificate(outsideCa(CA_EXTENSIONS.with(0, 'basicConstraints = CA:TRUE'))),
      refuses,
    );
    assert.throws(
      () => parseCaCertificate(outsideCa(CA_EXTENSIONS.with(0, 'basicConstraints = critical, CA:FALSE'))),
      refuses,
    );
    assert.throws(() => parseCaCertificate(outsideCa(CA_EXTENSIONS.slice(1))), refuses);
  });

  it('refuses a CA that may not sign certificates, or whose keyUsage is not critical', () => {
    assert.throws(
      () => parseCaCertificate(outsideCa(CA_EXTENSIONS.with(1, 'keyUsage = critical, digitalSignature'))),
      refuses,
    );
    assert.throws(
      () => parseCaCertificate(outsideCa(CA_EXTENSIONS.with(1, 'keyUsage = keyCertSign'))),
      refuses,
    );
  });

  it('refuses a CA without a subjectKeyIdentifier, which device certificates must name', () => {
    const withoutSki = CA_EXTENSIONS.with(2, 'subjectKeyIdentifier = none');
    assert.throws(() => parseCaCertificate(outsideCa(withoutSki)), refuses);
  });

  it('refuses an unknown critical extension (RFC 5280 4.2) and ignores an unknown non-critical one', () => {
    const policy = 'certificatePolicies = 1.2.3.4';
    assert.throws(
      () => parseCaCertificate(outsideCa([...CA_EXTENSIONS, policy.replace('= ', '= critical, ')])),
      refuses,
    );
    assert.equal(isCaCertificate(parseCaCertificate(outsideCa([...CA_EXTENSIONS, policy]))), true);
  });

  it('refuses keys and signatures other than P-256 with SHA-256', () => {
    const p384 = ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384'];
    assert.throws(() => parseCaCertificate(outsideCa(CA_EXTENSIONS, p384, '-sha256')), refuses); // the key
    assert.throws(() => parseCaCertificate(outsideCa(CA_EXTENSIONS, P256, '-sha384')), refuses);
    assert.throws(() => parseCaCertificate(outsideCa(CA_EXTENSIONS, ['ed25519'], '-sha256')), refuses);
  });

  it('refuses a stored CA certificate whose bytes were altered, extended or cut', async () => {
    const { caCertificate } = await fixtureCa();
    const der = caCertificate.der;
    const flipped = Uint8Array.from(der);
    flipped[der.byteLength - 5] = (flipped[der.byteLength - 5] as number) ^ 1; // inside the signature
    assert.throws(() => parseCaCertificate(flipped), refuses);
    assert.throws(() => parseCaCertificate(Uint8Array.of(...der, 0)), refuses);
    assert.throws(() => parseCaCertificate(der.subarray(0, der.byteLength - 1)), refuses);
    assert.throws(() => parseCaCertificate(new Uint8Array(MAX_CA_CERTIFICATE_BYTES + 1)), refuses);
  });

  it('refuses a certificate whose cA flag was cleared, even before its signature is checked', async () => {
    const { caCertificate } = await fixtureCa();
    // basicConstraints extnValue: OCTET STRING { SEQUENCE { BOOLEAN TRUE, INTEGER 0 } }
    assert.throws(
      () => parseCaCertificate(patched(caCertificate.der, '04083006' + '0101ff', '04083006' + '010100')),
      refuses,
    );
  });

  it('refuses a device certificate offered as a CA: not self-issued, not a CA', async () => {
    const { issuer } = await fixtureIssuer();
    const { der } = await issuer.issue(deviceRequest());
    assert.throws(() => parseCaCertificate(der), refuses);
  });

  it('refuses a certificate with the version, serial or algorithm fields out of profile', async () => {
    const { caCertificate } = await fixtureCa();
    const der = caCertificate.der;
    assert.throws(() => parseCaCertificate(patched(der, 'a003020102', 'a003020101')), refuses); // v2
    assert.throws(() => parseCaCertificate(patched(der, '0210', '0290')), refuses); // serial tag changed
    // The inner AlgorithmIdentifier changed to ecdsa-with-SHA384 (…04 03 03).
    assert.throws(() => parseCaCertificate(patched(der, '2a8648ce3d040302', '2a8648ce3d040303')), refuses);
  });
});

describe('parseCaCertificate, one field out of profile at a time (correctly signed)', () => {
  const bc = (...fields: Der[]) => extension(OID.basicConstraints, true, sequence(...fields));
  const ski = (bytes: Uint8Array, critical = false) =>
    extension(OID.subjectKeyIdentifier, critical, octetString(bytes));

  it('accepts the crafted baseline, so each refusal below is down to its one change', async () => {
    const { signer } = generateSoftwareSigner();
    const parsed = parseCaCertificate(
      await craftCertificate({ serial: integer(new Uint8Array(20).fill(0x11)) }, signer),
    );
    assert.equal(parsed.serialNumber, '11'.repeat(20));
    assert.equal(parsed.publicKey.keyId, signer.publicKey.keyId);
  });

  it('refuses a zero serial number and one longer than 20 octets (RFC 5280 4.1.2.2)', async () => {
    await refusesCrafted({ serial: integer(Uint8Array.of(0)) });
    await refusesCrafted({ serial: integer(new Uint8Array(21).fill(0x11)) });
  });

  it('refuses an outer signature algorithm that differs from the signed one, and padded signature bits', async () => {
    await refusesCrafted({ outerAlgorithm: SHA384_ALGORITHM });
    await refusesCrafted({ unusedBits: 1 });
  });

  it('refuses a certificate that is not self-issued, or whose subject is empty', async () => {
    await refusesCrafted({ issuer: encodeName([[OID.commonName, 'Someone else']]) });
    await refusesCrafted({ issuer: sequence(), subject: sequence() });
  });

  it('refuses validity that ends before it starts or has a third time', async () => {
    const time = x509Time(Date.UTC(2026, 0, 1));
    await refusesCrafted({ validity: sequence(time, time) });
    await refusesCrafted({ validity: sequence(time, x509Time(Date.UTC(2027, 0, 1)), time) });
  });

  it('refuses fields after the extensions (unique identifiers, which CAs must not write)', async () => {
    await refusesCrafted({ trailing: [explicit(4, nullValue())] });
  });

  it('refuses an extension list that is empty, repeats an extension, or writes critical FALSE', async () => {
    const { signer } = generateSoftwareSigner();
    const [basic, usage, identifier] = standardExtensions(signer) as [Der, Der, Der];
    await refusesCrafted({ extensions: [] }, signer);
    await refusesCrafted({ extensions: [basic, usage, identifier, identifier] }, signer);
    const explicitFalse = sequence(
      OID.subjectKeyIdentifier,
      boolean(false),
      octetString(octetString(Uint8Array.of(1))),
    );
    await refusesCrafted({ extensions: [basic, usage, explicitFalse] }, signer);
    const extraField = sequence(
      OID.subjectKeyIdentifier,
      boolean(true),
      octetString(Uint8Array.of(4, 0)),
      nullValue(),
    );
    await refusesCrafted({ extensions: [basic, usage, identifier, extraField] }, signer);
  });

  it('refuses basicConstraints with extra fields or a path length beyond 255', async () => {
    const { signer } = generateSoftwareSigner();
    const [, usage, identifier] = standardExtensions(signer) as [Der, Der, Der];
    await refusesCrafted(
      { extensions: [bc(boolean(true), smallInteger(0), nullValue()), usage, identifier] },
      signer,
    );
    await refusesCrafted({ extensions: [bc(boolean(true), smallInteger(256)), usage, identifier] }, signer);
    const unlimited = await craftCertificate({ extensions: [bc(boolean(true)), usage, identifier] }, signer);
    assert.equal(parseCaCertificate(unlimited).pathLength, null);
  });

  it('refuses a keyUsage that names no usage at all', async () => {
    const { signer } = generateSoftwareSigner();
    const [basic, , identifier] = standardExtensions(signer) as [Der, Der, Der];
    const noUsage = extension(OID.keyUsage, true, bitString(new Uint8Array(0)));
    await refusesCrafted({ extensions: [basic, noUsage, identifier] }, signer);
  });

  it('refuses a subjectKeyIdentifier that is critical, empty or longer than 64 bytes', async () => {
    const { signer } = generateSoftwareSigner();
    const [basic, usage] = standardExtensions(signer) as [Der, Der, Der];
    await refusesCrafted({ extensions: [basic, usage, ski(new Uint8Array(20), true)] }, signer);
    await refusesCrafted({ extensions: [basic, usage, ski(new Uint8Array(0))] }, signer);
    await refusesCrafted({ extensions: [basic, usage, ski(new Uint8Array(65))] }, signer);
    const longest = await craftCertificate(
      { extensions: [basic, usage, ski(new Uint8Array(64).fill(7))] },
      signer,
    );
    assert.equal(parseCaCertificate(longest).subjectKeyIdentifier.byteLength, 64);
  });
});

async function refusesCrafted(changes: Partial<CraftedFields>, signer?: Signer): Promise<void> {
  const der = await craftCertificate(changes, signer);
  assert.throws(() => parseCaCertificate(der), refuses);
}
