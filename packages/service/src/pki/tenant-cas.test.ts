import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { TENANT_CA_LIFETIME_DAYS } from '@orbis/protocol';
import { readCertificate } from '@orbis/testkit';
import { verifyDeviceCertificateChain } from '@orbis/verify';
import type { AttestationPki } from '../attestation/attestation.service.ts';
import { withTransaction } from '../db/backend.ts';
import type { DeviceAnchors } from '../device/device-identity.ts';
import { forEachBackend } from '../db/test-databases.ts';
import { insertTenant } from '../tenants/tenants.repo.ts';
import type { PublishedAnchor } from './anchors.ts';
import { deviceAnchorsOf } from './service-pki.ts';
import {
  createTenantRow,
  DAY,
  issueAt,
  keyStoreAt,
  openPki,
  opensslText,
  opensslVerify,
} from './pki.test-helpers.ts';

/** Tenant CAs on a fixed clock, 2026-11-22T12:00Z: creation, isolation, rotation, restart. */
const T0 = Date.UTC(2026, 10, 22, 12);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function verifyWith(anchors: readonly PublishedAnchor[], der: Uint8Array, now: number) {
  return verifyDeviceCertificateChain([der], {
    anchorsForTenant: () => anchors.map((anchor) => anchor.parsed),
    now,
    allowedClasses: ['trusted', 'development'],
  });
}

