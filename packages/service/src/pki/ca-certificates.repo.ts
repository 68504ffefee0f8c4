import type { Kysely, Selectable } from 'kysely';
import { withDatabaseErrors } from '../db/database-errors.ts';
import type { CaCertificateKind, CaCertificatesTable, Database } from '../db/schema.ts';

/**
 * The `ca_certificates` table: one row per certificate the service's PKI made (the platform
 * root, the issuing intermediates, the service TLS certificates, the update CAs and the tenant
 * CAs). Rows are written once and never changed; a renewal or rotation adds a row. A row's ID
 * is `<series>.<generation>` (`tenant-ca.<tenant-id>.2`), so two replicas that renew at the
 * same moment write the same ID and only one row survives.
 */

/** Most rows one series returns: one per generation, and a series gains one every few years. */
export const MAX_SERIES_ROWS = 100;
/** Most tenants one rotation pass reads at a time. */
export const MAX_ROTATION_PAGE = 500;

export interface StoredCertificate {
  readonly id: string;
  readonly kind: CaCertificateKind;
  readonly tenantId: string | null;
  readonly der: Uint8Array;
  /** The certificate's subjectKeyIdentifier, lowercase hex. */
  readonly subjectKeyId: string;
  /** Milliseconds since the Unix epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** From when this certificate's key signs; a rotated-in anchor is published earlier. */
  readonly signsFrom: number;
  /** The KeyStore entry holding the key. */
  readonly keyRef: string;
  readonly createdAt: number;
}

/** Which rows form one series: a tenant's CAs, the update CAs, or one platform key's certificates. */
export type SeriesFilter =
  | { readonly kind: 'tenant'; readonly tenantId: string }
  | { readonly kind: 'update' }
  | { readonly kind: 'platform'; readonly keyRef: string };

function toStored(row: Selectable<CaCertificatesTable>): StoredCertificate {
  return {
    id: row.id,
    kind: row.kind,
    tenantId: row.tenant_id,
    der: new Uint8Array(row.der),
    subjectKeyId: row.subject_key_id,
    notBefore: row.not_before,
    notAfter: row.not_after,
    signsFrom: row.signs_from,
    keyRef: row.key_ref,
    createdAt: row.created_at,
  };
}

/**
 * Inserts a row unless one with its ID exists (another replica won the race); returns whether
 * this call wrote it. ON CONFLICT DO NOTHING keeps a surrounding PostgreSQL transaction usable.
 */
export async function insertStoredCertificate(
  db: Kysely<Database>,
  certificate: StoredCertificate,
): Promise<boolean> {
  const inserted = await withDatabaseErrors(() =>
    db
      .insertInto('ca_certificates')
      .values({
        id: certificate.id,
        tenant_id: certificate.tenantId,
        kind: certificate.kind,
        der: certificate.der,
        subject_key_id: certificate.subjectKeyId,
        not_before: certificate.notBefore,
        not_after: certificate.notAfter,
        signs_from: certificate.signsFrom,
        key_ref: certificate.keyRef,
        created_at: certificate.createdAt,
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning('id')
      .executeTakeFirst(),
  );
  return inserted !== undefined;
}

/** A series' rows, the latest-ending first. */
export async function listSeries(db: Kysely<Database>, series: SeriesFilter): Promise<StoredCertificate[]> {
  const rows = await withDatabaseErrors(() => {
    let query = db.selectFrom('ca_certificates').selectAll().where('kind', '=', series.kind);
    if (series.kind === 'tenant') query = query.where('tenant_id', '=', series.tenantId);
    if (series.kind === 'platform') query = query.where('key_ref', '=', series.keyRef);
    return query.orderBy('not_after', 'desc').orderBy('id').limit(MAX_SERIES_ROWS).execute();
  });
  return rows.map(toStored);
}

/**
 * Tenants whose CAs all end by `threshold` (or who have none), by ID after `afterId`: the ones
 * a rotation pass has to look at. One query for the whole fleet instead of one per tenant.
 */
export async function listTenantsDueForCa(
  db: Kysely<Database>,
  options: { readonly threshold: number; readonly afterId: string; readonly limit: number },
): Promise<string[]> {
  const rows = await withDatabaseErrors(() =>
    db
      .selectFrom('tenants')
      .leftJoin('ca_certificates', (join) =>
        join.onRef('ca_certificates.tenant_id', '=', 'tenants.id').on('ca_certificates.kind', '=', 'tenant'),
      )
      .select('tenants.id as id')
      .where('tenants.id', '>', options.afterId)
      .groupBy('tenants.id')
      .having((eb) =>
        eb.or([
          eb(eb.fn.max('ca_certificates.not_after'), 'is', null),
          eb(eb.fn.max('ca_certificates.not_after'), '<=', options.threshold),
        ]),
      )
      .orderBy('tenants.id')
      .limit(options.limit)
      .execute(),
  );
  return rows.map((row) => row.id);
}
