import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  type CompiledQuery,
  IdentifierNode,
  RawNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  createQueryId,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { ServiceError } from '../errors.ts';

/** How long a writer waits for another process's write lock before failing with SQLITE_BUSY, in ms. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** Most prepared statements kept per connection (least recently used are dropped first). */
export const SQLITE_STATEMENT_CACHE_SIZE = 256;

export interface NodeSqliteDialectOptions {
  /** A file path, or `:memory:` for a private in-memory database (tests). */
  readonly path: string;
  readonly statementCacheSize?: number;
}

/**
 * A Kysely dialect over Node's built-in `node:sqlite`: Kysely's own SQLite compiler and
 * introspector, with a driver of our own (Kysely's SqliteDialect expects better-sqlite3).
 *
 * One process should open a database file once. A second connection to the same file in the
 * same process would wait for the first one's write lock synchronously (node:sqlite blocks
 * the event loop during busy_timeout), so the first could never finish: it deadlocks for
 * the busy timeout and then fails with DB_BUSY. Other processes are fine.
 */
export class NodeSqliteDialect implements Dialect {
  readonly #options: NodeSqliteDialectOptions;

  constructor(options: NodeSqliteDialectOptions) {
    this.#options = Object.freeze({ ...options });
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#options);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * SQLite's DDL is transactional, but Kysely's SqliteAdapter says otherwise, which would make
 * the migrator run each migration outside a transaction: a crash half-way through one would
 * leave half a schema. Saying true runs them inside BEGIN IMMEDIATE, which also serialises
 * two processes migrating the same file.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** A FIFO lock: the holder hands it directly to the next waiter, so nobody can barge in. */
class AsyncMutex {
  #locked = false;
  readonly #waiters: (() => void)[] = [];

  async lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next === undefined) this.#locked = false;
    else next();
  }
}

class NodeSqliteDriver implements Driver {
  readonly #options: NodeSqliteDialectOptions;
  readonly #mutex = new AsyncMutex();
  #connection: NodeSqliteConnection | undefined;

  constructor(options: NodeSqliteDialectOptions) {
    this.#options = options;
  }

  init(): Promise<void> {
    let database: DatabaseSync;
    try {
      database = new DatabaseSync(this.#options.path);
    } catch (error) {
      return Promise.reject(
        new ServiceError('DB_UNAVAILABLE', 'the SQLite database cannot be opened', { cause: error }),
      );
    }
    try {
      // Wait this long for another process's write lock instead of failing at once.
      database.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      // WAL: a commit is one append to the log, so a process killed at any instant (SIGKILL,
      // OOM) leaves the database at its last commit, never half-written; readers do not block
      // the writer.
      database.exec('PRAGMA journal_mode = WAL');
      // FULL, not NORMAL: with NORMAL, WAL survives a crash of the process but a power loss or
      // kernel panic may roll back the last commits. Here those are security decisions: a
      // nonce marked used, a permanent claim, an audit event whose chain head may already be
      // signed and exported (losing it, then appending another event at the same seq, would
      // look exactly like tampering). FULL syncs the log on every commit: measured ~0.45 ms.
      database.exec('PRAGMA synchronous = FULL');
      database.exec('PRAGMA foreign_keys = ON');
    } catch (error) {
      database.close();
      return Promise.reject(
        new ServiceError('DB_UNAVAILABLE', 'the SQLite database cannot be configured', { cause: error }),
      );
    }
    this.#connection = new NodeSqliteConnection(
      database,
      this.#options.statementCacheSize ?? SQLITE_STATEMENT_CACHE_SIZE,
    );
    return Promise.resolve();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // One connection for the whole process, lent to one query or transaction at a time: a
    // transaction holds it from BEGIN to COMMIT, so other queries cannot interleave into it.
    await this.#mutex.lock();
    const connection = this.#connection;
    if (connection === undefined) {
      this.#mutex.unlock();
      throw new ServiceError('DB_UNAVAILABLE', 'the database is closed');
    }
    return connection;
  }

