import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Migrator, sql, NO_MIGRATIONS } from 'kysely';
import { findTenant } from '../tenants/tenants.repo.ts';
import { migrationProvider } from './migrations/index.ts';
import { openDatabase, parseDatabaseUrl } from './database.ts';
import { createTestDatabase, forEachBackend, isPostgresSkipped } from './test-databases.ts';

const TABLES = [
  'audit_heads',
  'audit_log',
  'ca_certificates',
  'device_groups',
  'devices',
  'manufacturers',
  'memberships',
  'os_feeds',
  'os_reference',
  'os_releases',
  'products',
  'security_events',
  'settings',
  'tenants',
  'tokens',
  'users',
];

async function tableNames(url: string): Promise<string[]> {
  const handle = await openDatabase({ url });
  try {
    const tables = await handle.db.introspection.getTables();
    return tables.map((table) => table.name).filter((name) => !name.startsWith('orbis_migration'));
  } finally {
    await handle.close();
  }
}

describe('parseDatabaseUrl', () => {
  it('reads postgres:// and postgresql:// URLs as PostgreSQL', () => {
    assert.equal(parseDatabaseUrl('postgres://u@h/db').dialect, 'postgres');
    assert.equal(parseDatabaseUrl('postgresql://u@h/db').dialect, 'postgres');
  });

  it('reads paths, file: URLs and :memory: as SQLite', () => {
    assert.deepEqual(parseDatabaseUrl('/var/lib/orbis/orbis.db'), {
      dialect: 'sqlite',
      path: '/var/lib/orbis/orbis.db',
    });
    assert.deepEqual(parseDatabaseUrl('data/orbis.db'), { dialect: 'sqlite', path: 'data/orbis.db' });
    assert.deepEqual(parseDatabaseUrl('file:///tmp/o.db'), { dialect: 'sqlite', path: '/tmp/o.db' });
    assert.deepEqual(parseDatabaseUrl(':memory:'), { dialect: 'sqlite', path: ':memory:' });
  });

  it('refuses other schemes and the empty string rather than making a file of them', () => {
    for (const url of ['mysql://u@h/db', 'https://example.com/db', '', 'file://remote-host/x.db']) {
      assert.throws(() => parseDatabaseUrl(url), { code: 'DB_URL_INVALID' }, url);
    }
  });
});

describe('openDatabase', () => {
  it('creates a SQLite file, and its directory, readable by the owner only', async () => {
    const test = await createTestDatabase('sqlite');
    const url = join(test.url, '..', 'nested', 'dir', 'orbis.db');
    const handle = await openDatabase({ url });
    await handle.close();
    await handle.close(); // twice is fine
    assert.equal(statSync(url).mode & 0o777, 0o600);
    assert.equal(statSync(join(url, '..')).mode & 0o777, 0o700);
    await test.drop();
  });

  it('migrates an in-memory database (tests)', async () => {
    const handle = await openDatabase({ url: ':memory:' });
    assert.equal(handle.dialect, 'sqlite');
    assert.equal((await handle.db.selectFrom('tenants').selectAll().execute()).length, 0);
    await handle.close();
  });

  it('reports an unreachable PostgreSQL as DB_UNAVAILABLE, not a raw driver error', async () => {
    await assert.rejects(openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none' }), {
      code: 'DB_UNAVAILABLE',
    });
  });

  it('reports a file that is not a database as DB_UNAVAILABLE', async () => {
    const test = await createTestDatabase('sqlite');
    await assert.rejects(openDatabase({ url: join(test.url, '..') }), { code: 'DB_UNAVAILABLE' });
    await test.drop();
  });
});

