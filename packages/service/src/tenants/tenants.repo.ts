import type { Kysely, Selectable } from 'kysely';
import { ServiceError } from '../errors.ts';
import { isUniqueViolation, withDatabaseErrors } from '../db/database-errors.ts';
import { assertPageLimit } from '../db/paging.ts';
import type { Database, TenantsTable } from '../db/schema.ts';

/** Most tenants one listing returns. */
export const MAX_TENANT_PAGE = 1000;

export interface Tenant {
  readonly id: string;
  readonly name: string;
  /** Milliseconds since the Unix epoch. */
  readonly createdAt: number;
}

export interface ListTenantsOptions {
  /** Only tenants whose ID sorts after this one (keyset pagination). */
  readonly afterId?: string;
  readonly limit: number;
}

function toTenant(row: Selectable<TenantsTable>): Tenant {
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

/** Inserts a tenant; TENANT_EXISTS if the ID is taken. */
export async function insertTenant(db: Kysely<Database>, tenant: Tenant): Promise<Tenant> {
  await withDatabaseErrors(
    () =>
      db
        .insertInto('tenants')
        .values({ id: tenant.id, name: tenant.name, created_at: tenant.createdAt })
        .execute(),
    (failure) =>
      isUniqueViolation(failure, 'tenants', ['id'])
        ? new ServiceError('TENANT_EXISTS', 'a tenant with that ID already exists')
        : undefined,
  );
  return { ...tenant };
}

export async function findTenant(db: Kysely<Database>, id: string): Promise<Tenant | undefined> {
  const row = await withDatabaseErrors(() =>
    db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst(),
  );
  return row === undefined ? undefined : toTenant(row);
}

/** Like findTenant, but TENANT_NOT_FOUND instead of undefined. */
export async function getTenant(db: Kysely<Database>, id: string): Promise<Tenant> {
  const tenant = await findTenant(db, id);
  if (tenant === undefined) throw new ServiceError('TENANT_NOT_FOUND', 'no tenant has that ID');
  return tenant;
}

/** Every tenant, by ID, a page at a time (for platform operators). */
export async function listTenants(db: Kysely<Database>, options: ListTenantsOptions): Promise<Tenant[]> {
  assertPageLimit(options.limit, MAX_TENANT_PAGE);
  const rows = await withDatabaseErrors(() => {
    let query = db.selectFrom('tenants').selectAll().orderBy('id').limit(options.limit);
    if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
    return query.execute();
  });
  return rows.map(toTenant);
}

/** Renames a tenant; TENANT_NOT_FOUND if there is none with that ID. */
export async function renameTenant(db: Kysely<Database>, id: string, name: string): Promise<Tenant> {
  const row = await withDatabaseErrors(() =>
    db.updateTable('tenants').set({ name }).where('id', '=', id).returningAll().executeTakeFirst(),
  );
  if (row === undefined) throw new ServiceError('TENANT_NOT_FOUND', 'no tenant has that ID');
  return toTenant(row);
}
