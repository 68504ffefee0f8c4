import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseCertificate, verifyDeviceCertificateChain } from '@orbis/verify';
import { forEachBackend } from '../db/test-databases.ts';
import { listSeries } from './ca-certificates.repo.ts';
import { INTERMEDIATE_LIFETIME_DAYS } from './platform-pki.ts';
import {
  createTenantRow,
  DAY,
  handshake,
  issueAt,
  keyStoreAt,
  openPki,
  opensslText,
  opensslVerify,
  pemCertificates,
} from './pki.test-helpers.ts';

/**
 * The platform PKI over one database and one KeyStore directory, in order: first start,
 * restart, renewal, and the root taken offline. The handshakes use the real clock; renewals
 * and expiry use later times passed in.
 */
forEachBackend('service PKI: platform root, intermediate, service TLS, update CA', (context) => {
  const keys = keyStoreAt();
  const start = Date.now();
  let rootPem = '';
  let chainPem = '';

  it('creates the root, the intermediate, the TLS certificate and the update CA, one row and one key each', async () => {
    const pki = await openPki(context.db, keys);
    const status = await pki.ensureInfrastructure(start);
    assert.deepEqual(status.created, [
      'platform-root-ca.1',
      'service-tls-issuer.1',
      'service-tls.1',
      'update-ca.1',
    ]);
    assert.equal(status.rootNeeded, false);
    assert.equal(status.tlsChanged, true);
    const rows = await context.db
      .selectFrom('ca_certificates')
      .select(['id', 'kind', 'key_ref'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((row) => ({ ...row })),
      [
        { id: 'platform-root-ca.1', kind: 'platform', key_ref: 'platform-root-ca' },
        { id: 'service-tls-issuer.1', kind: 'platform', key_ref: 'service-tls-issuer' },
        { id: 'service-tls.1', kind: 'platform', key_ref: 'service-tls' },
        { id: 'update-ca.1', kind: 'update', key_ref: 'update-ca.1' },
      ],
    );
    const names = (await (await keys.open()).list()).map((entry) => entry.name);
    assert.deepEqual(names, ['platform-root-ca', 'service-tls', 'service-tls-issuer', 'update-ca.1']);
    const audit = await context.db
      .selectFrom('audit_log')
      .select('action')
      .where('tenant_id', '=', 'platform')
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      audit.map((event) => event.action),
      ['pki.root.create', 'pki.intermediate.create', 'pki.service-tls.issue', 'update-ca.create'],
    );
    rootPem = pki.platformRootPem();
    chainPem = pki.deviceListenerTls().cert;
  });

  it('writes certificates that openssl verifies strictly: root → intermediate → TLS server, and the update anchor', () => {
    const [leaf, intermediate] = pemCertificates(chainPem);
    assert.ok(leaf !== undefined && intermediate !== undefined);
    const check = { trusted: [rootPem], at: start };
    assert.equal(opensslVerify({ ...check, leaf: rootPem, purpose: 'any' }).verified, true);
    const viaIntermediate = opensslVerify({ ...check, leaf: intermediate, purpose: 'any' });
    assert.equal(viaIntermediate.verified, true, viaIntermediate.output);
    const server = opensslVerify({ ...check, untrusted: [intermediate], leaf, purpose: 'sslserver' });
    assert.equal(server.verified, true, server.output);
    // The leaf is a server certificate only, and the root alone does not reach it.
    assert.equal(
      opensslVerify({ ...check, untrusted: [intermediate], leaf, purpose: 'sslclient' }).verified,
      false,
    );
    assert.equal(opensslVerify({ ...check, leaf, purpose: 'sslserver' }).verified, false);

    assert.match(opensslText(rootPem), /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:1\n/);
    assert.match(opensslText(intermediate), /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/);
    assert.match(opensslText(intermediate), /X509v3 Authority Key Identifier: \n/);
    const leafText = opensslText(leaf);
    assert.match(leafText, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(leafText, /X509v3 Extended Key Usage: \s+TLS Web Server Authentication\n/);
    assert.match(leafText, /DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1\n/);
    // Root 20 years, intermediate 5, TLS 90 days.
    const days = (pem: string) => {
      const parsed = parseCertificate(Buffer.from(pem.replace(/-----[^-]+-----|\n/g, ''), 'base64'));
      return Math.round((parsed.notAfter - parsed.notBefore) / DAY);
    };
    assert.deepEqual([days(rootPem), days(intermediate), days(leaf)], [7300, INTERMEDIATE_LIFETIME_DAYS, 90]);
  });

  it("is served to Node's TLS client that pins only the platform root", async () => {
    const pki = await openPki(context.db, keys);
    await pki.ensureInfrastructure(start);
    assert.equal(await handshake(pki.deviceListenerTls(), rootPem, 'localhost'), undefined);
    const other = await handshake(pki.deviceListenerTls(), rootPem, 'elsewhere.example');
    assert.equal((other as NodeJS.ErrnoException | undefined)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('creates nothing on restart: the same root, chain and update anchor from the same database and KeyStore', async () => {
    const pki = await openPki(context.db, keys);
    assert.throws(() => pki.deviceListenerTls(), { code: 'PKI_NOT_READY' });
    const status = await pki.ensureInfrastructure(start + 60_000);
    assert.deepEqual(status.created, []);
    assert.equal(pki.platformRootPem(), rootPem);
    assert.equal(pki.deviceListenerTls().cert, chainPem);
    const again = await pki.ensureInfrastructure(start + 120_000);
    assert.equal(again.tlsChanged, false);
    assert.equal((await pki.updateAnchors(start)).length, 1);
  });

  it('issues update-only certificates from the update CA, which packages/verify and openssl accept for that class only', async () => {
    const pki = await openPki(context.db, keys);
    const tenantId = await createTenantRow(context.db, start);
    const issued = await issueAt(await pki.updateIssuer(start), tenantId, start, 'update-only');
    const anchors = await pki.updateAnchors(start);
    const verified = verifyDeviceCertificateChain([issued.der], {
      anchorsForTenant: () => [],
      updateAnchors: anchors.map((anchor) => anchor.parsed),
      now: start,
      allowedClasses: ['update-only'],
    });
    assert.equal(verified.resultClass, 'update-only');
    const result = opensslVerify({
      trusted: anchors.map((anchor) => anchor.der),
      leaf: issued.der,
      purpose: 'sslclient',
      at: start,
    });
    assert.equal(result.verified, true, result.output);
    await assert.rejects(issueAt(await pki.updateIssuer(start), tenantId, start, 'trusted'), {
      code: 'CA_RESULT_CLASS_NOT_ALLOWED',
    });
  });

  it('renews the TLS certificate when 30 days are left, under the same intermediate', async () => {
    const pki = await openPki(context.db, keys);
    await pki.ensureInfrastructure(start);
    const before = await pki.ensureInfrastructure(start + 59 * DAY);
    assert.deepEqual(before.created, []);
    const renewed = await pki.ensureInfrastructure(start + 61 * DAY);
    assert.deepEqual(renewed.created, ['service-tls.2']);
    assert.equal(renewed.tlsChanged, true);
    const [leaf, intermediate] = pemCertificates(pki.deviceListenerTls().cert);
    assert.equal(intermediate, pemCertificates(chainPem)[1]);
    const result = opensslVerify({
      trusted: [rootPem],
      untrusted: [intermediate!],
      leaf: leaf!,
      purpose: 'sslserver',
      at: start + 61 * DAY,
    });
    assert.equal(result.verified, true, result.output);
  });

  it('keeps working with the root taken offline, and refuses only what needs the root (PKI_ROOT_OFFLINE)', async () => {
    // The running service has the root's signing handle cached; the operator's CLI removes the key.
    const serviceStore = await keys.open();
    await serviceStore.getSigner('platform-root-ca');
    const cli = await keys.open();
    await cli.exportKey('platform-root-ca'); // orbis keys export platform-root-ca
    await cli.removeKey('platform-root-ca'); // orbis keys remove platform-root-ca
    const pki = await openPki(context.db, keys, Date.now, serviceStore);
    const status = await pki.ensureInfrastructure(start);
    assert.deepEqual(status.created, []);
    assert.equal(status.rootNeeded, false);
    assert.equal(await handshake(pki.deviceListenerTls(), rootPem, 'localhost'), undefined);

    // Tenant CAs and the update CA never needed the root.
    const tenantId = await createTenantRow(context.db, start);
    await pki.createTenantCa(context.db, tenantId, start);
    await issueAt(await pki.tenantIssuer(tenantId, start), tenantId, start);
    await issueAt(await pki.updateIssuer(start), tenantId, start, 'update-only');

    // A new intermediate does need it.
    await assert.rejects(pki.renewIntermediate(start), { code: 'PKI_ROOT_OFFLINE' });
    const intermediateRows = await listSeries(context.db, { kind: 'platform', keyRef: 'service-tls-issuer' });
    assert.equal(intermediateRows.length, 1);
    const intermediateEnd = intermediateRows[0]!.notAfter;
    // Due for renewal but still valid: the service carries on and says the root is needed.
    const due = await pki.ensureInfrastructure(intermediateEnd - 100 * DAY);
    assert.equal(due.rootNeeded, true);
    assert.deepEqual(due.created, ['service-tls.3', 'update-ca.2']);
    // Expired: nothing can issue the service's TLS certificate any more.
    await assert.rejects(pki.ensureInfrastructure(intermediateEnd + DAY), { code: 'PKI_ROOT_OFFLINE' });
  });
});