forEachBackend('the database', (context) => {
  it('has every table of the migrations', async () => {
    assert.deepEqual((await tableNames(context.url)).sort(), TABLES);
  });

  it('opens an already migrated database again without change', async () => {
    const again = await openDatabase({ url: context.url });
    const migrations = await sql<{ name: string }>`select name from orbis_migration order by name`.execute(
      again.db,
    );
    assert.deepEqual(
      migrations.rows.map((row) => row.name),
      [
        '0001-initial',
        '0002-attestation',
        '0003-attestation-state',
        '0004-tpm-identity',
        '0005-nonce-high-water-mark',
      ],
    );
    await again.close();
  });

  it('reads BIGINT and count(*) as numbers and binary columns as Uint8Array', async () => {
    const at = 2 ** 50 + 1;
    await context.db.insertInto('tenants').values({ id: 't-bigint', name: 'x', created_at: at }).execute();
    const row = await context.db
      .selectFrom('tenants')
      .select(['created_at', (eb) => eb.fn.countAll<number>().as('count')])
      .where('id', '=', 't-bigint')
      .groupBy('created_at')
      .executeTakeFirstOrThrow();
    assert.equal(row.created_at, at);
    assert.equal(row.count, 1);
    const spki = Uint8Array.from({ length: 91 }, (_, index) => index);
    await context.db
      .insertInto('manufacturers')
      .values({ id: 'm-blob', name: 'blob', public_key_spki: spki, created_at: 1 })
      .execute();
    const stored = await context.db
      .selectFrom('manufacturers')
      .select('public_key_spki')
      .where('id', '=', 'm-blob')
      .executeTakeFirstOrThrow();
    assert.ok(stored.public_key_spki instanceof Uint8Array);
    assert.deepEqual([...stored.public_key_spki], [...spki]);
  });

  it('enforces foreign keys and check constraints', async () => {
    await assert.rejects(
      context.db
        .insertInto('memberships')
        .values({ user_id: 'nobody', tenant_id: 'nowhere', role: 'Reader', created_at: 1 })
        .execute(),
    );
    await context.db
      .insertInto('users')
      .values({ id: 'u-check', email: 'c@x', password_hash: 'h', is_platform_operator: 0, created_at: 1 })
      .execute();
    await context.db.insertInto('tenants').values({ id: 't-check', name: 'c', created_at: 1 }).execute();
    await assert.rejects(
      context.db
        .insertInto('memberships')
        .values({ user_id: 'u-check', tenant_id: 't-check', role: 'Owner' as 'Reader', created_at: 1 })
        .execute(),
    );
  });

  it('refuses a database migrated by a newer Orbis (an unknown migration) with DB_MIGRATION_FAILED', async () => {
    const test = await createTestDatabase(context.backend);
    const handle = await openDatabase({ url: test.url });
    await sql`insert into orbis_migration (name, timestamp) values ('9999-future', '2030-01-01T00:00:00.000Z')`.execute(
      handle.db,
    );
    await handle.close();
    await assert.rejects(openDatabase({ url: test.url }), { code: 'DB_MIGRATION_FAILED' });
    await test.drop();
  });

  it('undoes every migration completely', async () => {
    const test = await createTestDatabase(context.backend);
    const handle = await openDatabase({ url: test.url });
    const migrator = new Migrator({
      db: handle.db,
      provider: migrationProvider,
      migrationTableName: 'orbis_migration',
      migrationLockTableName: 'orbis_migration_lock',
    });
    const { error } = await migrator.migrateTo(NO_MIGRATIONS);
    assert.equal(error, undefined);
    const tables = await handle.db.introspection.getTables();
    assert.deepEqual(
      tables.map((table) => table.name).filter((name) => !name.startsWith('orbis_migration')),
      [],
    );
    await handle.close();
    await test.drop();
  });

  it('carries each device’s latest nonce use into its high-water mark on upgrade, so no nonce used before it can be replayed after it', async () => {
    const test = await createTestDatabase(context.backend);
    const handle = await openDatabase({ url: test.url });
    const migrator = new Migrator({
      db: handle.db,
      provider: migrationProvider,
      migrationTableName: 'orbis_migration',
      migrationLockTableName: 'orbis_migration_lock',
    });
    try {
      assert.equal((await migrator.migrateTo('0004-tpm-identity')).error, undefined);
      await sql`insert into manufacturers (id, name, public_key_spki, created_at) values ('m', 'm', ${new Uint8Array(91)}, 1)`.execute(
        handle.db,
      );
      for (const [id, byte] of [
        ['a'.repeat(64), 1],
        ['b'.repeat(64), 2],
      ] as const) {
        await sql`insert into devices (device_id, identity_spki, manufacturer_id, model, registered_at) values (${id}, ${new Uint8Array(91).fill(byte)}, 'm', 'x', 1)`.execute(
          handle.db,
        );
      }
      for (const [nonce, usedAt] of [
        ['n1', 1000],
        ['n2', 5000],
        ['n3', 3000],
      ] as const) {
        await sql`insert into nonces_used (nonce, device_id, used_at) values (${nonce}, ${'a'.repeat(64)}, ${usedAt})`.execute(
          handle.db,
        );
      }
      assert.equal((await migrator.migrateToLatest()).error, undefined);
      const marks = await sql<{ device_id: string; last_nonce_at: number | null }>`
        select device_id, last_nonce_at from devices order by device_id
      `.execute(handle.db);
      assert.deepEqual(
        marks.rows.map((row) => [row.device_id[0], row.last_nonce_at]),
        [
          ['a', 5000],
          ['b', null],
        ],
      );
    } finally {
      await handle.close();
      await test.drop();
    }
  });

  it('turns queries after close into DB_UNAVAILABLE through the repositories', async () => {
    const test = await createTestDatabase(context.backend);
    const handle = await openDatabase({ url: test.url });
    await handle.close();
    await assert.rejects(findTenant(handle.db, 'x'), { code: 'DB_UNAVAILABLE' });
    await test.drop();
  });
});

describe(
  'openDatabase on PostgreSQL',
  { skip: isPostgresSkipped() ? 'ORBIS_TEST_SKIP_POSTGRES=1' : false },
  () => {
    it('lets two replicas migrate a fresh database at the same time', async () => {
      const test = await createTestDatabase('postgres');
      const [first, second] = await Promise.all([
        openDatabase({ url: test.url }),
        openDatabase({ url: test.url }),
      ]);
      assert.equal(first.dialect, 'postgres');
      assert.deepEqual((await first.db.introspection.getTables()).length, TABLES.length + 2);
      await Promise.all([first.close(), second.close()]);
      await test.drop();
    });

    it('refuses an int8 beyond 2^53 instead of losing precision', async () => {
      const test = await createTestDatabase('postgres');
      const handle = await openDatabase({ url: test.url });
      await assert.rejects(sql`select 9007199254740993::bigint as n`.execute(handle.db), {
        code: 'DB_INTEGER_OUT_OF_RANGE',
      });
      assert.deepEqual((await sql`select 9007199254740991::bigint as n`.execute(handle.db)).rows, [
        { n: 9007199254740991 },
      ]);
      await handle.close();
      await test.drop();
    });
  },
);
