import { sql, type Kysely } from 'kysely';

/*
 * A one-row summary of the OS releases that attestation reads with every device: a revision
 * that every change to os_releases raises (in the same transaction), so a replica's in-memory
 * copy of the reference measurements knows when it is stale, and the highest OS security
 * version released, so "current" needs no aggregate over all releases.
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
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('os_reference').execute();
}
