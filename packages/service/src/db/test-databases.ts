/**
 * Test support (imported by tests only): a fresh, empty database on each backend, and
 * `forEachBackend` to run one suite against both. PostgreSQL is expected at
 * ORBIS_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres, trust auth).
 * If it is unreachable the PostgreSQL suites fail, as they do in CI, unless
 * ORBIS_TEST_SKIP_POSTGRES=1 says to skip them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { Client } from 'pg';
import type { Kysely } from 'kysely';
import { openDatabase, type DatabaseHandle } from './database.ts';
import type { Database } from './schema.ts';

export const BACKENDS = ['sqlite', 'postgres'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface TestDatabase {
  readonly backend: Backend;
  /** What openDatabase takes. */
  readonly url: string;
  /** Deletes the database (and its files); safe to call twice. */
  drop(): Promise<void>;
}

const DEFAULT_POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function postgresAdminUrl(): string {
  return process.env['ORBIS_TEST_POSTGRES_URL'] ?? DEFAULT_POSTGRES_ADMIN_URL;
}

/** Whether this run skips PostgreSQL (ORBIS_TEST_SKIP_POSTGRES=1). */
export function isPostgresSkipped(): boolean {
  return process.env['ORBIS_TEST_SKIP_POSTGRES'] === '1';
}

async function withAdminClient(work: (client: Client) => Promise<void>): Promise<void> {
  const adminUrl = postgresAdminUrl();
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    const shown = new URL(adminUrl);
    if (shown.password !== '') shown.password = '***';
    const reason = error instanceof Error ? error.message || error.name : String(error);
    throw new Error(
      `PostgreSQL is not reachable at ${shown.toString()} (${reason}). Start it ` +
        '(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), point ' +
        'ORBIS_TEST_POSTGRES_URL at a server where this user may CREATE DATABASE, or set ' +
        'ORBIS_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL variants of the tests.',
      { cause: error },
    );
  }
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  // Only [0-9a-f_] in the name, so it needs no quoting.
  const name = `orbis_test_${randomBytes(8).toString('hex')}`;
  await withAdminClient(async (client) => {
    await client.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(postgresAdminUrl());
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    backend: 'postgres',
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withAdminClient(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
}

function createSqliteDatabase(): TestDatabase {
  const directory = mkdtempSync(join(tmpdir(), 'orbis-test-db-'));
  return {
    backend: 'sqlite',
    url: join(directory, 'orbis.db'),
    drop: () => {
      rmSync(directory, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/** A new, empty database: a file in a fresh temporary directory, or a new PostgreSQL database. */
export async function createTestDatabase(backend: Backend): Promise<TestDatabase> {
  return backend === 'postgres' ? createPostgresDatabase() : createSqliteDatabase();
}

/** What a `forEachBackend` suite sees; `db` and `handle` are usable from its tests and hooks. */
export interface BackendContext {
  readonly backend: Backend;
  readonly url: string;
  readonly handle: DatabaseHandle;
  readonly db: Kysely<Database>;
}

/**
 * Declares the suite `define` once per backend, as `describe('<name> (<backend>)')`, on a
 * freshly created and migrated database that is closed and dropped after the suite.
 */
export function forEachBackend(name: string, define: (context: BackendContext) => void): void {
  for (const backend of BACKENDS) {
    const skip = backend === 'postgres' && isPostgresSkipped() ? 'ORBIS_TEST_SKIP_POSTGRES=1' : false;
    void describe(`${name} (${backend})`, { skip }, () => {
      let database: TestDatabase | undefined;
      let handle: DatabaseHandle | undefined;
      let setupError: Error | undefined;
      const opened = (): { database: TestDatabase; handle: DatabaseHandle } => {
        // Every test fails with the setup error (an unreachable PostgreSQL, say), so the run
        // counts failures rather than tests cancelled by a failed hook.
        if (setupError !== undefined) throw setupError;
        if (database === undefined || handle === undefined) {
          throw new Error('the test database is only open inside tests and hooks of its suite');
        }
        return { database, handle };
      };
      before(async () => {
        try {
          database = await createTestDatabase(backend);
          handle = await openDatabase({ url: database.url });
        } catch (error) {
          setupError = error instanceof Error ? error : new Error(String(error));
        }
      });
      after(async () => {
        await handle?.close();
        await database?.drop();
      });
      define({
        backend,
        get url() {
          return opened().database.url;
        },
        get handle() {
          return opened().handle;
        },
        get db() {
          return opened().handle.db;
        },
      });
    });
  }
}
