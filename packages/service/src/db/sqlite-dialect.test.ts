import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, sql } from 'kysely';
import { NodeSqliteDialect, SQLITE_BUSY_TIMEOUT_MS } from './sqlite-dialect.ts';

interface TestDb {
  items: { id: number; name: string; data: Uint8Array | null; flag: number | null };
}

function itemsTable(db: Kysely<TestDb>): Promise<void> {
  return db.schema
    .createTable('items')
    .addColumn('id', 'integer', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('data', 'blob')
    .addColumn('flag', 'integer')
    .execute();
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('NodeSqliteDialect', () => {
  let directory: string;
  let db: Kysely<TestDb>;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'orbis-sqlite-dialect-'));
    db = new Kysely<TestDb>({ dialect: new NodeSqliteDialect({ path: join(directory, 'test.db') }) });
    await itemsTable(db);
  });

  after(async () => {
    await db.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  it('opens the file in WAL mode with synchronous=FULL, foreign keys and a busy timeout', async () => {
    const pragma = async (name: string) =>
      Object.values((await sql.raw<Record<string, unknown>>(`PRAGMA ${name}`).execute(db)).rows[0] ?? {})[0];
    assert.equal(await pragma('journal_mode'), 'wal');
    assert.equal(await pragma('synchronous'), 2); // FULL
    assert.equal(await pragma('foreign_keys'), 1);
    assert.equal(await pragma('busy_timeout'), SQLITE_BUSY_TIMEOUT_MS);
  });

  it('returns rows for readers, including RETURNING, and counts and row IDs for writes', async () => {
    const inserted = await db.insertInto('items').values({ id: 1, name: 'one' }).executeTakeFirst();
    assert.equal(inserted.numInsertedOrUpdatedRows, 1n);
    assert.equal(inserted.insertId, 1n);
    const returned = await db
      .insertInto('items')
      .values({ id: 2, name: 'two', data: Uint8Array.of(0, 1, 255) })
      .returningAll()
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      { ...returned, data: [...(returned.data ?? [])] },
      { id: 2, name: 'two', data: [0, 1, 255], flag: null },
    );
    const updated = await db.updateTable('items').set({ name: 'x' }).where('id', '<=', 2).executeTakeFirst();
    assert.equal(updated.numUpdatedRows, 2n);
    const rows = await db.selectFrom('items').select(['id', 'data']).orderBy('id').execute();
    assert.deepEqual(
      rows.map((row) => row.id),
      [1, 2],
    );
    assert.ok(rows[1]?.data instanceof Uint8Array);
    await db.deleteFrom('items').execute();
  });

  it('stores booleans as 0 and 1, and refuses values SQLite cannot hold', async () => {
    await sql`insert into items (id, name, flag) values (${10}, ${'t'}, ${true}), (${11}, ${'f'}, ${false})`.execute(
      db,
    );
    const flags = await db.selectFrom('items').select('flag').orderBy('id').execute();
    assert.deepEqual(
      flags.map((row) => row.flag),
      [1, 0],
    );
    await assert.rejects(sql`select ${new Date(0)} as d`.execute(db), { code: 'DB_QUERY_FAILED' });
    await db.deleteFrom('items').execute();
  });

  it('keeps working past the bounded statement cache', async () => {
    const small = new Kysely<TestDb>({
      dialect: new NodeSqliteDialect({ path: ':memory:', statementCacheSize: 2 }),
    });
    await itemsTable(small);
    for (let round = 0; round < 3; round++) {
      for (let id = 1; id <= 5; id++) {
        // Five different statements, so the cache of two keeps evicting.
        await sql.raw(`insert or replace into items (id, name) values (${id}, 'r${round}')`).execute(small);
      }
    }
    const names = await small.selectFrom('items').select('name').execute();
    assert.deepEqual(new Set(names.map((row) => row.name)), new Set(['r2']));
    await small.destroy();
  });

  it('does not interleave other queries into a transaction', async () => {
    const order: string[] = [];
    const transaction = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 20, name: 'in-transaction' }).execute();
      order.push('transaction wrote');
      await pause(30);
      order.push('transaction commits');
    });
    await pause(5);
    const outside = db
      .selectFrom('items')
      .select('id')
      .execute()
      .then((rows) => order.push(`outside read ${rows.length}`));
    await Promise.all([transaction, outside]);
    assert.deepEqual(order, ['transaction wrote', 'transaction commits', 'outside read 1']);
    await db.deleteFrom('items').execute();
  });

  it('rolls back a transaction that throws, and savepoints roll back only their part', async () => {
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ id: 30, name: 'lost' }).execute();
        throw new Error('abort');
      }),
      /abort/,
    );
    const trx = await db.startTransaction().execute();
    await trx.insertInto('items').values({ id: 31, name: 'kept' }).execute();
    const savepoint = await trx.savepoint('inner').execute();
    await savepoint.insertInto('items').values({ id: 32, name: 'undone' }).execute();
    await savepoint.rollbackToSavepoint('inner').execute();
    await trx.commit().execute();
    const ids = await db.selectFrom('items').select('id').execute();
    assert.deepEqual(
      ids.map((row) => row.id),
      [31],
    );
    await db.deleteFrom('items').execute();
  });

  it('enforces read-only transactions, then allows writes again', async () => {
    await assert.rejects(
      db
        .transaction()
        .setAccessMode('read only')
        .execute((trx) => trx.insertInto('items').values({ id: 40, name: 'no' }).execute()),
      { code: 'ERR_SQLITE_ERROR' },
    );
    await db.insertInto('items').values({ id: 41, name: 'yes' }).execute();
    await db.deleteFrom('items').execute();
  });

  it('streams a select in chunks', async () => {
    await db
      .insertInto('items')
      .values(Array.from({ length: 5 }, (_, index) => ({ id: 50 + index, name: `s${index}` })))
      .execute();
    const seen: number[] = [];
    for await (const row of db.selectFrom('items').select('id').orderBy('id').stream(2)) seen.push(row.id);
    assert.deepEqual(seen, [50, 51, 52, 53, 54]);
    await db.deleteFrom('items').execute();
  });

  it('refuses connections after it is closed, with DB_UNAVAILABLE', async () => {
    const driver = new NodeSqliteDialect({ path: ':memory:' }).createDriver();
    await driver.init();
    await driver.releaseConnection(await driver.acquireConnection());
    await driver.destroy();
    await assert.rejects(driver.acquireConnection(), { code: 'DB_UNAVAILABLE' });
  });

  it('leaves no half-written transaction behind when the writer is killed (SIGKILL)', async () => {
    const path = join(directory, 'crash.db');
    const setup = new DatabaseSync(path);
    setup.exec('PRAGMA journal_mode = WAL; CREATE TABLE batches (batch INTEGER, row INTEGER)');
    setup.close();
    // The child commits batches of 50 rows, one transaction each, until it is killed.
    const script = `
      const { Kysely } = await import('kysely');
      const { NodeSqliteDialect } = await import(${JSON.stringify(new URL('./sqlite-dialect.ts', import.meta.url).href)});
      const db = new Kysely({ dialect: new NodeSqliteDialect({ path: ${JSON.stringify(path)} }) });
      for (let batch = 0; ; batch++) {
        await db.transaction().execute(async (trx) => {
          for (let row = 0; row < 50; row++) await trx.insertInto('batches').values({ batch, row }).execute();
        });
        if (batch === 3) process.stdout.write('writing\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '--eval', script], {
      cwd: new URL('.', import.meta.url),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the writer exited early with ${String(code)}`)));
    });
    await pause(100);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const check = new DatabaseSync(path);
    assert.deepEqual({ ...check.prepare('PRAGMA integrity_check').get() }, { integrity_check: 'ok' });
    const batches = check.prepare('SELECT batch, count(*) AS n FROM batches GROUP BY batch').all();
    check.close();
    assert.ok(batches.length >= 4);
    for (const batch of batches) assert.equal(batch['n'], 50, `batch ${String(batch['batch'])} is whole`);
  });
});
