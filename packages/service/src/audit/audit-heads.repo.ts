import type { Kysely, Selectable } from 'kysely';
import { ServiceError } from '../errors.ts';
import { withTransaction } from '../db/backend.ts';
import { isUniqueViolation, withDatabaseErrors } from '../db/database-errors.ts';
import { assertPageLimit } from '../db/paging.ts';
import type { AuditHeadsTable, Database } from '../db/schema.ts';

/**
 * Signed heads of the audit chains (see audit.repo.ts): from time to time the service signs a
 * chain's last (seq, hash) with a KeyStore key and stores it here, so that an export can be
 * checked against it and a deleted tail shows.
 */

/** Most heads one listing returns. */
export const MAX_AUDIT_HEAD_PAGE = 1000;

/** A chain head signed with a KeyStore key. */
export interface AuditHead {
  readonly tenantId: string;
  readonly seq: number;
  readonly hash: string;
  /** The signature over the head, in the encoding the signer documents. */
  readonly signature: string;
  readonly keyId: string;
  readonly signedAt: number;
}

function toAuditHead(row: Selectable<AuditHeadsTable>): AuditHead {
  return {
    tenantId: row.tenant_id,
    seq: row.seq,
    hash: row.hash,
    signature: row.signature,
    keyId: row.key_id,
    signedAt: row.signed_at,
  };
}

/**
 * Stores a signed head. AUDIT_HEAD_MISMATCH unless the chain has an event at head.seq with
 * exactly head.hash; AUDIT_HEAD_EXISTS if that seq already has a signed head.
 */
export async function insertAuditHead(db: Kysely<Database>, head: AuditHead): Promise<AuditHead> {
  return withDatabaseErrors(
    () =>
      withTransaction(db, async (trx) => {
        const event = await trx
          .selectFrom('audit_log')
          .select('hash')
          .where('tenant_id', '=', head.tenantId)
          .where('seq', '=', head.seq)
          .executeTakeFirst();
        if (event?.hash !== head.hash) {
          throw new ServiceError('AUDIT_HEAD_MISMATCH', 'the signed head does not match the audit chain');
        }
        const row = await trx
          .insertInto('audit_heads')
          .values({
            tenant_id: head.tenantId,
            seq: head.seq,
            hash: head.hash,
            signature: head.signature,
            key_id: head.keyId,
            signed_at: head.signedAt,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toAuditHead(row);
      }),
    (failure) =>
      isUniqueViolation(failure, 'audit_heads', ['tenant_id', 'seq'])
        ? new ServiceError('AUDIT_HEAD_EXISTS', 'that audit chain position already has a signed head')
        : undefined,
  );
}

/** A chain's signed heads in order, after `afterSeq` (default 0), up to `limit`. */
export async function listAuditHeads(
  db: Kysely<Database>,
  tenantId: string,
  options: { readonly afterSeq?: number; readonly limit: number },
): Promise<AuditHead[]> {
  assertPageLimit(options.limit, MAX_AUDIT_HEAD_PAGE);
  const rows = await withDatabaseErrors(() =>
    db
      .selectFrom('audit_heads')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('seq', '>', options.afterSeq ?? 0)
      .orderBy('seq')
      .limit(options.limit)
      .execute(),
  );
  return rows.map(toAuditHead);
}

/** The chain's most recent signed head, if any. */
export async function findLatestAuditHead(
  db: Kysely<Database>,
  tenantId: string,
): Promise<AuditHead | undefined> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('audit_heads')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst(),
  );
  return row === undefined ? undefined : toAuditHead(row);
}
