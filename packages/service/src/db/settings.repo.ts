import type { Kysely } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import type { Database } from './schema.ts';

/**
 * Service-wide settings, one text value per key: for example the SHA-256 of the one-time
 * setup token. Keys are chosen by the code that owns them, never by a request.
 */

export async function getSetting(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const row = await withDatabaseErrors(() =>
    db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst(),
  );
  return row?.value;
}

/** Sets a value, replacing any previous one. */
export async function putSetting(db: Kysely<Database>, key: string, value: string): Promise<void> {
  await withDatabaseErrors(() =>
    db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((conflict) => conflict.column('key').doUpdateSet({ value }))
      .execute(),
  );
}

/** Sets a value only if the key has none; true if this call set it (so two replicas cannot both). */
export async function insertSettingIfAbsent(
  db: Kysely<Database>,
  key: string,
  value: string,
): Promise<boolean> {
  const result = await withDatabaseErrors(() =>
    db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((conflict) => conflict.column('key').doNothing())
      .executeTakeFirst(),
  );
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/**
 * Deletes a key; with `ifValue`, only while it still holds that value. True if this call
 * deleted it: consuming a one-time secret this way succeeds for exactly one caller.
 */
export async function deleteSetting(
  db: Kysely<Database>,
  key: string,
  options: { readonly ifValue?: string } = {},
): Promise<boolean> {
  const result = await withDatabaseErrors(() => {
    let query = db.deleteFrom('settings').where('key', '=', key);
    if (options.ifValue !== undefined) query = query.where('value', '=', options.ifValue);
    return query.executeTakeFirst();
  });
  return result.numDeletedRows > 0n;
}
