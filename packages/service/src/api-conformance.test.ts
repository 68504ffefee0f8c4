import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { forEachBackend } from './db/test-databases.ts';
import {
  createServiceFixture,
  FIXTURE_PASSWORD,
  type Json,
  type ServiceFixture,
} from './testing/service-fixture.ts';

/**
 * Every route of the HTTP API, found in its OpenAPI document, against bad input and the
 * tenant-isolation matrix. A new route fails these tests until it is listed in ROUTES below
 * with the action it needs and a body that passes its schema. `authenticated`: any caller with
 * a valid token, whatever their tenant or role; `public`: no token needed (or the route's own
 * tests cover what it does without one).
 */
type Action = 'public' | 'authenticated' | 'platform' | 'read' | 'change' | 'administer' | 'delete';

const uuid = '00000000-0000-4000-8000-000000000001';
const device = 'ab'.repeat(32);
const RELEASE = {
  version: '1.0.0',
  stages: (['bootloader', 'security-monitor', 'os'] as const).map((kind, index) => ({
    kind,
    componentId: uuid,
    version: '1.0.0',
    securityVersion: 1,
    sha256: String(index).repeat(64),
    signer: 'e'.repeat(64),
  })),
};

/** `METHOD path` → the action it needs and a body its schema accepts. */
const ROUTES: Record<string, { action: Action; body?: Json }> = {
  'GET /healthz': { action: 'public' },
  'GET /readyz': { action: 'public' },
  'POST /api/v1/setup': {
    action: 'public',
    body: { setupToken: 'orbis_setup_x', email: 'a@b.c', password: FIXTURE_PASSWORD },
  },
  'POST /api/v1/sessions': { action: 'public', body: { email: 'a@b.c', password: FIXTURE_PASSWORD } },
  'DELETE /api/v1/sessions/current': { action: 'public' },
  'POST /api/v1/tenants': { action: 'platform', body: { name: 'T' } },
  'GET /api/v1/tenants': { action: 'authenticated' },
  'GET /api/v1/tenants/{tenantId}': { action: 'read' },
  'GET /api/v1/tenants/{tenantId}/members': { action: 'read' },
  'POST /api/v1/tenants/{tenantId}/members': {
    action: 'administer',
    body: { email: 'new@a.example', role: 'Reader', initialPassword: FIXTURE_PASSWORD },
  },
  'PUT /api/v1/tenants/{tenantId}/members/{userId}/role': { action: 'administer', body: { role: 'Reader' } },
  'DELETE /api/v1/tenants/{tenantId}/members/{userId}': { action: 'delete' },
  'POST /api/v1/tenants/{tenantId}/api-tokens': {
    action: 'administer',
    body: { name: 'x', role: 'Reader', expiresInSeconds: 60 },
  },
  'GET /api/v1/tenants/{tenantId}/api-tokens': { action: 'administer' },
  'DELETE /api/v1/tenants/{tenantId}/api-tokens/{tokenId}': { action: 'delete' },
  'POST /api/v1/manufacturers': { action: 'platform', body: { name: 'M', publicKey: 'A'.repeat(122) } },
  'POST /api/v1/manufacturers/{manufacturerId}/device-lists': {
    action: 'platform',
    body: {
      list: {
        formatVersion: 1,
        manufacturerId: uuid,
        listId: uuid,
        issuedAt: 0,
        devices: [{ deviceId: device, identityKey: 'A'.repeat(122), model: 'm' }],
      },
      signature: 'A'.repeat(86),
    },
  },
  'POST /api/v1/tenants/{tenantId}/devices/claims': { action: 'administer', body: { deviceIds: [device] } },
  'GET /api/v1/tenants/{tenantId}/devices': { action: 'read' },
  'GET /api/v1/tenants/{tenantId}/devices/{deviceId}': { action: 'read' },
  'POST /api/v1/tenants/{tenantId}/devices/{deviceId}/disable': { action: 'change' },
  'POST /api/v1/tenants/{tenantId}/devices/{deviceId}/enable': { action: 'change' },
  'GET /api/v1/tenants/{tenantId}/groups': { action: 'read' },
  'PUT /api/v1/tenants/{tenantId}/groups/{groupId}/minimum-os-security-version': {
    action: 'change',
    body: { minimumOsSecurityVersion: 1 },
  },
  'PUT /api/v1/tenants/{tenantId}/devices/{deviceId}/group': { action: 'change', body: { groupId: uuid } },
  'POST /api/v1/os-releases': { action: 'platform', body: RELEASE },
  'GET /api/v1/os-releases': { action: 'authenticated' },
  'PUT /api/v1/os-feeds/{feed}/minimum': {
    action: 'platform',
    body: { minimumSecurityVersion: 1, effectiveFrom: 0 },
  },
  'GET /api/v1/updates/roots': { action: 'authenticated' },
};

const ALLOWED: Record<string, readonly Action[]> = {
  Reader: ['read'],
  Contributor: ['read', 'change'],
  Administrator: ['read', 'change', 'administer', 'delete'],
};

function fill(path: string, tenantId: string): string {
  return path
    .replace('{tenantId}', tenantId)
    .replace('{deviceId}', device)
    .replace('{feed}', 'Retail')
    .replace(/\{[A-Za-z]+Id\}/g, uuid);
}

