import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildApp, type OrbisApp } from '../app.ts';
import { createAuditHeadSigner } from '../audit/audit-signing.ts';
import { issueSetupTokenIfNeeded } from '../auth/setup.ts';
import { parseConfig } from '../config.ts';
import { forEachBackend } from '../db/test-databases.ts';
import { FIXTURE_PASSWORD, httpCaller, type ServiceFixture } from '../testing/service-fixture.ts';
import { issueAt, keyStoreAt, openPki, opensslVerify, pemCertificates } from './pki.test-helpers.ts';
import type { ServicePki } from './service-pki.ts';

/** The app with its PKI: tenants created over the API get their CA, and GET …/ca shows it to members only. */
forEachBackend('GET /api/v1/tenants/:tenantId/ca', (context) => {
  const keys = keyStoreAt();
  let app: OrbisApp;
  let pki: ServicePki;
  let call: ServiceFixture['call'];
  const tokens: Record<string, string> = {};
  const tenants: Record<string, string> = {};

  before(async () => {
    pki = await openPki(context.db, keys);
    app = await buildApp(parseConfig({ ORBIS_LOG_LEVEL: 'silent' }, '/tmp'), {
      database: { ...context.handle, close: async () => {} },
      clock: { now: Date.now },
      pki,
      auditSigner: createAuditHeadSigner({
        db: context.db,
        keyStore: await keys.open(),
        clock: { now: Date.now },
      }),
    });
    call = httpCaller(app.api);
    const setup = await call('POST', '/api/v1/setup', undefined, {
      setupToken: await issueSetupTokenIfNeeded(context.db),
      email: 'op@example.com',
      password: FIXTURE_PASSWORD,
    });
    tokens['operator'] = setup.body['token'] as string;
    for (const name of ['A', 'B']) {
      tenants[name] = (await call('POST', '/api/v1/tenants', tokens['operator'], { name })).body[
        'id'
      ] as string;
    }
    for (const [tenant, role, email] of [
      ['A', 'Reader', 'reader@a.example'],
      ['B', 'Administrator', 'admin@b.example'],
    ] as const) {
      await call('POST', `/api/v1/tenants/${tenants[tenant]!}/members`, tokens['operator'], {
        email,
        role,
        initialPassword: FIXTURE_PASSWORD,
      });
      tokens[`${tenant}-${role}`] = (
        await call('POST', '/api/v1/sessions', undefined, { email, password: FIXTURE_PASSWORD })
      ).body['token'] as string;
    }
  });
  after(async () => {
    await app.close();
  });

  it("gives a Reader exactly the tenant's anchors, created with the tenant", async () => {
    const response = await call('GET', `/api/v1/tenants/${tenants['A']!}/ca`, tokens['A-Reader']);
    assert.equal(response.status, 200);
    const anchors = response.body['anchors'] as {
      pem: string;
      notBefore: number;
      notAfter: number;
      signsFrom: number;
      keyId: string;
    }[];
    const published = await pki.tenantAnchors(tenants['A']!, Date.now());
    assert.deepEqual(
      anchors,
      published.map(({ pem, notBefore, notAfter, signsFrom, keyId }) => ({
        pem,
        notBefore,
        notAfter,
        signsFrom,
        keyId,
      })),
    );
    assert.equal(anchors.length, 1);
    assert.equal(pemCertificates(anchors[0]!.pem).length, 1);
  });

  it("answers another tenant's member, and a caller without a token, as for a tenant that does not exist", async () => {
    const other = await call('GET', `/api/v1/tenants/${tenants['A']!}/ca`, tokens['B-Administrator']);
    assert.equal(other.status, 404);
    assert.equal(other.body['code'], 'NOT_FOUND');
    const missing = await call('GET', `/api/v1/tenants/${crypto.randomUUID()}/ca`, tokens['A-Reader']);
    assert.deepEqual([missing.status, missing.body['code']], [404, 'NOT_FOUND']);
    const anonymous = await call('GET', `/api/v1/tenants/${tenants['A']!}/ca`);
    assert.equal(anonymous.status, 401);
    const malformed = await call('GET', '/api/v1/tenants/not-a-uuid/ca', tokens['A-Reader']);
    assert.equal(malformed.status, 400);
  });

  it("is a bundle that admits the tenant's devices and refuses every other tenant's", async () => {
    const now = Date.now();
    const bundle = (
      (await call('GET', `/api/v1/tenants/${tenants['A']!}/ca`, tokens['A-Reader'])).body['anchors'] as {
        pem: string;
      }[]
    ).map((anchor) => anchor.pem);
    const deviceOfA = await issueAt(await pki.tenantIssuer(tenants['A']!, now), tenants['A']!, now);
    const deviceOfB = await issueAt(await pki.tenantIssuer(tenants['B']!, now), tenants['B']!, now);
    const accepted = opensslVerify({ trusted: bundle, leaf: deviceOfA.der, purpose: 'sslclient', at: now });
    assert.equal(accepted.verified, true, accepted.output);
    assert.equal(
      opensslVerify({ trusted: bundle, leaf: deviceOfB.der, purpose: 'sslclient', at: now }).verified,
      false,
    );
  });

  it("records the CA's creation in the tenant's audit chain, after the tenant's own creation", async () => {
    const events = await context.db
      .selectFrom('audit_log')
      .select('action')
      .where('tenant_id', '=', tenants['B']!)
      .orderBy('seq')
      .execute();
    assert.deepEqual(events.map((event) => event.action).slice(0, 2), ['tenant.create', 'tenant-ca.create']);
  });
});
