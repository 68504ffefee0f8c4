import type { Kysely, Selectable } from 'kysely';
import { ServiceError } from '../errors.ts';
import { withTransaction } from '../db/backend.ts';
import { isUniqueViolation, withDatabaseErrors } from '../db/database-errors.ts';
import { assertPageLimit } from '../db/paging.ts';
import type { Database, MembershipRole, TokensTable } from '../db/schema.ts';

/** Most tokens one listing returns. */
export const MAX_TOKEN_PAGE = 1000;
/**
 * last_used_at is written at most this often per token, in ms: precise enough to spot an
 * unused token, without a database write on every request.
 */
export const TOKEN_LAST_USED_GRANULARITY_MS = 60_000;

interface TokenBase {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
}

/** A person's login: acts as the user, in every tenant the user is a member of. */
export interface SessionToken extends TokenBase {
  readonly kind: 'session';
  readonly userId: string;
}

/** A tool's token: acts in one tenant with one role. Deleting its creator deletes it. */
export interface ApiToken extends TokenBase {
  readonly kind: 'api';
  readonly tenantId: string;
  readonly role: MembershipRole;
  /** The user who created it, if any. */
  readonly userId: string | null;
}

/** A stored token; never carries the secret or its hash. */
export type Token = SessionToken | ApiToken;

/** What insertToken stores: the token without its usage fields, plus the SHA-256 (hex) of its secret. */
export type NewToken = (
  Omit<SessionToken, 'revokedAt' | 'lastUsedAt'> | Omit<ApiToken, 'revokedAt' | 'lastUsedAt'>
) & { readonly tokenHash: string };

export interface ListTenantTokensOptions {
  /** Expiry is judged at this time (ms since the epoch). */
  readonly now: number;
  /** Also list revoked and expired tokens. */
  readonly includeInactive?: boolean;
  readonly afterId?: string;
  readonly limit: number;
}

function toToken(row: Selectable<TokensTable>): Token {
  const base = {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
  if (row.kind === 'api' && row.tenant_id !== null && row.role !== null) {
    return { ...base, kind: 'api', tenantId: row.tenant_id, role: row.role, userId: row.user_id };
  }
  if (row.kind === 'session' && row.user_id !== null)
    return { ...base, kind: 'session', userId: row.user_id };
  // The tokens_kind_check constraint makes this unreachable; refuse rather than guess.
  throw new ServiceError('DB_QUERY_FAILED', 'a stored token has an impossible shape');
}

/**
 * Stores a new token. USER_NOT_FOUND or TENANT_NOT_FOUND if what it refers to is missing,
 * TOKEN_EXISTS if its ID or secret hash is taken.
 */
export async function insertToken(db: Kysely<Database>, token: NewToken): Promise<Token> {
  const values =
    token.kind === 'session'
      ? { user_id: token.userId, tenant_id: null, role: null }
      : { user_id: token.userId, tenant_id: token.tenantId, role: token.role };
  return withDatabaseErrors(
    () =>
      withTransaction(db, async (trx) => {
        if (values.user_id !== null) {
          const user = await trx
            .selectFrom('users')
            .select('id')
            .where('id', '=', values.user_id)
            .executeTakeFirst();
          if (user === undefined) throw new ServiceError('USER_NOT_FOUND', 'no user has that ID');
        }
        if (values.tenant_id !== null) {
          const tenant = await trx
            .selectFrom('tenants')
            .select('id')
            .where('id', '=', values.tenant_id)
            .executeTakeFirst();
          if (tenant === undefined) throw new ServiceError('TENANT_NOT_FOUND', 'no tenant has that ID');
        }
        const row = await trx
          .insertInto('tokens')
          .values({
            id: token.id,
            token_hash: token.tokenHash,
            kind: token.kind,
            ...values,
            name: token.name,
            created_at: token.createdAt,
            expires_at: token.expiresAt,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toToken(row);
      }),
    (failure) =>
      isUniqueViolation(failure, 'tokens', ['id']) || isUniqueViolation(failure, 'tokens', ['token_hash'])
        ? new ServiceError('TOKEN_EXISTS', 'a token with that ID or secret already exists')
        : undefined,
  );
}

/** The token whose secret hashes to `tokenHash`, if it is neither revoked nor expired at `now`. */
export async function findActiveTokenByHash(
  db: Kysely<Database>,
  tokenHash: string,
  now: number,
): Promise<Token | undefined> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst(),
  );
  return row === undefined ? undefined : toToken(row);
}

/**
 * Revokes a token at `now`, only within `scope` when given (a tenant's API token, a user's
 * session). True if it was unrevoked; false if there is no such token or it was revoked already.
 */
export async function revokeToken(
  db: Kysely<Database>,
  id: string,
  now: number,
  scope: { readonly tenantId?: string; readonly userId?: string } = {},
): Promise<boolean> {
  const result = await withDatabaseErrors(() => {
    let query = db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null);
    if (scope.tenantId !== undefined) query = query.where('tenant_id', '=', scope.tenantId);
    if (scope.userId !== undefined) query = query.where('user_id', '=', scope.userId);
    return query.executeTakeFirst();
  });
  return result.numUpdatedRows > 0n;
}

/** Revokes every unrevoked session of a user (password change, "log out everywhere"); returns how many. */
export async function revokeUserSessions(db: Kysely<Database>, userId: string, now: number): Promise<number> {
  const result = await withDatabaseErrors(() =>
    db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('kind', '=', 'session')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst(),
  );
  return Number(result.numUpdatedRows);
}

/** A tenant's API tokens, by ID, a page at a time; active ones only unless asked. */
export async function listTenantTokens(
  db: Kysely<Database>,
  tenantId: string,
  options: ListTenantTokensOptions,
): Promise<ApiToken[]> {
  assertPageLimit(options.limit, MAX_TOKEN_PAGE);
  const rows = await withDatabaseErrors(() => {
    let query = db
      .selectFrom('tokens')
      .selectAll()
      .where('kind', '=', 'api')
      .where('tenant_id', '=', tenantId)
      .orderBy('id')
      .limit(options.limit);
    if (options.includeInactive !== true) {
      query = query.where('revoked_at', 'is', null).where('expires_at', '>', options.now);
    }
    if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
    return query.execute();
  });
  return rows.map(toToken).filter((token): token is ApiToken => token.kind === 'api');
}

/** Records that a token was used at `now`, at most once per TOKEN_LAST_USED_GRANULARITY_MS. */
export async function touchToken(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await withDatabaseErrors(() =>
    db
      .updateTable('tokens')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb('last_used_at', 'is', null),
          eb('last_used_at', '<=', now - TOKEN_LAST_USED_GRANULARITY_MS),
        ]),
      )
      .execute(),
  );
}

/** Deletes tokens that expired before `cutoff` (housekeeping); returns how many. */
export async function deleteTokensExpiredBefore(db: Kysely<Database>, cutoff: number): Promise<number> {
  const result = await withDatabaseErrors(() =>
    db.deleteFrom('tokens').where('expires_at', '<', cutoff).executeTakeFirst(),
  );
  return Number(result.numDeletedRows);
}
