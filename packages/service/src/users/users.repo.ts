import type { Kysely, Selectable } from 'kysely';
import { ServiceError } from '../errors.ts';
import { withTransaction } from '../db/backend.ts';
import { isUniqueViolation, withDatabaseErrors, type DatabaseFailure } from '../db/database-errors.ts';
import { assertPageLimit } from '../db/paging.ts';
import type { Database, MembershipRole, MembershipsTable, UsersTable } from '../db/schema.ts';

/** Most users or memberships one listing returns. */
export const MAX_MEMBERSHIP_PAGE = 1000;

/** A user as the rest of the service sees it: no password hash. */
export interface User {
  readonly id: string;
  readonly email: string;
  readonly isPlatformOperator: boolean;
  readonly createdAt: number;
}

export interface NewUser extends User {
  readonly passwordHash: string;
}

export interface UserCredentials {
  readonly user: User;
  readonly passwordHash: string;
}

export interface Membership {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: MembershipRole;
  readonly createdAt: number;
}

export interface TenantMember extends Membership {
  readonly email: string;
}

export interface MembershipKey {
  readonly userId: string;
  readonly tenantId: string;
}

/**
 * How emails are stored and compared: NFC (so composed and decomposed forms are one address),
 * then lowercased, so the unique index makes addresses unique case-insensitively.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFC').toLowerCase();
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    isPlatformOperator: row.is_platform_operator === 1,
    createdAt: row.created_at,
  };
}

function toMembership(row: Selectable<MembershipsTable>): Membership {
  return { userId: row.user_id, tenantId: row.tenant_id, role: row.role, createdAt: row.created_at };
}

function userConflict(failure: DatabaseFailure): ServiceError | undefined {
  if (isUniqueViolation(failure, 'users', ['email'])) {
    return new ServiceError('USER_EMAIL_EXISTS', 'a user with that email address already exists');
  }
  if (isUniqueViolation(failure, 'users', ['id'])) {
    return new ServiceError('USER_EXISTS', 'a user with that ID already exists');
  }
  return undefined;
}

/** Inserts a user (email normalised); USER_EMAIL_EXISTS or USER_EXISTS on a clash. */
export async function insertUser(db: Kysely<Database>, user: NewUser): Promise<User> {
  const row = await withDatabaseErrors(
    () =>
      db
        .insertInto('users')
        .values({
          id: user.id,
          email: normalizeEmail(user.email),
          password_hash: user.passwordHash,
          is_platform_operator: user.isPlatformOperator ? 1 : 0,
          created_at: user.createdAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    userConflict,
  );
  return toUser(row);
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<User | undefined> {
  const row = await withDatabaseErrors(() =>
    db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst(),
  );
  return row === undefined ? undefined : toUser(row);
}

export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<User | undefined> {
  return (await findUserCredentials(db, email))?.user;
}

/** The user and password hash for a login, found by email (normalised). */
export async function findUserCredentials(
  db: Kysely<Database>,
  email: string,
): Promise<UserCredentials | undefined> {
  const row = await withDatabaseErrors(() =>
    db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst(),
  );
  return row === undefined ? undefined : { user: toUser(row), passwordHash: row.password_hash };
}

/** Replaces a user's password hash; USER_NOT_FOUND if there is no such user. */
export async function setUserPasswordHash(
  db: Kysely<Database>,
  id: string,
  passwordHash: string,
): Promise<void> {
  const result = await withDatabaseErrors(() =>
    db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).executeTakeFirst(),
  );
  if (result.numUpdatedRows === 0n) throw new ServiceError('USER_NOT_FOUND', 'no user has that ID');
}

/** How many users exist (first-time setup is open only while there are none). */
export async function countUsers(db: Kysely<Database>): Promise<number> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow(),
  );
  return row.count;
}

/**
 * Makes a user a member of a tenant. USER_NOT_FOUND or TENANT_NOT_FOUND if either is missing
 * (checked first: SQLite does not say which foreign key failed), USER_MEMBERSHIP_EXISTS if
 * the user already is a member.
 */
