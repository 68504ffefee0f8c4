import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTESTATION_POLICY_OIDS, deviceUri, GROUP_ASSIGNMENT_EXTENSION_OID } from '@orbis/protocol';
import { opensslCertificateText, SAMPLE_GROUP_ID, SAMPLE_PRODUCT_ID, SAMPLE_TENANT_ID } from '@orbis/testkit';
import { deviceRequest, fixtureIssuer } from '../fixtures.test-helpers.ts';

/** OpenSSL prints key identifiers as upper-case hex pairs joined by colons. */
const colonHex = (bytes: Uint8Array) =>
  Buffer.from(bytes).toString('hex').toUpperCase().match(/../g)?.join(':') ?? '';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a device certificate as `openssl x509 -text` reads it', () => {
  it('shows every field of the trusted profile', async () => {
    const { issuer, caCertificate } = await fixtureIssuer();
    const request = deviceRequest();
    const issued = await issuer.issue(request);
    const text = opensslCertificateText(issued.der);
    const caText = opensslCertificateText(caCertificate.der);
    const caName = /Subject: (.*)\n/.exec(caText)?.[1] ?? 'missing';

    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(
      text,
      new RegExp(`Serial Number:\\s+${escape(issued.serialNumber.match(/../g)?.join(':') ?? '')}\\n`),
    );
    assert.equal(text.match(/Signature Algorithm: ecdsa-with-SHA256/g)?.length, 2);
    assert.match(text, new RegExp(`Issuer: ${escape(caName)}\\n`));
    assert.match(text, /Not Before: Nov 22 11:55:00 2026 GMT/);
    assert.match(text, /Not After : Nov 23 12:00:00 2026 GMT/);
    assert.match(text, new RegExp(`Subject: CN = ${request.deviceId}\\n`));
    assert.match(text, /Public Key Algorithm: id-ecPublicKey[\s\S]*ASN1 OID: prime256v1/);
    assert.match(
      text,
      new RegExp(
        `X509v3 Subject Alternative Name: \\n\\s+URI:${escape(deviceUri(SAMPLE_TENANT_ID, request.deviceId))}\\n`,
      ),
    );
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    assert.match(
      text,
      /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication, TLS Web Server Authentication\n/,
    );
    assert.match(
      text,
      new RegExp(
        `X509v3 Authority Key Identifier: \\n\\s+(keyid:)?${colonHex(caCertificate.subjectKeyIdentifier)}\\n`,
      ),
    );
    assert.match(text, /X509v3 No Revocation Available: \n/);
    assert.match(
      text,
      new RegExp(`X509v3 Certificate Policies: \\n\\s+Policy: ${escape(ATTESTATION_POLICY_OIDS.trusted)}\\n`),
    );
    assert.match(text, new RegExp(`${escape(GROUP_ASSIGNMENT_EXTENSION_OID)}: \\n`));
    for (const id of [SAMPLE_TENANT_ID, SAMPLE_PRODUCT_ID, SAMPLE_GROUP_ID]) assert.ok(text.includes(id), id);
  });

  it('shows exactly seven extensions, one of them critical, and no revocation pointers', async () => {
    const { issuer } = await fixtureIssuer();
    const text = opensslCertificateText((await issuer.issue(deviceRequest())).der);
    const extensions = text.slice(
      text.indexOf('X509v3 extensions:'),
      text.indexOf('Signature Algorithm', text.indexOf('X509v3 extensions:')),
    );
    assert.equal(extensions.match(/^ {12}\S.*:/gm)?.length, 7, extensions);
    assert.equal(extensions.match(/critical/g)?.length, 1);
    assert.doesNotMatch(
      text,
      /CRL Distribution Points|Authority Information Access|OCSP|Subject Key Identifier|Basic Constraints/,
    );
  });

  it('names the development policy for a development device', async () => {
    const { issuer } = await fixtureIssuer();
    const text = opensslCertificateText(
      (await issuer.issue(deviceRequest({ resultClass: 'development' }))).der,
    );
    assert.match(text, new RegExp(`Policy: ${escape(ATTESTATION_POLICY_OIDS.development)}\\n`));
    assert.match(text, /TLS Web Client Authentication, TLS Web Server Authentication/);
  });

  it('gives an update-only certificate clientAuth alone and the update-only policy', async () => {
    const { issuer } = await fixtureIssuer({ kind: 'update' });
    const text = opensslCertificateText(
      (await issuer.issue(deviceRequest({ resultClass: 'update-only' }))).der,
    );
    assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    assert.doesNotMatch(text, /TLS Web Server Authentication/);
    assert.match(text, new RegExp(`Policy: ${escape(ATTESTATION_POLICY_OIDS['update-only'])}\\n`));
  });
});
