import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { opensslVerifyCertificate, SAMPLE_OTHER_TENANT_ID } from '@orbis/testkit';
import { DAY_MS, deviceRequest, fixtureIssuer, NOW } from '../fixtures.test-helpers.ts';

describe('device certificates against tenant anchors (`openssl verify -x509_strict`)', () => {
  for (const resultClass of ['trusted', 'development'] as const) {
    it(`accepts a ${resultClass} certificate as a TLS client and server under its own tenant CA`, async () => {
      const { issuer, caCertificate } = await fixtureIssuer();
      const { der } = await issuer.issue(deviceRequest({ resultClass }));
      for (const purpose of ['sslclient', 'sslserver']) {
        const result = opensslVerifyCertificate({
          anchors: [caCertificate.der],
          leaf: der,
          purpose,
          at: NOW,
        });
        assert.equal(result.verified, true, `${purpose}: ${result.output}`);
      }
    });
  }

  it("refuses a tenant's device under another tenant's CA, though both are Orbis anchors", async () => {
    const ours = await fixtureIssuer();
    const theirs = await fixtureIssuer({ kind: 'tenant', tenantId: SAMPLE_OTHER_TENANT_ID });
    const { der } = await ours.issuer.issue(deviceRequest());
    const result = opensslVerifyCertificate({
      anchors: [theirs.caCertificate.der],
      leaf: der,
      purpose: 'sslclient',
      at: NOW,
    });
    assert.equal(result.verified, false);
    assert.match(result.output, /unable to get local issuer certificate/);
  });

  it("accepts a device under a download of its tenant's current and next anchors together", async () => {
    const current = await fixtureIssuer();
    const next = await fixtureIssuer();
    const { der } = await next.issuer.issue(deviceRequest());
    const anchors = [current.caCertificate.der, next.caCertificate.der];
    assert.equal(
      opensslVerifyCertificate({ anchors, leaf: der, purpose: 'sslclient', at: NOW }).verified,
      true,
    );
  });

  it('refuses an update-only certificate as a TLS server: it lacks serverAuth', async () => {
    const { issuer, caCertificate } = await fixtureIssuer({ kind: 'update' });
    const { der } = await issuer.issue(deviceRequest({ resultClass: 'update-only' }));
    const anchors = [caCertificate.der];
    assert.equal(
      opensslVerifyCertificate({ anchors, leaf: der, purpose: 'sslclient', at: NOW }).verified,
      true,
    );
    const asServer = opensslVerifyCertificate({ anchors, leaf: der, purpose: 'sslserver', at: NOW });
    assert.equal(asServer.verified, false);
    assert.match(asServer.output, /unsuitable certificate purpose/);
  });

  it('is refused before notBefore and after notAfter: a 24-hour certificate is short-lived', async () => {
    const { issuer, caCertificate } = await fixtureIssuer();
    const issued = await issuer.issue(deviceRequest());
    const anchors = [caCertificate.der];
    const at = (ms: number) =>
      opensslVerifyCertificate({ anchors, leaf: issued.der, purpose: 'sslclient', at: ms });
    assert.match(at(issued.notBefore - 1000).output, /certificate is not yet valid/);
    assert.equal(at(issued.notAfter - 1000).verified, true); // OpenSSL treats notAfter itself as expired
    assert.match(at(issued.notAfter + DAY_MS).output, /certificate has expired/);
  });

  it("is issued by its CA and verifies under the CA's key in Node's X509Certificate as well", async () => {
    const { issuer, caCertificate } = await fixtureIssuer();
    const leaf = new X509Certificate((await issuer.issue(deviceRequest())).der);
    const anchor = new X509Certificate(caCertificate.der);
    assert.equal(leaf.checkIssued(anchor), true);
    assert.equal(leaf.verify(anchor.publicKey), true);
    assert.equal(anchor.ca, true);
    assert.equal(leaf.ca, false);
  });
});
