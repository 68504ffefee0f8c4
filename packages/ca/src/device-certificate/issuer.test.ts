import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSoftwareSigner, type Signer } from '@orbis/crypto';
import { cryptoRandom, readCertificate, SAMPLE_TENANT_ID, shortRandom } from '@orbis/testkit';
import { deviceRequest, fixtureCa } from '../fixtures.test-helpers.ts';
import type { IssuerScope } from './authorize.ts';
import { createDeviceCertificateIssuer, issueDeviceCertificate } from './issuer.ts';

const scope: IssuerScope = { kind: 'tenant', tenantId: SAMPLE_TENANT_ID };

/** A handle that claims `like`'s public key but signs however `sign` says. */
function impostor(like: Signer, sign: Signer['sign']): Signer {
  return { algorithm: 'ES256', publicKey: like.publicKey, sign };
}

describe('creating a device-certificate issuer', () => {
  it('refuses a signer whose key is not the CA certificate key', async () => {
    const { caCertificate } = await fixtureCa();
    const { signer: other } = generateSoftwareSigner();
    assert.throws(
      () => createDeviceCertificateIssuer({ caCertificate, signer: other, random: cryptoRandom, scope }),
      {
        code: 'CA_SIGNER_MISMATCH',
      },
    );
    await assert.rejects(
      issueDeviceCertificate({
        caCertificate,
        signer: other,
        random: cryptoRandom,
        scope,
        request: deviceRequest(),
      }),
      { code: 'CA_SIGNER_MISMATCH' },
    );
  });

  it('refuses a CA certificate object it did not make or read itself', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const lookalike = { ...caCertificate, subjectName: Uint8Array.of(0x30, 0) };
    assert.throws(
      () => createDeviceCertificateIssuer({ caCertificate: lookalike, signer, random: cryptoRandom, scope }),
      {
        code: 'CA_ISSUER_INVALID',
      },
    );
  });

  it('refuses a scope that is neither a tenant nor the update CA, and a malformed tenant ID', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const make = (badScope: unknown) => () =>
      createDeviceCertificateIssuer({
        caCertificate,
        signer,
        random: cryptoRandom,
        scope: badScope as IssuerScope,
      });
    assert.throws(make({ kind: 'platform' }), { code: 'CA_ISSUER_INVALID' });
    assert.throws(make({ kind: 'tenant', tenantId: SAMPLE_TENANT_ID.toUpperCase() }), {
      code: 'CA_ASSIGNMENT_INVALID',
    });
    assert.throws(make({ kind: 'tenant' }), { code: 'CA_ASSIGNMENT_INVALID' });
  });

  it('is not changed by later edits to the scope object it was given', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const mutable = { kind: 'tenant' as const, tenantId: SAMPLE_TENANT_ID };
    const issuer = createDeviceCertificateIssuer({
      caCertificate,
      signer,
      random: cryptoRandom,
      scope: mutable,
    });
    mutable.tenantId = 'e3a1c5b7-9d2f-4e6a-8b0c-1d3f5a7c9e2b';
    await assert.rejects(issuer.issue(deviceRequest({ tenantId: mutable.tenantId })), {
      code: 'CA_TENANT_MISMATCH',
    });
    assert.ok(Object.isFrozen(issuer.scope));
  });
});

describe('signing a device certificate', () => {
  it('reports a signer that fails instead of issuing nothing silently', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const broken = impostor(signer, () => Promise.reject(new Error('HSM offline')));
    const issuer = createDeviceCertificateIssuer({
      caCertificate,
      signer: broken,
      random: cryptoRandom,
      scope,
    });
    await assert.rejects(issuer.issue(deviceRequest()), { code: 'CA_SIGNER_FAILED' });
  });

  it('refuses to put a signature that is not strict DER into a certificate', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const p1363 = impostor(signer, (data) => signer.sign(data, 'p1363'));
    const issuer = createDeviceCertificateIssuer({
      caCertificate,
      signer: p1363,
      random: cryptoRandom,
      scope,
    });
    await assert.rejects(issuer.issue(deviceRequest()), { code: 'CA_SIGNER_FAILED' });
  });

  it('refuses a random source that returns too few bytes for a serial number', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const issuer = createDeviceCertificateIssuer({ caCertificate, signer, random: shortRandom, scope });
    await assert.rejects(issuer.issue(deviceRequest()), { code: 'CA_RANDOM_INVALID' });
  });

  it('issues the same profile in one shot as through a kept issuer', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const request = deviceRequest();
    const once = await issueDeviceCertificate({
      caCertificate,
      signer,
      random: cryptoRandom,
      scope,
      request,
    });
    const kept = await createDeviceCertificateIssuer({
      caCertificate,
      signer,
      random: cryptoRandom,
      scope,
    }).issue(request);
    const shape = (der: Uint8Array) => {
      const {
        serialNumber: _serial,
        signatureValue: _signature,
        tbs: _tbs,
        extensions,
        ...rest
      } = readCertificate(der);
      return {
        ...rest,
        extensions: extensions.map(({ oid, critical, value }) => ({ oid, critical, value })),
      };
    };
    assert.deepEqual(shape(once.der), shape(kept.der));
    assert.equal(once.resultClass, 'trusted');
  });
});
