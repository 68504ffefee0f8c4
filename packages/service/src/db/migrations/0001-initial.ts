import { sql, type Kysely } from 'kysely';
import { binaryColumnType } from '../backend.ts';

/*
 * The initial schema. A migration is frozen once released: it spells out its own value lists
 * (roles, kinds) instead of importing constants that may change later. Only portable types
 * are used (text, integer, bigint, and BLOB/BYTEA through binaryColumnType) so that the same
 * repository code runs on SQLite and PostgreSQL. Check constraints back up what repositories
 * already enforce, so a bug cannot store a state the service would misread.
 */

const ROLES = sql`('Administrator', 'Contributor', 'Reader')`;

async function createPeopleTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('email', 'text', (column) => column.notNull().unique())
    .addColumn('password_hash', 'text', (column) => column.notNull())
    .addColumn('is_platform_operator', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addCheckConstraint('users_is_platform_operator_check', sql`is_platform_operator in (0, 1)`)
    .execute();

  await db.schema
    .createTable('memberships')
    .addColumn('user_id', 'text', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (column) => column.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('role', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addPrimaryKeyConstraint('memberships_pkey', ['user_id', 'tenant_id'])
    .addCheckConstraint('memberships_role_check', sql`role in ${ROLES}`)
    .execute();
  await db.schema.createIndex('memberships_tenant_idx').on('memberships').column('tenant_id').execute();

  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('token_hash', 'text', (column) => column.notNull().unique())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text', (column) => column.references('users.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (column) => column.references('tenants.id').onDelete('cascade'))
    .addColumn('role', 'text')
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('expires_at', 'bigint', (column) => column.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addCheckConstraint('tokens_role_check', sql`role is null or role in ${ROLES}`)
    // A session acts as its user in every tenant the user belongs to; an API token acts in one
    // tenant with one role.
    .addCheckConstraint(
      'tokens_kind_check',
      sql`(kind = 'session' and user_id is not null and tenant_id is null and role is null)
        or (kind = 'api' and tenant_id is not null and role is not null)`,
    )
    .addCheckConstraint('tokens_expiry_check', sql`expires_at > created_at`)
    .execute();
  await db.schema.createIndex('tokens_user_idx').on('tokens').column('user_id').execute();
  await db.schema.createIndex('tokens_tenant_idx').on('tokens').column('tenant_id').execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (column) => column.primaryKey())
    .addColumn('value', 'text', (column) => column.notNull())
    .execute();
}

async function createFleetTables(db: Kysely<unknown>): Promise<void> {
  const binary = binaryColumnType(db);

  await db.schema
    .createTable('manufacturers')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull().unique())
    .addColumn('public_key_spki', binary, (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('products')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('tenant_id', 'text', (column) => column.notNull().references('tenants.id'))
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addUniqueConstraint('products_tenant_name_key', ['tenant_id', 'name'])
    // Target of device_groups' composite key: a group's product is in the group's tenant.
    .addUniqueConstraint('products_id_tenant_key', ['id', 'tenant_id'])
    .execute();

  await db.schema
    .createTable('device_groups')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('tenant_id', 'text', (column) => column.notNull().references('tenants.id'))
    .addColumn('product_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('os_feed', 'text', (column) => column.notNull())
    .addColumn('update_policy', 'text', (column) => column.notNull())
    .addColumn('min_os_security_version', 'integer')
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addForeignKeyConstraint('device_groups_product_fkey', ['product_id', 'tenant_id'], 'products', [
      'id',
      'tenant_id',
    ])
    .addUniqueConstraint('device_groups_product_name_key', ['product_id', 'name'])
    .addUniqueConstraint('device_groups_id_tenant_key', ['id', 'tenant_id'])
    .execute();
  await db.schema.createIndex('device_groups_tenant_idx').on('device_groups').column('tenant_id').execute();

  await db.schema
    .createTable('devices')
    .addColumn('device_id', 'text', (column) => column.primaryKey())
    .addColumn('identity_spki', binary, (column) => column.notNull().unique())
    .addColumn('manufacturer_id', 'text', (column) => column.notNull().references('manufacturers.id'))
    .addColumn('model', 'text', (column) => column.notNull())
    .addColumn('registered_at', 'bigint', (column) => column.notNull())
    .addColumn('tenant_id', 'text', (column) => column.references('tenants.id'))
    .addColumn('claimed_at', 'bigint')
    .addColumn('disabled', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('quarantined', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('group_id', 'text')
    .addColumn('last_bootcount', 'bigint')
    .addColumn('last_bootseed', 'text')
    .addColumn('last_attested_at', 'bigint')
    .addCheckConstraint('devices_device_id_check', sql`length(device_id) = 64`)
    .addCheckConstraint(
      'devices_claim_check',
      sql`(tenant_id is null and claimed_at is null) or (tenant_id is not null and claimed_at is not null)`,
    )
    .addCheckConstraint('devices_flags_check', sql`disabled in (0, 1) and quarantined in (0, 1)`)
    // Tenant isolation in the schema itself: a device's group belongs to the device's tenant.
    .addForeignKeyConstraint('devices_group_fkey', ['group_id', 'tenant_id'], 'device_groups', [
      'id',
      'tenant_id',
    ])
    .execute();
  await db.schema
    .createIndex('devices_tenant_idx')
    .on('devices')
    .columns(['tenant_id', 'device_id'])
    .execute();
  await db.schema.createIndex('devices_manufacturer_idx').on('devices').column('manufacturer_id').execute();

  // Single use across replicas: a nonce's row is inserted in the transaction that accepts it.
  await db.schema
    .createTable('nonces_used')
    .addColumn('nonce', 'text', (column) => column.primaryKey())
    .addColumn('device_id', 'text', (column) => column.notNull())
    .addColumn('used_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('nonces_used_used_at_idx').on('nonces_used').column('used_at').execute();

  await db.schema
    .createTable('os_releases')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('component_id', 'text', (column) => column.notNull())
    .addColumn('version', 'text', (column) => column.notNull())
    .addColumn('security_version', 'integer', (column) => column.notNull())
    .addColumn('sha256', 'text', (column) => column.notNull().unique())
    .addColumn('signer', 'text', (column) => column.notNull())
    .addColumn('registered_at', 'bigint', (column) => column.notNull())
    .execute();
}

async function createCertificateTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ca_certificates')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('tenant_id', 'text', (column) => column.references('tenants.id'))
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('der', binaryColumnType(db), (column) => column.notNull())
    .addColumn('subject_key_id', 'text', (column) => column.notNull())
    .addColumn('not_before', 'bigint', (column) => column.notNull())
    .addColumn('not_after', 'bigint', (column) => column.notNull())
    .addColumn('signs_from', 'bigint', (column) => column.notNull())
    .addColumn('key_ref', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addCheckConstraint(
      'ca_certificates_kind_check',
      sql`(kind = 'tenant' and tenant_id is not null) or (kind in ('update', 'platform') and tenant_id is null)`,
    )
    .execute();
  await db.schema
    .createIndex('ca_certificates_tenant_idx')
    .on('ca_certificates')
    .column('tenant_id')
    .execute();

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
}

async function createAuditTables(db: Kysely<unknown>): Promise<void> {
  // No foreign key to tenants: the 'platform' chain has no tenant, and a tenant's audit log
  // must outlive the tenant.
  await db.schema
    .createTable('audit_log')
    .addColumn('tenant_id', 'text', (column) => column.notNull())
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('at', 'bigint', (column) => column.notNull())
    .addColumn('actor', 'text', (column) => column.notNull())
    .addColumn('action', 'text', (column) => column.notNull())
    .addColumn('target', 'text', (column) => column.notNull())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('details', 'text', (column) => column.notNull())
    .addColumn('prev_hash', 'text', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('audit_log_pkey', ['tenant_id', 'seq'])
    .addCheckConstraint('audit_log_seq_check', sql`seq >= 1`)
    .execute();

  await db.schema
    .createTable('audit_heads')
    .addColumn('tenant_id', 'text', (column) => column.notNull())
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .addColumn('signature', 'text', (column) => column.notNull())
    .addColumn('key_id', 'text', (column) => column.notNull())
    .addColumn('signed_at', 'bigint', (column) => column.notNull())
    .addPrimaryKeyConstraint('audit_heads_pkey', ['tenant_id', 'seq'])
    .execute();
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await createPeopleTables(db);
  await createFleetTables(db);
  await createCertificateTables(db);
  await createAuditTables(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'audit_heads',
    'audit_log',
    'certificates',
    'ca_certificates',
    'os_releases',
    'nonces_used',
    'devices',
    'device_groups',
    'products',
    'manufacturers',
    'settings',
    'tokens',
    'memberships',
    'users',
    'tenants',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
