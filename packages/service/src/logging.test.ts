import assert from 'node:assert/strict';
import { it } from 'node:test';
import { buildApp } from './app.ts';
import { issueSetupTokenIfNeeded } from './auth/setup.ts';
import { parseConfig } from './config.ts';
import { forEachBackend } from './db/test-databases.ts';
import { httpCaller } from './testing/service-fixture.ts';

/** Structured logs carry request IDs and outcomes, never passwords, tokens or setup secrets. */
forEachBackend('logging', (context) => {
  it('keeps passwords, bearer tokens and setup tokens out of the logs, at every level', async () => {
    const lines: string[] = [];
    const config = parseConfig({ ORBIS_LOG_LEVEL: 'trace' }, '/tmp');
    const app = await buildApp(config, {
      database: { ...context.handle, close: async () => {} },
      clock: { now: () => Date.now() },
      logStream: { write: (line) => lines.push(line) },
    });
    const call = httpCaller(app.api);
    const password = 'correct horse battery staple';
    const setupToken = (await issueSetupTokenIfNeeded(context.db)) ?? '';
    const session = await call('POST', '/api/v1/setup', undefined, {
      setupToken,
      email: 'op@example.com',
      password,
    });
    const token = session.body['token'] as string;
    await call('GET', '/api/v1/tenants', token);
    await call('POST', '/api/v1/sessions', undefined, { email: 'op@example.com', password: `${password}!` });
    await call('POST', '/api/v1/tenants', token, { name: 'T', unexpected: password });
    await app.api.close();
    const log = lines.join('');
    assert.ok(lines.length > 4, 'requests were logged');
    assert.match(log, /"reqId":"[0-9a-f-]{36}"/);
    for (const secret of [password, token, setupToken])
      assert.ok(!log.includes(secret), `a secret reached the log`);
  });
});
