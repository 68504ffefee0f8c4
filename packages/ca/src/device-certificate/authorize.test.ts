import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSoftwareSigner, type Signer } from '@orbis/crypto';
import { SAMPLE_OTHER_TENANT_ID, SAMPLE_TENANT_ID, cryptoRandom } from '@orbis/testkit';
import { DAY_MS, deviceRequest, fixtureCa, NOW } from '../fixtures.test-helpers.ts';
import type { DeviceCertificateRequest, IssuerScope } from './authorize.ts';
import { createDeviceCertificateIssuer } from './issuer.ts';
import { MAX_DEVICE_CERTIFICATE_VALIDITY_SECONDS } from './profile.ts';

/** A signer that counts its signatures, so tests can show a refusal signs nothing. */
function countingSigner(inner: Signer): Signer & { readonly count: () => number } {
  let signatures = 0;
  return {
    algorithm: inner.algorithm,
    publicKey: inner.publicKey,
    sign: (data, encoding) => {
      signatures += 1;
      return inner.sign(data, encoding);
    },
    count: () => signatures,
  };
}

async function refuses(
  changes: Partial<Record<keyof DeviceCertificateRequest, unknown>>,
  code: string,
  scope: IssuerScope = { kind: 'tenant', tenantId: SAMPLE_TENANT_ID },
): Promise<void> {
  const { caCertificate, signer } = await fixtureCa();
  const counting = countingSigner(signer);
  const issuer = createDeviceCertificateIssuer({
    caCertificate,
    signer: counting,
    random: cryptoRandom,
    scope,
  });
  const request = { ...deviceRequest(), ...changes } as DeviceCertificateRequest;
  await assert.rejects(issuer.issue(request), { code }, JSON.stringify(changes));
  assert.equal(counting.count(), 0, 'a refused request must not reach the CA key');
}

describe('authorizing a device certificate', () => {
  it('refuses device IDs that are not 64 lowercase hex characters, without signing', async () => {
    const id = 'ab'.repeat(32);
    for (const deviceId of [id.toUpperCase(), id.slice(1), `${id}0`, `${id.slice(1)}g`, 42, '']) {
      await refuses({ deviceId }, 'CA_DEVICE_ID_INVALID');
    }
  });

  it('refuses tenant, product and group IDs that are not lowercase UUIDs', async () => {
    const upper = SAMPLE_TENANT_ID.toUpperCase();
    for (const field of ['tenantId', 'productId', 'groupId'] as const) {
      for (const value of [upper, SAMPLE_TENANT_ID.replaceAll('-', ''), `${SAMPLE_TENANT_ID} `, '', null]) {
        await refuses({ [field]: value }, 'CA_ASSIGNMENT_INVALID');
      }
    }
  });

  it("refuses to certify another tenant's device under this tenant's CA", async () => {
    await refuses({ tenantId: SAMPLE_OTHER_TENANT_ID }, 'CA_TENANT_MISMATCH');
  });

  it('refuses an unknown result class', async () => {
    for (const resultClass of ['untrusted', 'outdated', 'TRUSTED', undefined]) {
      await refuses({ resultClass }, 'CA_RESULT_CLASS_INVALID');
    }
  });

  it('keeps update-only certificates to the update CA and trusted ones to tenant CAs', async () => {
    await refuses({ resultClass: 'update-only' }, 'CA_RESULT_CLASS_NOT_ALLOWED');
    await refuses({ resultClass: 'trusted' }, 'CA_RESULT_CLASS_NOT_ALLOWED', { kind: 'update' });
    await refuses({ resultClass: 'development' }, 'CA_RESULT_CLASS_NOT_ALLOWED', { kind: 'update' });
  });

  it("refuses to put the device's identity key into a certificate", async () => {
    const identity = generateSoftwareSigner().signer.publicKey;
    await refuses({ deviceId: identity.keyId, certificateKey: identity }, 'CA_CERTIFICATE_KEY_INVALID');
  });

  it('refuses a certificate key that is not a parsed public key', async () => {
    const spki = generateSoftwareSigner().signer.publicKey.spki;
    const forged = { kind: 'p256-public-key', spki: spki.subarray(1), keyId: 'x' };
    for (const certificateKey of [spki, forged, null, undefined]) {
      await refuses({ certificateKey }, 'CA_CERTIFICATE_KEY_INVALID');
    }
  });

  it('refuses validity periods that end before they start or are not integer timestamps', async () => {
    for (const [notBefore, notAfter] of [
      [NOW, NOW],
      [NOW, NOW + 999], // the same second once floored
      [NOW, NOW - 1000],
      [NOW + 0.5, NOW + DAY_MS],
      [`${NOW}`, NOW + DAY_MS],
      [NOW, Number.NaN],
    ]) {
      await refuses({ notBefore, notAfter }, 'CA_VALIDITY_INVALID');
    }
  });

  it('refuses a device certificate living longer than 24 hours plus the 5-minute backdate', async () => {
    const longest = MAX_DEVICE_CERTIFICATE_VALIDITY_SECONDS * 1000;
    await refuses({ notBefore: NOW, notAfter: NOW + longest + 1000 }, 'CA_VALIDITY_INVALID');
    await refuses({ notBefore: NOW - 365 * DAY_MS, notAfter: NOW + 365 * DAY_MS }, 'CA_VALIDITY_INVALID');
  });

  it('refuses a certificate that would end after its CA expires, or before the CA begins', async () => {
    const { caCertificate } = await fixtureCa();
    const { notAfter: caEnd, notBefore: caStart } = caCertificate;
    await refuses({ notBefore: caEnd - DAY_MS / 2, notAfter: caEnd + DAY_MS / 2 }, 'CA_VALIDITY_INVALID');
    await refuses({ notBefore: caStart - DAY_MS, notAfter: caStart - DAY_MS / 2 }, 'CA_VALIDITY_INVALID');
  });

  it('issues at the edges the checks allow: the longest validity, ending exactly when the CA ends', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const scope = { kind: 'tenant', tenantId: SAMPLE_TENANT_ID } as const;
    const issuer = createDeviceCertificateIssuer({ caCertificate, signer, random: cryptoRandom, scope });
    const longest = MAX_DEVICE_CERTIFICATE_VALIDITY_SECONDS * 1000;
    const end = caCertificate.notAfter;
    const issued = await issuer.issue(deviceRequest({ notBefore: end - longest, notAfter: end }));
    assert.deepEqual([issued.notBefore, issued.notAfter], [end - longest, end]);
  });

  it('floors millisecond timestamps to the seconds X.509 can hold, and says so in the result', async () => {
    const { caCertificate, signer } = await fixtureCa();
    const scope = { kind: 'tenant', tenantId: SAMPLE_TENANT_ID } as const;
    const issuer = createDeviceCertificateIssuer({ caCertificate, signer, random: cryptoRandom, scope });
    const issued = await issuer.issue(deviceRequest({ notBefore: NOW + 999, notAfter: NOW + DAY_MS + 1 }));
    assert.deepEqual([issued.notBefore, issued.notAfter], [NOW, NOW + DAY_MS]);
  });
});