export async function insertMembership(db: Kysely<Database>, membership: Membership): Promise<Membership> {
  return withDatabaseErrors(
    () =>
      withTransaction(db, async (trx) => {
        const user = await trx
          .selectFrom('users')
          .select('id')
          .where('id', '=', membership.userId)
          .executeTakeFirst();
        if (user === undefined) throw new ServiceError('USER_NOT_FOUND', 'no user has that ID');
        const tenant = await trx
          .selectFrom('tenants')
          .select('id')
          .where('id', '=', membership.tenantId)
          .executeTakeFirst();
        if (tenant === undefined) throw new ServiceError('TENANT_NOT_FOUND', 'no tenant has that ID');
        const row = await trx
          .insertInto('memberships')
          .values({
            user_id: membership.userId,
            tenant_id: membership.tenantId,
            role: membership.role,
            created_at: membership.createdAt,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toMembership(row);
      }),
    (failure) =>
      isUniqueViolation(failure, 'memberships', ['user_id', 'tenant_id'])
        ? new ServiceError('USER_MEMBERSHIP_EXISTS', 'the user is already a member of the tenant')
        : undefined,
  );
}

export async function findMembership(
  db: Kysely<Database>,
  key: MembershipKey,
): Promise<Membership | undefined> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('memberships')
      .selectAll()
      .where('user_id', '=', key.userId)
      .where('tenant_id', '=', key.tenantId)
      .executeTakeFirst(),
  );
  return row === undefined ? undefined : toMembership(row);
}

/** Changes a member's role; USER_MEMBERSHIP_NOT_FOUND if the user is not a member. */
export async function setMembershipRole(
  db: Kysely<Database>,
  key: MembershipKey,
  role: MembershipRole,
): Promise<Membership> {
  const row = await withDatabaseErrors(() =>
    db
      .updateTable('memberships')
      .set({ role })
      .where('user_id', '=', key.userId)
      .where('tenant_id', '=', key.tenantId)
      .returningAll()
      .executeTakeFirst(),
  );
  if (row === undefined)
    throw new ServiceError('USER_MEMBERSHIP_NOT_FOUND', 'the user is not a member of the tenant');
  return toMembership(row);
}

/** Removes a user from a tenant; USER_MEMBERSHIP_NOT_FOUND if the user is not a member. */
export async function deleteMembership(db: Kysely<Database>, key: MembershipKey): Promise<void> {
  const result = await withDatabaseErrors(() =>
    db
      .deleteFrom('memberships')
      .where('user_id', '=', key.userId)
      .where('tenant_id', '=', key.tenantId)
      .executeTakeFirst(),
  );
  if (result.numDeletedRows === 0n) {
    throw new ServiceError('USER_MEMBERSHIP_NOT_FOUND', 'the user is not a member of the tenant');
  }
}

/** A user's memberships, by tenant ID, a page at a time. */
export async function listUserMemberships(
  db: Kysely<Database>,
  userId: string,
  options: { readonly afterTenantId?: string; readonly limit: number },
): Promise<Membership[]> {
  assertPageLimit(options.limit, MAX_MEMBERSHIP_PAGE);
  const rows = await withDatabaseErrors(() => {
    let query = db
      .selectFrom('memberships')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('tenant_id')
      .limit(options.limit);
    if (options.afterTenantId !== undefined) query = query.where('tenant_id', '>', options.afterTenantId);
    return query.execute();
  });
  return rows.map(toMembership);
}

/** A tenant's members with their email addresses, by user ID, a page at a time. */
export async function listTenantMembers(
  db: Kysely<Database>,
  tenantId: string,
  options: { readonly afterUserId?: string; readonly limit: number },
): Promise<TenantMember[]> {
  assertPageLimit(options.limit, MAX_MEMBERSHIP_PAGE);
  const rows = await withDatabaseErrors(() => {
    let query = db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .selectAll('memberships')
      .select('users.email')
      .where('memberships.tenant_id', '=', tenantId)
      .orderBy('memberships.user_id')
      .limit(options.limit);
    if (options.afterUserId !== undefined)
      query = query.where('memberships.user_id', '>', options.afterUserId);
    return query.execute();
  });
  return rows.map((row) => ({ ...toMembership(row), email: row.email }));
}

/** How many Administrators a tenant has (so the last one cannot be removed or demoted). */
export async function countTenantAdministrators(db: Kysely<Database>, tenantId: string): Promise<number> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('tenant_id', '=', tenantId)
      .where('role', '=', 'Administrator')
      .executeTakeFirstOrThrow(),
  );
  return row.count;
}
