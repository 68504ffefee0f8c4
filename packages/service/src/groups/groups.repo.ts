import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { chunked, MAX_BOUND_PARAMETERS } from '../db/backend.ts';
import { withDatabaseErrors } from '../db/database-errors.ts';
import type { Database, DeviceGroupsTable } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';

/**
 * Products and device groups, the minimal part attestation needs (security renewal extends
 * them): every tenant gets a default product with Azure Sphere's five default groups, and a
 * claimed device joins that product's Field Test group until someone moves it.
 */
export type OsFeed = 'Retail' | 'RetailEval';
export type UpdatePolicy = 'all-updates' | 'no-app-updates';

export const DEFAULT_PRODUCT_NAME = 'Default product';
export const DEFAULT_GROUP_NAME = 'Field Test';

export const DEFAULT_GROUPS: readonly { name: string; osFeed: OsFeed; updatePolicy: UpdatePolicy }[] = [
  { name: 'Development', osFeed: 'Retail', updatePolicy: 'no-app-updates' },
  { name: 'Field Test', osFeed: 'Retail', updatePolicy: 'all-updates' },
  { name: 'Production', osFeed: 'Retail', updatePolicy: 'all-updates' },
  { name: 'Production OS Evaluation', osFeed: 'RetailEval', updatePolicy: 'all-updates' },
  { name: 'Field Test OS Evaluation', osFeed: 'RetailEval', updatePolicy: 'all-updates' },
];

export interface DeviceGroup {
  readonly id: string;
  readonly tenantId: string;
  readonly productId: string;
  readonly name: string;
  readonly osFeed: OsFeed;
  readonly updatePolicy: UpdatePolicy;
  /** A tenant's own raise of the feed's minimum OS security version, if any. */
  readonly minOsSecurityVersion: number | null;
}

function toGroup(row: Selectable<DeviceGroupsTable>): DeviceGroup {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    productId: row.product_id,
    name: row.name,
    osFeed: row.os_feed as OsFeed,
    updatePolicy: row.update_policy as UpdatePolicy,
    minOsSecurityVersion: row.min_os_security_version,
  };
}

/** Creates the tenant's default product and its five groups; call inside tenant creation. */
export async function createDefaultProduct(
  db: Kysely<Database>,
  tenantId: string,
  now: number,
): Promise<void> {
  const productId = randomUUID();
  await withDatabaseErrors(async () => {
    await db
      .insertInto('products')
      .values({ id: productId, tenant_id: tenantId, name: DEFAULT_PRODUCT_NAME, created_at: now })
      .execute();
    await db
      .insertInto('device_groups')
      .values(
        DEFAULT_GROUPS.map((group) => ({
          id: randomUUID(),
          tenant_id: tenantId,
          product_id: productId,
          name: group.name,
          os_feed: group.osFeed,
          update_policy: group.updatePolicy,
          min_os_security_version: null,
          created_at: now,
        })),
      )
      .execute();
  });
}

export async function listTenantGroups(db: Kysely<Database>, tenantId: string): Promise<DeviceGroup[]> {
  const rows = await withDatabaseErrors(() =>
    db.selectFrom('device_groups').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute(),
  );
  return rows.map(toGroup);
}

export async function findTenantGroup(
  db: Kysely<Database>,
  tenantId: string,
  groupId: string,
): Promise<DeviceGroup | undefined> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('device_groups')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', groupId)
      .executeTakeFirst(),
  );
  return row === undefined ? undefined : toGroup(row);
}

/** The group newly claimed devices join: the default product's Field Test group. */
export async function findDefaultGroup(db: Kysely<Database>, tenantId: string): Promise<DeviceGroup> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('device_groups')
      .innerJoin('products', 'products.id', 'device_groups.product_id')
      .selectAll('device_groups')
      .where('device_groups.tenant_id', '=', tenantId)
      .where('products.name', '=', DEFAULT_PRODUCT_NAME)
      .where('device_groups.name', '=', DEFAULT_GROUP_NAME)
      .executeTakeFirst(),
  );
  if (row === undefined) throw new ServiceError('GROUP_NOT_FOUND', 'the tenant has no default group');
  return toGroup(row);
}

/** Moves devices of a tenant into one of its groups. */
export async function setDevicesGroup(
  db: Kysely<Database>,
  tenantId: string,
  deviceIds: readonly string[],
  groupId: string,
): Promise<void> {
  for (const batch of chunked(deviceIds, MAX_BOUND_PARAMETERS)) {
    await withDatabaseErrors(() =>
      db
        .updateTable('devices')
        .set({ group_id: groupId })
        .where('tenant_id', '=', tenantId)
        .where('device_id', 'in', batch)
        .execute(),
    );
  }
}

/** A tenant raises (never lowers below the feed's) the minimum OS security version of a group. */
export async function setGroupMinimumOsSecurityVersion(
  db: Kysely<Database>,
  tenantId: string,
  groupId: string,
  minimum: number | null,
): Promise<DeviceGroup> {
  const row = await withDatabaseErrors(() =>
    db
      .updateTable('device_groups')
      .set({ min_os_security_version: minimum })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', groupId)
      .returningAll()
      .executeTakeFirst(),
  );
  if (row === undefined) throw new ServiceError('GROUP_NOT_FOUND', 'no such group in this tenant');
  return toGroup(row);
}
