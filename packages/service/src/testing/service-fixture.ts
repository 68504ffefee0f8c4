import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import { issueSetupTokenIfNeeded } from '../auth/setup.ts';
import { parseConfig } from '../config.ts';
import type { BackendContext } from '../db/test-databases.ts';
import type { DeviceConnections } from '../device/device-connections.ts';
import type { TufRoots } from '../updates/tuf-roots.ts';
import { createTestTufRoots } from './test-tuf-roots.ts';

/**
 * Test-only: a service on a test database with a platform operator, tenants A and B, and in
 * A one person per role (B has an Administrator), all created through the HTTP API.
 */
export interface Json {
  [key: string]: unknown;
}

export interface CallResult {
  readonly status: number;
  readonly body: Json;
}

export interface ServiceFixture {
  readonly api: FastifyInstance;
  readonly tenants: { readonly A: string; readonly B: string };
  /** Session tokens: operator, A-Administrator, A-Contributor, A-Reader, B-Administrator. */
  readonly tokens: Readonly<Record<string, string>>;
  readonly call: (method: string, url: string, token?: string, payload?: unknown) => Promise<CallResult>;
  /** The TUF roots GET /api/v1/updates/roots serves (throwaway keys). */
  readonly tufRoots: TufRoots;
}

/** A JSON-over-inject caller for an API instance, with an optional bearer token. */
export function httpCaller(api: FastifyInstance): ServiceFixture['call'] {
  return async (method, url, token, payload) => {
    const response = await api.inject({
      method: method as 'GET',
      url,
      ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
      ...(payload === undefined ? {} : { payload: payload as Json }),
    });
    return { status: response.statusCode, body: response.body === '' ? {} : response.json<Json>() };
  };
}

export const FIXTURE_PASSWORD = 'a password of some length';

export async function createServiceFixture(
  context: BackendContext,
  now: () => number = Date.now,
  options: { readonly deviceConnections?: DeviceConnections } = {},
): Promise<ServiceFixture> {
  const config = parseConfig({ ORBIS_LOG_LEVEL: 'silent' }, '/tmp');
  const tufRoots = await createTestTufRoots(now());
  const { api } = await buildApp(config, {
    database: { ...context.handle, close: async () => {} },
    clock: { now },
    tufRoots,
    ...options,
  });
  const call = httpCaller(api);
  async function login(email: string): Promise<string> {
    return (await call('POST', '/api/v1/sessions', undefined, { email, password: FIXTURE_PASSWORD })).body[
      'token'
    ] as string;
  }
  const setupToken = await issueSetupTokenIfNeeded(context.db);
  const setup = await call('POST', '/api/v1/setup', undefined, {
    setupToken,
    email: 'op@example.com',
    password: FIXTURE_PASSWORD,
  });
  const tokens: Record<string, string> = { operator: setup.body['token'] as string };
  const tenantIds: Record<string, string> = {};
  for (const name of ['A', 'B']) {
    tenantIds[name] = (await call('POST', '/api/v1/tenants', tokens['operator'], { name })).body[
      'id'
    ] as string;
  }
  const people: [string, string, string][] = [
    ['A', 'Administrator', 'admin@a.example'],
    ['A', 'Contributor', 'contributor@a.example'],
    ['A', 'Reader', 'reader@a.example'],
    ['B', 'Administrator', 'admin@b.example'],
  ];
  for (const [tenant, role, email] of people) {
    await call('POST', `/api/v1/tenants/${tenantIds[tenant] ?? ''}/members`, tokens['operator'], {
      email,
      role,
      initialPassword: FIXTURE_PASSWORD,
    });
    tokens[`${tenant}-${role}`] = await login(email);
  }
  return { api, tenants: { A: tenantIds['A'] ?? '', B: tenantIds['B'] ?? '' }, tokens, call, tufRoots };
}
