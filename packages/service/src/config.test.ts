import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_API_PORT, parseConfig } from './config.ts';

describe('parseConfig', () => {
  it('has working defaults: SQLite in .orbis under the working directory, loopback, fixed ports', () => {
    const config = parseConfig({}, '/srv/orbis');
    assert.equal(config.dataDir, '/srv/orbis/.orbis');
    assert.equal(config.databaseUrl, '/srv/orbis/.orbis/orbis.db');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.apiPort, DEFAULT_API_PORT);
    assert.ok(Object.isFrozen(config));
  });

  it('reads PostgreSQL and ports from the environment', () => {
    const config = parseConfig(
      { ORBIS_DATABASE_URL: 'postgres://127.0.0.1/orbis', ORBIS_API_PORT: '0', ORBIS_DEVICE_PORT: '0' },
      '/srv',
    );
    assert.equal(config.databaseUrl, 'postgres://127.0.0.1/orbis');
    assert.equal(config.apiPort, 0);
  });

  it('lists every problem at once instead of stopping at the first', () => {
    try {
      parseConfig(
        {
          ORBIS_API_PORT: 'http',
          ORBIS_DEVICE_PORT: '70000',
          ORBIS_LOG_LEVEL: 'loud',
          ORBIS_SESSION_LIFETIME_SECONDS: '5',
          ORBIS_DATABASE_URL: '',
        },
        '/srv',
      );
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 5);
      assert.match(error.message, /ORBIS_API_PORT[\s\S]*ORBIS_DEVICE_PORT/);
    }
  });

  it('refuses the same port for both listeners', () => {
    assert.throws(
      () => parseConfig({ ORBIS_API_PORT: '9000', ORBIS_DEVICE_PORT: '9000' }, '/srv'),
      ConfigError,
    );
  });
});