  /** The driver's one connection, which Kysely hands back to it. */
  #own(connection: DatabaseConnection): NodeSqliteConnection {
    if (this.#connection === undefined || connection !== this.#connection) {
      throw new ServiceError('DB_UNAVAILABLE', 'the database is closed');
    }
    return this.#connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // SQLite transactions are serializable, which satisfies any isolation level asked for.
    // IMMEDIATE takes the write lock at BEGIN: a deferred transaction that reads and then
    // writes can fail with SQLITE_BUSY half-way if another process wrote in between. A
    // read-only transaction needs no write lock, and query_only makes SQLite enforce it.
    return new Promise((resolve) => {
      const sqlite = this.#own(connection);
      if (settings.accessMode === 'read only') {
        sqlite.exec('BEGIN DEFERRED');
        sqlite.exec('PRAGMA query_only = ON');
        sqlite.readOnlyTransaction = true;
      } else {
        sqlite.exec('BEGIN IMMEDIATE');
      }
      resolve();
    });
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#endTransaction(connection, 'COMMIT');
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#endTransaction(connection, 'ROLLBACK');
  }

  #endTransaction(connection: DatabaseConnection, command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    return new Promise((resolve) => {
      const sqlite = this.#own(connection);
      try {
        sqlite.exec(command);
      } finally {
        if (sqlite.readOnlyTransaction) {
          sqlite.readOnlyTransaction = false;
          sqlite.exec('PRAGMA query_only = OFF');
        }
      }
      resolve();
    });
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('SAVEPOINT', name), createQueryId()));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('ROLLBACK TO', name), createQueryId()));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('RELEASE', name), createQueryId()));
  }

  releaseConnection(): Promise<void> {
    this.#mutex.unlock();
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    // Wait for the query or transaction in flight, then close for good.
    await this.#mutex.lock();
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.close();
    this.#mutex.unlock();
  }
}

/** The node Kysely's own parseSavepointCommand builds (not exported); the name is quoted as an identifier. */
function savepointCommand(command: 'SAVEPOINT' | 'ROLLBACK TO' | 'RELEASE', name: string): RawNode {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}

interface PreparedStatement {
  readonly statement: StatementSync;
  readonly reader: boolean;
}

class NodeSqliteConnection implements DatabaseConnection {
  readonly #database: DatabaseSync;
  readonly #statements = new Map<string, PreparedStatement>();
  readonly #cacheSize: number;
  readOnlyTransaction = false;

  constructor(database: DatabaseSync, cacheSize: number) {
    this.#database = database;
    this.#cacheSize = cacheSize;
  }

  #prepare(sqlText: string): PreparedStatement {
    const cached = this.#statements.get(sqlText);
    if (cached !== undefined) {
      // Map keeps insertion order: re-inserting marks the statement most recently used.
      this.#statements.delete(sqlText);
      this.#statements.set(sqlText, cached);
      return cached;
    }
    const statement = this.#database.prepare(sqlText);
    // A statement that returns columns is a reader: SELECT, PRAGMA, or a write with RETURNING.
    // Asked once: columns() describes every column afresh on each call.
    const prepared = { statement, reader: statement.columns().length > 0 };
    this.#statements.set(sqlText, prepared);
    if (this.#statements.size > this.#cacheSize) {
      const oldest = this.#statements.keys().next();
      if (oldest.done !== true) this.#statements.delete(oldest.value);
    }
    return prepared;
  }

  /** Runs a statement without parameters or results (transaction control, PRAGMAs). */
  exec(sqlText: string): void {
    this.#database.exec(sqlText);
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    // node:sqlite is synchronous; the promise only carries the result or the exception.
    return new Promise((resolve) => {
      const { statement, reader } = this.#prepare(compiledQuery.sql);
      const parameters = compiledQuery.parameters.map(toSqliteValue);
      if (reader) {
        resolve({ rows: statement.all(...parameters) as R[] });
        return;
      }
      const { changes, lastInsertRowid } = statement.run(...parameters);
      resolve({ rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) });
    });
  }

  // node:sqlite is synchronous: nothing to await, but Kysely's interface is an async iterator.
  // eslint-disable-next-line @typescript-eslint/require-await
  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize = 100,
  ): AsyncIterableIterator<QueryResult<R>> {
    const { statement, reader } = this.#prepare(compiledQuery.sql);
    if (!reader) {
      throw new ServiceError('DB_QUERY_FAILED', 'only statements that return rows can be streamed');
    }
    // The connection stays acquired (the mutex held) until the stream ends or is abandoned.
    const iterator = statement.iterate(...compiledQuery.parameters.map(toSqliteValue));
    try {
      let rows: R[] = [];
      for (const row of iterator) {
        rows.push(row as R);
        if (rows.length >= chunkSize) {
          yield { rows };
          rows = [];
        }
      }
      if (rows.length > 0) yield { rows };
    } finally {
      iterator.return?.();
    }
  }

  close(): void {
    this.#statements.clear();
    this.#database.close();
  }
}

/** Booleans are stored as 0/1; anything else node:sqlite cannot bind is a programming error. */
function toSqliteValue(value: unknown): SQLInputValue {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'string' ||
    value instanceof Uint8Array
  ) {
    return value;
  }
  throw new ServiceError('DB_QUERY_FAILED', `a ${typeof value} cannot be stored in SQLite`);
}
