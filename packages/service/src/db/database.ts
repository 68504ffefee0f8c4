import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, Migrator, PostgresDialect, sql, type Dialect } from 'kysely';
import { Pool, TypeOverrides } from 'pg';
import { ServiceError } from '../errors.ts';
import type { DatabaseDialect } from './backend.ts';
import { toServiceError } from './database-errors.ts';
import { migrationProvider } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { NodeSqliteDialect } from './sqlite-dialect.ts';

export interface OpenDatabaseOptions {
  /**
   * `postgres://…` or `postgresql://…` for PostgreSQL; anything else is a SQLite file path
   * (or a `file:` URL), created with its directory if absent; `:memory:` for tests.
   */
  readonly url: string;
  /** Most PostgreSQL connections this process holds at once (default 10). */
  readonly maxConnections?: number;
  /**
   * Told about errors on idle PostgreSQL connections (server restart, network loss); the pool
   * drops such a connection and opens another when needed. Without a listener pg would crash
   * the process.
   */
  readonly onBackgroundError?: (error: Error) => void;
}

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: DatabaseDialect;
  /** Waits for work in flight, then closes every connection. Safe to call twice. */
  close(): Promise<void>;
}

export type DatabaseTarget =
  | { readonly dialect: 'postgres'; readonly url: string }
  | { readonly dialect: 'sqlite'; readonly path: string };

const DEFAULT_MAX_CONNECTIONS = 10;
const POSTGRES_INT8_OID = 20;
const MIGRATION_TABLE = 'orbis_migration';
const MIGRATION_LOCK_TABLE = 'orbis_migration_lock';

/** Which backend a database URL names; throws DB_URL_INVALID for anything else with a scheme. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', url };
  if (url === ':memory:') return { dialect: 'sqlite', path: url };
  if (/^file:/i.test(url)) {
    try {
      return { dialect: 'sqlite', path: fileURLToPath(url) };
    } catch (error) {
      throw new ServiceError('DB_URL_INVALID', 'the database file: URL is not a local file path', {
        cause: error,
      });
    }
  }
  if (url === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ServiceError(
      'DB_URL_INVALID',
      'the database URL must start with postgres:// or postgresql://, or be a SQLite file path',
    );
  }
  return { dialect: 'sqlite', path: url };
}

/**
 * pg returns int8 (BIGINT, and count(*)) as strings, since they may exceed 2^53. Orbis keeps
 * ms timestamps, counters and counts there, all far below 2^53, so they are parsed as numbers:
 * the same types as SQLite gives. A value beyond 2^53 fails the query rather than losing
 * precision. Set per pool, so other users of pg in the process are unaffected.
 */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new ServiceError('DB_INTEGER_OUT_OF_RANGE', 'the database returned an integer beyond 2^53');
  }
  return value;
}

function createPostgresDialect(url: string, options: OpenDatabaseOptions): Dialect {
  const types = new TypeOverrides();
  types.setTypeParser(POSTGRES_INT8_OID, 'text', parseInt8);
  const pool = new Pool({
    connectionString: url,
    max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    application_name: 'orbis',
    types,
  });
  const onBackgroundError = options.onBackgroundError;
  pool.on('error', (error) => onBackgroundError?.(error));
  return new PostgresDialect({ pool });
}

function createSqliteDialect(path: string): Dialect {
  if (path !== ':memory:') {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Create the file owner-only before SQLite does (it holds password and token hashes);
      // SQLite gives the -wal and -shm files the database file's permissions.
      closeSync(openSync(path, 'a', 0o600));
    } catch (error) {
      throw new ServiceError('DB_UNAVAILABLE', 'the SQLite database file cannot be created', {
        cause: error,
      });
    }
  }
  return new NodeSqliteDialect({ path });
}

async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const mapped = toServiceError(error);
    // Losing a lock race or the connection is worth a retry; anything else is the schema's fault.
    if (mapped.code === 'DB_BUSY' || mapped.code === 'DB_UNAVAILABLE') throw mapped;
    throw new ServiceError('DB_MIGRATION_FAILED', 'the database schema cannot be brought up to date', {
      cause: error,
    });
  }
}

/**
 * Opens the service's database and migrates it to the latest schema. Replicas may open the
 * same database at once: the migrator takes a lock (an advisory lock on PostgreSQL, the
 * BEGIN IMMEDIATE write lock on SQLite) and runs all pending migrations in one transaction.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const target = parseDatabaseUrl(options.url);
  const dialect =
    target.dialect === 'postgres'
      ? createPostgresDialect(target.url, options)
      : createSqliteDialect(target.path);
  const db = new Kysely<Database>({ dialect });
  try {
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      const mapped = toServiceError(error);
      throw mapped.code === 'DB_QUERY_FAILED'
        ? new ServiceError('DB_UNAVAILABLE', 'the database cannot be reached', { cause: error })
        : mapped;
    }
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw error;
  }
  let closing: Promise<void> | undefined;
  return Object.freeze({
    db,
    dialect: target.dialect,
    close: () => (closing ??= db.destroy()),
  });
}