forEachBackend('service PKI: tenant CAs', (context) => {
  const keys = keyStoreAt();

  it('creates a tenant CA in the tenant-creation transaction: a self-signed P-256 anchor, pathLen 0, two years', async () => {
    const pki = await openPki(context.db, keys);
    const tenantId = randomUUID();
    const id = await withTransaction(context.db, async (trx) => {
      await insertTenant(trx, { id: tenantId, name: 'A', createdAt: T0 });
      return pki.createTenantCa(trx, tenantId, T0);
    });
    assert.equal(id, `tenant-ca.${tenantId}.1`);
    const [anchor] = await pki.tenantAnchors(tenantId, T0);
    assert.ok(anchor !== undefined);
    assert.equal(anchor.keyRef, id);
    assert.equal(anchor.signsFrom, T0);
    assert.equal((anchor.notAfter - anchor.notBefore) / DAY, TENANT_CA_LIFETIME_DAYS);
    const text = opensslText(anchor.pem);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/);
    assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign\n/);
    assert.match(text, /X509v3 Subject Key Identifier: \n/);
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.match(text, /Subject: O ?= ?Orbis, CN ?= ?Orbis CA [0-9a-f]{16}\n/);
    assert.doesNotMatch(text, new RegExp(tenantId));
    assert.equal(
      opensslVerify({ trusted: [anchor.der], leaf: anchor.der, purpose: 'any', at: T0 }).verified,
      true,
    );
    assert.equal(hex(anchor.parsed.subjectKeyIdentifier!), anchor.keyId);
    // Its creation is in the tenant's own audit chain, and its key is in the KeyStore.
    const events = await context.db
      .selectFrom('audit_log')
      .select(['action', 'target'])
      .where('tenant_id', '=', tenantId)
      .execute();
    assert.deepEqual(
      events.map((event) => ({ ...event })),
      [{ action: 'tenant-ca.create', target: `ca:${id}` }],
    );
    assert.equal(await (await keys.open()).has(id), true);
  });

  it('leaves no CA behind when the tenant creation rolls back', async () => {
    const pki = await openPki(context.db, keys);
    const tenantId = randomUUID();
    await assert.rejects(
      withTransaction(context.db, async (trx) => {
        await insertTenant(trx, { id: tenantId, name: 'gone', createdAt: T0 });
        await pki.createTenantCa(trx, tenantId, T0);
        throw new Error('the tenant creation fails after its CA was made');
      }),
    );
    assert.deepEqual(await pki.tenantAnchors(tenantId, T0), []);
    await assert.rejects(pki.tenantIssuer(tenantId, T0), { code: 'PKI_TENANT_CA_MISSING' });
  });

  it("issues device certificates that openssl and packages/verify accept under the tenant's anchors", async () => {
    const pki = await openPki(context.db, keys);
    const tenantId = await createTenantRow(context.db, T0);
    await pki.createTenantCa(context.db, tenantId, T0);
    const issued = await issueAt(await pki.tenantIssuer(tenantId, T0), tenantId, T0);
    const anchors = await pki.tenantAnchors(tenantId, T0);
    const result = opensslVerify({
      trusted: anchors.map((a) => a.pem),
      leaf: issued.der,
      purpose: 'sslclient',
      at: T0,
    });
    assert.equal(result.verified, true, result.output);
    assert.equal(verifyWith(anchors, issued.der, T0).tenantId, tenantId);
    assert.equal(hex(readCertificate(issued.der).issuer), hex(anchors[0]!.certificate.subjectName));
  });

  it("a relying party trusting tenant A's anchors refuses a tenant-B device certificate", async () => {
    const pki = await openPki(context.db, keys);
    const [a, b] = [await createTenantRow(context.db, T0), await createTenantRow(context.db, T0)];
    await pki.createTenantCa(context.db, a, T0);
    await pki.createTenantCa(context.db, b, T0);
    const anchorsOfA = await pki.tenantAnchors(a, T0);
    const deviceOfB = await issueAt(await pki.tenantIssuer(b, T0), b, T0);
    const refused = opensslVerify({
      trusted: anchorsOfA.map((x) => x.pem),
      leaf: deviceOfB.der,
      purpose: 'sslclient',
      at: T0,
    });
    assert.equal(refused.verified, false);
    assert.match(refused.output, /unable to get local issuer certificate/);
    assert.throws(() => verifyWith(anchorsOfA, deviceOfB.der, T0), { code: 'CERT_UNKNOWN_ISSUER' });
    // And B's issuer will not certify a device of A.
    await assert.rejects(issueAt(await pki.tenantIssuer(b, T0), a, T0), { code: 'CA_TENANT_MISMATCH' });
  });

  it('rotates: publishes the next anchor 90 days before expiry, which signs from 45 days before, alone after expiry', async () => {
    const pki = await openPki(context.db, keys);
    const tenantId = await createTenantRow(context.db, T0);
    await pki.createTenantCa(context.db, tenantId, T0);
    const [first] = await pki.tenantAnchors(tenantId, T0);
    const expiry = first!.notAfter;

    // Other tenants of this suite rotate too; only this tenant's anchors are looked at.
    const mine = async (now: number) => {
      const rotation = await pki.rotateTenantCas(now);
      assert.deepEqual(rotation.failed, []);
      return rotation.created.filter((id) => id.startsWith(`tenant-ca.${tenantId}.`));
    };
    assert.deepEqual(await mine(expiry - 91 * DAY), []);
    assert.deepEqual(await mine(expiry - 89 * DAY), [`tenant-ca.${tenantId}.2`]);
    assert.deepEqual(await mine(expiry - 89 * DAY), []);

    // −89 days: both published, current first; the old one still signs.
    const during = await pki.tenantAnchors(tenantId, expiry - 89 * DAY);
    assert.deepEqual(
      during.map((anchor) => anchor.id),
      [first!.id, `tenant-ca.${tenantId}.2`],
    );
    const next = during[1]!;
    assert.equal(next.signsFrom, expiry - 45 * DAY);
    const early = await issueAt(
      await pki.tenantIssuer(tenantId, expiry - 89 * DAY),
      tenantId,
      expiry - 89 * DAY,
    );
    assert.equal(hex(readCertificate(early.der).issuer), hex(first!.certificate.subjectName));
    const bundle = during.map((anchor) => anchor.pem);
    const at89 = opensslVerify({
      trusted: bundle,
      leaf: early.der,
      purpose: 'sslclient',
      at: expiry - 89 * DAY,
    });
    assert.equal(at89.verified, true, at89.output);
    assert.equal(
      (await pki.tenantIssuer(tenantId, expiry - 46 * DAY)).caCertificate.serialNumber,
      first!.certificate.serialNumber,
    );

    // −44 days: the new anchor signs, and a relying party holding the same bundle since −89 accepts it.
    const issuer = await pki.tenantIssuer(tenantId, expiry - 44 * DAY);
    assert.equal(issuer.caCertificate.serialNumber, next.certificate.serialNumber);
    const late = await issueAt(issuer, tenantId, expiry - 44 * DAY);
    const at44 = opensslVerify({
      trusted: bundle,
      leaf: late.der,
      purpose: 'sslclient',
      at: expiry - 44 * DAY,
    });
    assert.equal(at44.verified, true, at44.output);
    assert.equal(verifyWith(during, late.der, expiry - 44 * DAY).tenantId, tenantId);

    // After the old anchor expires only the new one is published.
    const after = await pki.tenantAnchors(tenantId, expiry + 1000);
    assert.deepEqual(
      after.map((anchor) => anchor.id),
      [next.id],
    );
    assert.equal(
      (await pki.tenantIssuer(tenantId, expiry + 1000)).caCertificate.serialNumber,
      next.certificate.serialNumber,
    );
    const audit = await context.db
      .selectFrom('audit_log')
      .select('action')
      .where('tenant_id', '=', tenantId)
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      audit.map((event) => event.action),
      ['tenant-ca.create', 'tenant-ca.rotate'],
    );
  });

  it('reads the same anchors and signs with the same CA after a restart', async () => {
    const tenantId = await createTenantRow(context.db, T0);
    await (await openPki(context.db, keys)).createTenantCa(context.db, tenantId, T0);
    const before = await (await openPki(context.db, keys)).tenantAnchors(tenantId, T0);
    const restarted = await openPki(context.db, keys);
    const after = await restarted.tenantAnchors(tenantId, T0);
    assert.deepEqual(
      after.map((anchor) => anchor.pem),
      before.map((anchor) => anchor.pem),
    );
    const issued = await issueAt(await restarted.tenantIssuer(tenantId, T0), tenantId, T0);
    assert.equal(verifyWith(before, issued.der, T0).tenantId, tenantId);
    assert.deepEqual(
      await restarted.tenantAnchorPems(tenantId, T0),
      before.map((anchor) => anchor.pem),
    );
  });

  it('gives a tenant created without a CA its first one at the next rotation pass, once', async () => {
    const pki = await openPki(context.db, keys);
    const tenantId = await createTenantRow(context.db, T0);
    const [one, two] = await Promise.all([pki.rotateTenantCas(T0), pki.rotateTenantCas(T0)]);
    assert.ok(one.created.includes(`tenant-ca.${tenantId}.1`));
    assert.equal(two.created.includes(`tenant-ca.${tenantId}.1`), false);
    // A second replica (its own cache) sees it at once.
    assert.equal((await (await openPki(context.db, keys)).tenantAnchors(tenantId, T0)).length, 1);
  });

  it("serves as attestation's PKI and as the device listener's anchors", async () => {
    const pki = await openPki(context.db, keys);
    const tenantId = await createTenantRow(context.db, T0);
    await pki.createTenantCa(context.db, tenantId, T0);
    const attestation: AttestationPki = pki;
    const listener: DeviceAnchors = deviceAnchorsOf(pki);
    const issued = await issueAt(await attestation.tenantIssuer(tenantId, T0), tenantId, T0);
    const anchors = await listener.tenantAnchors(tenantId, T0);
    assert.equal(
      verifyDeviceCertificateChain([issued.der], {
        anchorsForTenant: () => anchors,
        now: T0,
        allowedClasses: ['trusted'],
      }).tenantId,
      tenantId,
    );
    assert.deepEqual(await listener.tenantAnchors(randomUUID(), T0), []);
    assert.deepEqual(
      await attestation.tenantAnchorPems(tenantId, T0),
      (await pki.tenantAnchors(tenantId, T0)).map((a) => a.pem),
    );
  });

  it('refuses to sign with a tenant CA whose key left the KeyStore (PKI_CA_KEY_MISSING)', async () => {
    const tenantId = await createTenantRow(context.db, T0);
    const id = await (await openPki(context.db, keys)).createTenantCa(context.db, tenantId, T0);
    await (await keys.open()).removeKey(id!);
    const pki = await openPki(context.db, keys);
    await assert.rejects(pki.tenantIssuer(tenantId, T0), { code: 'PKI_CA_KEY_MISSING' });
    assert.equal((await pki.tenantAnchors(tenantId, T0)).length, 1);
  });
});
