import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { Client } from 'pg';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { MIGRATIONS } from '../db/migrations/index.ts';
import type { TestDatabase } from '../db/test-databases.ts';

/**
 * Test support for the crash tests: what a service restarted after a crash does with its
 * database (connect, migrate), and the checks that the storage itself survived.
 */

/** How long PostgreSQL may take to notice a killed client and end its session, in ms. */
const SESSION_END_TIMEOUT_MS = 10_000;
const SESSION_POLL_MS = 25;

/**
 * PostgreSQL ends a killed client's session (rolling back its open transaction) when it
 * notices the closed socket. Until then a restarted service may see its row locks; the checks
 * must see the state after that rollback, so they wait for the database to have no other
 * session.
 */
async function waitForOtherSessionsToEnd(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const deadline = Date.now() + SESSION_END_TIMEOUT_MS;
    for (;;) {
      const result = await client.query<{ sessions: string }>(
        'select count(*) as sessions from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      if (Number(result.rows[0]?.sessions ?? 0) === 0) return;
      if (Date.now() > deadline) throw new Error('the killed child’s PostgreSQL sessions did not end');
      await new Promise((resolve) => setTimeout(resolve, SESSION_POLL_MS));
    }
  } finally {
    await client.end();
  }
}

/** Opens the database as a service restarted after the crash does: connect, then migrate. */
export async function reopenAfterCrash(database: TestDatabase): Promise<DatabaseHandle> {
  if (database.backend === 'postgres') await waitForOtherSessionsToEnd(database.url);
  return openDatabase({ url: database.url });
}

/** The file passes SQLite's own consistency check, and every migration is recorded exactly once. */
export async function assertStorageIntact(handle: DatabaseHandle): Promise<void> {
  if (handle.dialect === 'sqlite') {
    const { rows } = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(handle.db);
    assert.deepEqual(
      rows.map((row) => row.integrity_check),
      ['ok'],
    );
  }
  const { rows } = await sql<{ name: string }>`select name from orbis_migration order by name`.execute(
    handle.db,
  );
  assert.deepEqual(
    rows.map((row) => row.name),
    Object.keys(MIGRATIONS).sort(),
  );
}
