import { sql, type Kysely } from 'kysely';

/*
 * A nonce's single use, recorded in the device's own row (ADR 0009): `last_nonce_at` is the
 * issue time (ms) of the newest nonce an admitted attestation of the device used, and a nonce
 * is accepted only if it is newer. It replaces `nonces_used`, one row per attestation, which
 * cost every attestation an insert into a random-keyed index and needed pruning.
 *
 * The mark starts at the latest use recorded for each device: a use happens after its nonce
 * was issued, so every nonce used before the migration stays spent (a nonce issued but not yet
 * used is refused too, and its device simply asks again).
 */

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('devices').addColumn('last_nonce_at', 'bigint').execute();
  await sql`
    update devices set last_nonce_at = (
      select max(n.used_at) from nonces_used n where n.device_id = devices.device_id
    )
  `.execute(db);
  await db.schema.dropTable('nonces_used').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('nonces_used')
    .addColumn('nonce', 'text', (column) => column.primaryKey())
    .addColumn('device_id', 'text', (column) => column.notNull())
    .addColumn('used_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('nonces_used_used_at_idx').on('nonces_used').column('used_at').execute();
  await db.schema.alterTable('devices').dropColumn('last_nonce_at').execute();
}
