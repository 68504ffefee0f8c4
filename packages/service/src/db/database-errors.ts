import { OrbisError } from '@orbis/protocol';
import { ServiceError } from '../errors.ts';

/**
 * What went wrong in the database, in terms both backends share. Repositories map `unique`
 * violations on known columns to their own codes; everything else becomes a DB_* code whose
 * message never carries SQL, values or driver text (those stay in `cause`, for the log).
 */
export type DatabaseFailureKind =
  'unique' | 'foreign-key' | 'check' | 'not-null' | 'busy' | 'unavailable' | 'other';

export interface DatabaseFailure {
  readonly kind: DatabaseFailureKind;
  /** The table the violated constraint belongs to, when the driver says. */
  readonly table: string | undefined;
  /** The constrained columns, unqualified, when the driver says (SQLite omits them for foreign keys). */
  readonly columns: readonly string[];
}

// SQLite extended result codes (https://sqlite.org/rescode.html).
const SQLITE_CONSTRAINT_KINDS: ReadonlyMap<number, DatabaseFailureKind> = new Map([
  [2067, 'unique'], // SQLITE_CONSTRAINT_UNIQUE
  [1555, 'unique'], // SQLITE_CONSTRAINT_PRIMARYKEY
  [787, 'foreign-key'], // SQLITE_CONSTRAINT_FOREIGNKEY
  [275, 'check'], // SQLITE_CONSTRAINT_CHECK
  [1299, 'not-null'], // SQLITE_CONSTRAINT_NOTNULL
]);
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

// PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const POSTGRES_KINDS: ReadonlyMap<string, DatabaseFailureKind> = new Map([
  ['23505', 'unique'],
  ['23503', 'foreign-key'],
  ['23514', 'check'],
  ['23502', 'not-null'],
  ['40001', 'busy'], // serialization_failure
  ['40P01', 'busy'], // deadlock_detected
  ['55P03', 'busy'], // lock_not_available
  ['53300', 'unavailable'], // too_many_connections
  ['57P01', 'unavailable'], // admin_shutdown
  ['57P03', 'unavailable'], // cannot_connect_now
  ['3D000', 'unavailable'], // invalid_catalog_name: the database does not exist
  ['28000', 'unavailable'], // invalid_authorization_specification
  ['28P01', 'unavailable'], // invalid_password
]);
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
]);

function property(error: object, name: string): unknown {
  return (error as Record<string, unknown>)[name];
}

function stringProperty(error: object, name: string): string | undefined {
  const value = property(error, name);
  return typeof value === 'string' ? value : undefined;
}

function classifySqlite(error: object, errcode: number): DatabaseFailure {
  const kind = SQLITE_CONSTRAINT_KINDS.get(errcode);
  if (kind !== undefined) {
    // "UNIQUE constraint failed: memberships.user_id, memberships.tenant_id"
    const message = error instanceof Error ? error.message : '';
    const qualified = /constraint failed: (.+)$/.exec(message)?.[1]?.split(', ') ?? [];
    const table = qualified[0]?.split('.')[0];
    const columns = qualified.map((name) => name.slice(name.indexOf('.') + 1));
    return { kind, table, columns };
  }
  const primary = errcode & 0xff;
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED)
    return { kind: 'busy', table: undefined, columns: [] };
  if (primary === SQLITE_CANTOPEN || primary === SQLITE_NOTADB) {
    return { kind: 'unavailable', table: undefined, columns: [] };
  }
  return { kind: 'other', table: undefined, columns: [] };
}

function classifyPostgres(error: object, sqlState: string): DatabaseFailure {
  const kind = POSTGRES_KINDS.get(sqlState) ?? (sqlState.startsWith('08') ? 'unavailable' : 'other');
  // detail: 'Key (user_id, tenant_id)=(…) already exists.'
  const keyList = /^Key \(([^)]*)\)=/.exec(stringProperty(error, 'detail') ?? '')?.[1];
  const columns = keyList === undefined ? [] : keyList.split(', ');
  return { kind, table: stringProperty(error, 'table'), columns };
}

/** Never throws: what kind of database failure `error` is, from node:sqlite's or pg's fields. */
export function classifyDatabaseError(error: unknown): DatabaseFailure {
  if (typeof error !== 'object' || error === null) return { kind: 'other', table: undefined, columns: [] };
  const errcode = property(error, 'errcode');
  if (stringProperty(error, 'code') === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') {
    return classifySqlite(error, errcode);
  }
  const code = stringProperty(error, 'code');
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code) && property(error, 'severity') !== undefined) {
    return classifyPostgres(error, code);
  }
  if (code !== undefined && NETWORK_ERROR_CODES.has(code))
    return { kind: 'unavailable', table: undefined, columns: [] };
  // pg's "Connection terminated unexpectedly"; Kysely's "driver has already been destroyed".
  if (
    error instanceof Error &&
    /^Connection terminated|^driver has already been destroyed/.test(error.message)
  ) {
    return { kind: 'unavailable', table: undefined, columns: [] };
  }
  return { kind: 'other', table: undefined, columns: [] };
}

/** Whether `failure` is a unique violation on exactly these columns of `table`. */
export function isUniqueViolation(
  failure: DatabaseFailure,
  table: string,
  columns: readonly string[],
): boolean {
  return (
    failure.kind === 'unique' &&
    failure.table === table &&
    failure.columns.length === columns.length &&
    columns.every((column) => failure.columns.includes(column))
  );
}

/** A specific error for a failure a repository recognises, or undefined to use the generic code. */
export type DatabaseErrorMapper = (failure: DatabaseFailure) => ServiceError | undefined;

/**
 * Turns anything thrown by a query into an OrbisError: Orbis errors pass through unchanged,
 * recognised failures get the repository's code, the rest a DB_* code with a fixed message.
 */
export function toServiceError(error: unknown, mapper?: DatabaseErrorMapper): OrbisError {
  if (error instanceof OrbisError) return error as OrbisError;
  const failure = classifyDatabaseError(error);
  const specific = mapper?.(failure);
  if (specific !== undefined) return specific;
  switch (failure.kind) {
    case 'unique':
    case 'foreign-key':
    case 'check':
    case 'not-null':
      return new ServiceError('DB_CONSTRAINT_VIOLATION', 'the change conflicts with stored data', {
        cause: error,
      });
    case 'busy':
      return new ServiceError('DB_BUSY', 'the database is busy; retry', { cause: error });
    case 'unavailable':
      return new ServiceError('DB_UNAVAILABLE', 'the database is unavailable', { cause: error });
    case 'other':
      return new ServiceError('DB_QUERY_FAILED', 'a database query failed', { cause: error });
  }
}

/** Runs `work`, rethrowing any failure through `toServiceError`. */
export async function withDatabaseErrors<T>(
  work: () => Promise<T>,
  mapper?: DatabaseErrorMapper,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toServiceError(error, mapper);
  }
}
