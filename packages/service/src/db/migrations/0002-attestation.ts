import { sql, type Kysely } from 'kysely';

/*
 * What attestation needs beyond the initial schema: the boot stage each OS-release measurement
 * belongs to and the release it is part of; the platform operator's per-feed minimum OS
 * security version (with the time from which it applies, the grace period); each device's
 * capability epoch; and security events for refused attestations.
 */

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('os_releases')
    .addColumn('kind', 'text', (column) => column.notNull().defaultTo('os'))
    .execute();
  await db.schema
    .alterTable('os_releases')
    .addColumn('release_version', 'text', (column) => column.notNull().defaultTo(''))
    .execute();

  await db.schema
    .createTable('os_feeds')
    .addColumn('feed', 'text', (column) => column.primaryKey())
    .addColumn('min_security_version', 'integer', (column) => column.notNull().defaultTo(0))
    /** The minimum applies from this time (ms); before it, devices below it are in grace. */
    .addColumn('min_effective_from', 'bigint', (column) => column.notNull().defaultTo(0))
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .addCheckConstraint('os_feeds_feed_check', sql`feed in ('Retail', 'RetailEval')`)
    .execute();

  await db.schema
    .alterTable('devices')
    .addColumn('capability_epoch', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('security_events')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('tenant_id', 'text')
    .addColumn('device_id', 'text', (column) => column.notNull())
    .addColumn('code', 'text', (column) => column.notNull())
    .addColumn('detail', 'text', (column) => column.notNull())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('security_events_tenant_idx')
    .on('security_events')
    .columns(['tenant_id', 'at'])
    .execute();
  await db.schema
    .createIndex('security_events_device_idx')
    .on('security_events')
    .columns(['device_id', 'at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('security_events').execute();
  await db.schema.alterTable('devices').dropColumn('capability_epoch').execute();
  await db.schema.dropTable('os_feeds').execute();
  await db.schema.alterTable('os_releases').dropColumn('release_version').execute();
  await db.schema.alterTable('os_releases').dropColumn('kind').execute();
}
