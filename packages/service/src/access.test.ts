import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { issueSetupTokenIfNeeded } from './auth/setup.ts';
import { parseConfig } from './config.ts';
import { forEachBackend } from './db/test-databases.ts';
import { verifyAuditChain } from './audit/audit.repo.ts';
import { httpCaller, type Json } from './testing/service-fixture.ts';

/**
 * People and access over real HTTP handling on both storage backends: first-time setup,
 * login, tenants, members and roles, API tokens, and the tenant-isolation matrix.
 */

forEachBackend('people and access', (context) => {
  let api: FastifyInstance;
  const password = 'a password of some length';
  const tokens: Record<string, string> = {};
  const tenants: Record<string, string> = {};

  let call: ReturnType<typeof httpCaller>;

  before(async () => {
    const config = parseConfig({ ORBIS_LOG_LEVEL: 'silent' }, '/tmp');
    const app = await buildApp(config, {
      database: { ...context.handle, close: async () => {} },
      clock: { now: () => Date.now() },
    });
    api = app.api;
    call = httpCaller(api);
  });

  it('creates the first platform operator only with the one-time setup token', async () => {
    const setupToken = await issueSetupTokenIfNeeded(context.db);
    assert.ok(setupToken);
    const wrong = await call('POST', '/api/v1/setup', undefined, {
      setupToken: 'orbis_setup_wrong',
      email: 'op@example.com',
      password,
    });
    assert.equal(wrong.body['code'], 'AUTH_SETUP_UNAVAILABLE');
    const done = await call('POST', '/api/v1/setup', undefined, {
      setupToken,
      email: 'op@example.com',
      password,
    });
    assert.equal(done.status, 201);
    tokens['operator'] = done.body['token'] as string;
    const replay = await call('POST', '/api/v1/setup', undefined, {
      setupToken,
      email: 'op2@example.com',
      password,
    });
    assert.equal(replay.body['code'], 'AUTH_SETUP_UNAVAILABLE');
    assert.equal(await issueSetupTokenIfNeeded(context.db), undefined);
  });

  it('logs in with the right password only, with one answer for unknown emails and wrong passwords', async () => {
    const ok = await call('POST', '/api/v1/sessions', undefined, { email: 'OP@example.com', password });
    assert.equal(ok.status, 201);
    const wrong = await call('POST', '/api/v1/sessions', undefined, {
      email: 'op@example.com',
      password: `${password}!`,
    });
    const unknown = await call('POST', '/api/v1/sessions', undefined, {
      email: 'nobody@example.com',
      password,
    });
    assert.equal(wrong.status, 401);
    assert.deepEqual([wrong.body['code'], unknown.body['code']], ['AUTH_LOGIN_FAILED', 'AUTH_LOGIN_FAILED']);
  });

  it('lets a platform operator create tenants A and B, becoming their Administrator', async () => {
    for (const name of ['A', 'B']) {
      const created = await call('POST', '/api/v1/tenants', tokens['operator'], { name: `Tenant ${name}` });
      assert.equal(created.status, 201);
      tenants[name] = created.body['id'] as string;
    }
    const listed = await call('GET', '/api/v1/tenants', tokens['operator']);
    assert.equal((listed.body['tenants'] as unknown[]).length, 2);
  });

  it('adds people to tenant A in each role, and gives B its own administrator', async () => {
    for (const role of ['Administrator', 'Contributor', 'Reader']) {
      const email = `${role.toLowerCase()}@a.example`;
      const added = await call('POST', `/api/v1/tenants/${tenants['A']}/members`, tokens['operator'], {
        email,
        role,
        initialPassword: password,
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      tokens[`A-${role}`] = (await call('POST', '/api/v1/sessions', undefined, { email, password })).body[
        'token'
      ] as string;
    }
    await call('POST', `/api/v1/tenants/${tenants['B']}/members`, tokens['operator'], {
      email: 'admin@b.example',
      role: 'Administrator',
      initialPassword: password,
    });
    tokens['B-Administrator'] = (
      await call('POST', '/api/v1/sessions', undefined, { email: 'admin@b.example', password })
    ).body['token'] as string;
  });

  it('refuses requests without a valid bearer token', async () => {
    assert.equal((await call('GET', `/api/v1/tenants/${tenants['A']}`)).body['code'], 'AUTH_REQUIRED');
    assert.equal(
      (await call('GET', `/api/v1/tenants/${tenants['A']}`, 'orbis_s_' + 'x'.repeat(43))).body['code'],
      'AUTH_REQUIRED',
    );
  });

  it('issues API tokens shown once, scoped to one tenant and role, and revocable', async () => {
    const created = await call(
      'POST',
      `/api/v1/tenants/${tenants['A']}/api-tokens`,
      tokens['A-Administrator'],
      {
        name: 'ci',
        role: 'Reader',
        expiresInSeconds: 3600,
      },
    );
    assert.equal(created.status, 201);
    const token = created.body['token'] as string;
    assert.equal((await call('GET', `/api/v1/tenants/${tenants['A']}`, token)).status, 200);
    assert.equal((await call('GET', `/api/v1/tenants/${tenants['B']}`, token)).status, 404);
    const listed = await call('GET', `/api/v1/tenants/${tenants['A']}/api-tokens`, tokens['A-Administrator']);
    assert.doesNotMatch(JSON.stringify(listed.body), new RegExp(token));
    const id = created.body['id'] as string;
    assert.equal(
      (await call('DELETE', `/api/v1/tenants/${tenants['A']}/api-tokens/${id}`, tokens['A-Administrator']))
        .status,
      204,
    );
    assert.equal((await call('GET', `/api/v1/tenants/${tenants['A']}`, token)).body['code'], 'AUTH_REQUIRED');
  });

  it('refuses an API token that outlives the configured maximum', async () => {
    const created = await call(
      'POST',
      `/api/v1/tenants/${tenants['A']}/api-tokens`,
      tokens['A-Administrator'],
      {
        name: 'forever',
        role: 'Reader',
        expiresInSeconds: 10 * 365 * 86_400,
      },
    );
    assert.equal(created.body['code'], 'REQUEST_INVALID');
  });

  it('keeps at least one Administrator in a tenant', async () => {
    const members = (await call('GET', `/api/v1/tenants/${tenants['B']}/members`, tokens['B-Administrator']))
      .body['members'] as Json[];
    const operatorId = members.find((member) => member['email'] === 'op@example.com')?.['userId'] as string;
    const adminId = members.find((member) => member['email'] === 'admin@b.example')?.['userId'] as string;
    assert.equal(
      (
        await call(
          'DELETE',
          `/api/v1/tenants/${tenants['B']}/members/${operatorId}`,
          tokens['B-Administrator'],
        )
      ).status,
      204,
    );
    const last = await call(
      'PUT',
      `/api/v1/tenants/${tenants['B']}/members/${adminId}/role`,
      tokens['B-Administrator'],
      { role: 'Reader' },
    );
    assert.equal(last.body['code'], 'TENANT_LAST_ADMINISTRATOR');
  });

  it('holds the tenant-isolation matrix: tenant B gets 404 on every tenant-A endpoint, roles are enforced', async () => {
    const A = tenants['A'] ?? '';
    const someUser = '00000000-0000-4000-8000-000000000000';
    const endpoints: {
      method: string;
      url: string;
      action: 'read' | 'change' | 'administer' | 'delete';
      body?: Json;
    }[] = [
      { method: 'GET', url: `/api/v1/tenants/${A}`, action: 'read' },
      { method: 'GET', url: `/api/v1/tenants/${A}/members`, action: 'read' },
      {
        method: 'POST',
        url: `/api/v1/tenants/${A}/members`,
        action: 'administer',
        body: { email: 'x@a.example', role: 'Reader', initialPassword: password },
      },
      {
        method: 'PUT',
        url: `/api/v1/tenants/${A}/members/${someUser}/role`,
        action: 'administer',
        body: { role: 'Reader' },
      },
      { method: 'DELETE', url: `/api/v1/tenants/${A}/members/${someUser}`, action: 'delete' },
      { method: 'GET', url: `/api/v1/tenants/${A}/api-tokens`, action: 'administer' },
      {
        method: 'POST',
        url: `/api/v1/tenants/${A}/api-tokens`,
        action: 'administer',
        body: { name: 'x', role: 'Reader', expiresInSeconds: 60 },
      },
      { method: 'DELETE', url: `/api/v1/tenants/${A}/api-tokens/${someUser}`, action: 'delete' },
    ];
    const allowed = {
      Reader: ['read'],
      Contributor: ['read', 'change'],
      Administrator: ['read', 'change', 'administer', 'delete'],
    };
    for (const endpoint of endpoints) {
      const foreign = await call(endpoint.method, endpoint.url, tokens['B-Administrator'], endpoint.body);
      assert.equal(foreign.status, 404, `tenant B on ${endpoint.method} ${endpoint.url}`);
      for (const role of ['Reader', 'Contributor'] as const) {
        const response = await call(endpoint.method, endpoint.url, tokens[`A-${role}`], endpoint.body);
        if (allowed[role].includes(endpoint.action))
          assert.notEqual(response.status, 403, `${role} ${endpoint.method} ${endpoint.url}`);
        else
          assert.equal(response.body['code'], 'AUTH_FORBIDDEN', `${role} ${endpoint.method} ${endpoint.url}`);
      }
    }
  });

  it('only platform operators create tenants', async () => {
    const refused = await call('POST', '/api/v1/tenants', tokens['A-Administrator'], { name: 'Sneaky' });
    assert.equal(refused.body['code'], 'AUTH_FORBIDDEN');
  });

  it('records every change in each tenant’s audit hash chain, which verifies', async () => {
    const verification = await verifyAuditChain(context.db, tenants['A'] ?? '');
    if (!verification.ok) assert.fail(`the chain breaks: ${JSON.stringify(verification)}`);
    assert.ok(verification.lastSeq >= 6, 'tenant creation, three members, a token and its revocation');
  });

  it('answers malformed bodies, unknown fields and wrong types with 400 and a code', async () => {
    const url = `/api/v1/tenants/${tenants['A']}/members`;
    const unknownField = await call('POST', url, tokens['A-Administrator'], {
      email: 'y@a.example',
      role: 'Reader',
      admin: true,
    });
    const wrongType = await call('POST', url, tokens['A-Administrator'], { email: 'y@a.example', role: 7 });
    assert.deepEqual([unknownField.status, wrongType.status], [400, 400]);
    assert.equal(unknownField.body['code'], 'REQUEST_INVALID');
    const badId = await call('GET', '/api/v1/tenants/not-a-uuid', tokens['A-Administrator']);
    assert.equal(badId.body['code'], 'REQUEST_INVALID');
  });

  it('serves OpenAPI generated from the route schemas', async () => {
    const spec = await call('GET', '/api/v1/openapi.json');
    assert.ok(Object.keys(spec.body['paths'] as Json).includes('/api/v1/tenants/{tenantId}/members'));
  });
});
