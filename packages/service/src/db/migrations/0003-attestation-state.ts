import { sql, type Kysely } from 'kysely';

/*
 * What attestation reads and writes with every device, shaped so that one query reads it and
 * one row update writes it (ADR 0007):
 *
 * - os_reference, one row: a revision that every change to os_releases raises in the same
 *   transaction, so a replica's in-memory copy of the reference measurements knows when it is
 *   stale, and the highest OS security version released, so "current" needs no aggregate.
 * - The device's current certificate (serial, result class, validity) in its own row, beside
 *   the boot state written by the same statement. The certificates table, one row per
 *   issuance with two random-key indexes, goes: it was written on every attestation, read by
 *   nothing, and would grow by a fleet's size every day.
 */

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('os_reference')
    .addColumn('id', 'integer', (column) => column.primaryKey())
    .addColumn('revision', 'bigint', (column) => column.notNull())
    .addColumn('latest_os_security_version', 'integer', (column) => column.notNull())
    .addCheckConstraint('os_reference_one_row', sql`id = 1`)
    .execute();
  await sql`
    insert into os_reference (id, revision, latest_os_security_version)
    select 1, count(*), coalesce(max(case when kind = 'os' then security_version end), 0)
    from os_releases
  `.execute(db);

  for (const [name, type] of [
    ['certificate_serial', 'text'],
    ['certificate_result_class', 'text'],
    ['certificate_not_before', 'bigint'],
    ['certificate_not_after', 'bigint'],
  ] as const) {
    await db.schema.alterTable('devices').addColumn(name, type).execute();
  }
  await db.schema.dropTable('certificates').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('certificates')
    .addColumn('serial', 'text', (column) => column.primaryKey())
    .addColumn('device_id', 'text', (column) => column.notNull().references('devices.device_id'))
    .addColumn('tenant_id', 'text', (column) => column.notNull().references('tenants.id'))
    .addColumn('result_class', 'text', (column) => column.notNull())
    .addColumn('not_before', 'bigint', (column) => column.notNull())
    .addColumn('not_after', 'bigint', (column) => column.notNull())
    .addColumn('issued_at', 'bigint', (column) => column.notNull())
    .addCheckConstraint(
      'certificates_result_class_check',
      sql`result_class in ('trusted', 'development', 'update-only')`,
    )
    .execute();
  await db.schema.createIndex('certificates_device_idx').on('certificates').column('device_id').execute();
  for (const name of [
    'certificate_serial',
    'certificate_result_class',
    'certificate_not_before',
    'certificate_not_after',
  ]) {
    await db.schema.alterTable('devices').dropColumn(name).execute();
  }
  await db.schema.dropTable('os_reference').execute();
}