forEachBackend('the HTTP API', (context) => {
  let fixture: ServiceFixture;
  let routes: string[] = [];

  before(async () => {
    fixture = await createServiceFixture(context);
    const spec = fixture.api.swagger() as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
  });

  it('lists every route in the conformance table, and nothing that does not exist', () => {
    assert.deepEqual([...routes].sort(), Object.keys(ROUTES).sort());
  });

  it('answers malformed JSON, unknown fields and wrong types with 400 and REQUEST_INVALID on every route with a body', async () => {
    for (const route of routes) {
      const [method = '', path = ''] = route.split(' ');
      const entry = ROUTES[route];
      if (entry?.body === undefined) continue;
      const url = fill(path, fixture.tenants.A);
      const token = fixture.tokens['operator'];
      for (const payload of [
        '{"truncated": ',
        JSON.stringify({ ...entry.body, unexpected: true }),
        '[]',
        '"text"',
        '7',
      ]) {
        const response = await fixture.api.inject({
          method: method as 'POST',
          url,
          payload,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? ''}` },
        });
        assert.equal(response.statusCode, 400, `${route} with ${payload}: ${response.body}`);
        const body = response.json<Json>();
        assert.equal(body['code'], 'REQUEST_INVALID', route);
        assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'requestId']);
      }
    }
  });

  it('answers an oversized body with 413 and REQUEST_TOO_LARGE on every route with a body', async () => {
    const payload = JSON.stringify({ padding: 'x'.repeat(5 * 1024 * 1024) });
    for (const route of routes) {
      const [method = '', path = ''] = route.split(' ');
      if (ROUTES[route]?.body === undefined) continue;
      const response = await fixture.api.inject({
        method: method as 'POST',
        url: fill(path, fixture.tenants.A),
        payload,
        headers: { 'content-type': 'application/json' },
      });
      assert.deepEqual(
        [response.statusCode, response.json<Json>()['code']],
        [413, 'REQUEST_TOO_LARGE'],
        route,
      );
    }
  });

  it('answers malformed path parameters and unknown query parameters with 400, never 500', async () => {
    for (const route of routes) {
      const [method = '', path = ''] = route.split(' ');
      if (!path.includes('{')) continue;
      const url = path.replace(/\{[A-Za-z]+\}/g, 'not-an-id%00');
      const response = await fixture.api.inject({
        method: method as 'GET',
        url: `${url}?unexpected=1`,
        headers: { authorization: `Bearer ${fixture.tokens['operator'] ?? ''}` },
        ...(ROUTES[route]?.body === undefined ? {} : { payload: ROUTES[route].body }),
      });
      assert.equal(response.statusCode, 400, `${route}: ${response.body}`);
      assert.equal(response.json<Json>()['code'], 'REQUEST_INVALID');
    }
  });

  it('holds the isolation matrix: another tenant gets 404, and Reader and Contributor limits hold, on every tenant route', async () => {
    for (const route of routes) {
      const entry = ROUTES[route];
      const [method = '', path = ''] = route.split(' ');
      if (entry === undefined || !path.includes('{tenantId}')) continue;
      const url = fill(path, fixture.tenants.A);
      const send = (token: string | undefined) => fixture.call(method, url, token, entry.body);
      const foreign = await send(fixture.tokens['B-Administrator']);
      assert.equal(foreign.status, 404, `tenant B on ${route}: ${JSON.stringify(foreign.body)}`);
      assert.equal((await send(undefined)).body['code'], 'AUTH_REQUIRED', route);
      for (const role of ['Reader', 'Contributor'] as const) {
        const response = await send(fixture.tokens[`A-${role}`]);
        if (ALLOWED[role]?.includes(entry.action))
          assert.notEqual(response.body['code'], 'AUTH_FORBIDDEN', `${role} on ${route}`);
        else
          assert.deepEqual(
            [response.status, response.body['code']],
            [403, 'AUTH_FORBIDDEN'],
            `${role} on ${route}`,
          );
      }
    }
  });

  it('refuses a caller without a valid token on every authenticated route, and admits any member', async () => {
    for (const route of routes) {
      const entry = ROUTES[route];
      const [method = '', path = ''] = route.split(' ');
      if (entry?.action !== 'authenticated') continue;
      const url = fill(path, fixture.tenants.A);
      for (const token of [undefined, 'orbis_session_forged']) {
        const refused = await fixture.call(method, url, token, entry.body);
        assert.deepEqual([refused.status, refused.body['code']], [401, 'AUTH_REQUIRED'], route);
      }
      for (const who of ['A-Reader', 'B-Administrator']) {
        const admitted = await fixture.call(method, url, fixture.tokens[who], entry.body);
        assert.equal(admitted.status, 200, `${who} on ${route}: ${JSON.stringify(admitted.body)}`);
      }
    }
  });

  it('keeps platform routes to platform operators', async () => {
    for (const route of routes) {
      const entry = ROUTES[route];
      const [method = '', path = ''] = route.split(' ');
      if (entry?.action !== 'platform') continue;
      const response = await fixture.call(
        method,
        fill(path, fixture.tenants.A),
        fixture.tokens['A-Administrator'],
        entry.body,
      );
      assert.deepEqual([response.status, response.body['code']], [403, 'AUTH_FORBIDDEN'], route);
    }
  });
});
