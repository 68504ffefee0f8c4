import { PostgresAdapter, type Kysely, type Transaction } from 'kysely';

/** The two storage backends. Repository code is the same for both; these few helpers differ. */
export type DatabaseDialect = 'sqlite' | 'postgres';

/** Which backend `db` (a Kysely instance or a transaction) runs on. */
export function dialectOf(db: Pick<Kysely<unknown>, 'getExecutor'>): DatabaseDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** The column type for binary values: BYTEA on PostgreSQL, BLOB on SQLite. */
export function binaryColumnType(db: Pick<Kysely<unknown>, 'getExecutor'>): 'bytea' | 'blob' {
  return dialectOf(db) === 'postgres' ? 'bytea' : 'blob';
}

/**
 * Runs `work` in a transaction: the caller's, if `db` already is one (so a repository call
 * can be part of a larger atomic change), else a new one that commits when `work` resolves.
 */
export async function withTransaction<DB, T>(
  db: Kysely<DB> | Transaction<DB>,
  work: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  if (db.isTransaction) return work(db as Transaction<DB>);
  return db.transaction().execute(work);
}

/**
 * Most values bound in one statement by repositories. SQLite allows 32,766 and PostgreSQL
 * 65,535; staying far below keeps statements small and the statement cache useful.
 */
export const MAX_BOUND_PARAMETERS = 900;

/** `items` in consecutive slices of at most `size`. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
