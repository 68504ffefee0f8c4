import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { canonicalizeJson, canonicalJsonBytes, encodeHex, sha256 } from '@orbis/crypto';
import { ServiceError } from '../errors.ts';
import { dialectOf, withTransaction } from '../db/backend.ts';
import { isUniqueViolation, withDatabaseErrors } from '../db/database-errors.ts';
import { assertPageLimit } from '../db/paging.ts';
import type { AuditLogTable, Database } from '../db/schema.ts';
import { MAX_AUDIT_HEAD_PAGE, listAuditHeads } from './audit-heads.repo.ts';

/**
 * The audit log: one hash chain per tenant, plus one for platform-level events under the
 * chain ID 'platform' (tenant IDs are UUIDs, so it cannot clash with one; '' would be easy to
 * produce by mistake and awkward in exports and URLs). Each event's hash is
 *
 *   hash = SHA-256( prev_hash ‖ JCS({tenantId, seq, at, actor, action, target, source, details}) )
 *
 * in lowercase hex, where prev_hash is the previous event's hash as 64 ASCII hex characters
 * (64 zeros for seq 1) and JCS is RFC 8785 canonical JSON. Anyone holding an export can check
 * it with sha256sum. A periodically signed head (seq, hash) pins the chain, so deleting its
 * tail shows too.
 */
export const PLATFORM_AUDIT_CHAIN = 'platform';
/** prev_hash of each chain's first event. */
export const GENESIS_AUDIT_HASH = '0'.repeat(64);
/** Largest canonical event (the JSON that is hashed), in bytes. */
export const MAX_AUDIT_EVENT_BYTES = 16 * 1024;
/** Most events one listing returns. */
export const MAX_AUDIT_PAGE = 1000;

/**
 * First key of the two-key PostgreSQL advisory lock on a chain (the second is hashtext of the
 * chain ID). The two-key form is a lock space apart from single-bigint locks such as the
 * migrator's. Two chains whose IDs hash alike only wait for each other; they stay correct.
 */
const AUDIT_LOCK_NAMESPACE = 0x6f726261; // 'orba'

export type AuditDetails = Readonly<Record<string, unknown>>;

export interface AuditEventInput {
  /** A tenant's ID, or PLATFORM_AUDIT_CHAIN. */
  readonly tenantId: string;
  /** When it happened, ms since the epoch. */
  readonly at: number;
  /** Who: a user ID, a token ID, a device ID, or 'system'. */
  readonly actor: string;
  /** What, as a dotted verb such as 'device.claim'. */
  readonly action: string;
  /** What it was done to. */
  readonly target: string;
  /** Where from: an IP address, 'cli', 'scheduler'. */
  readonly source: string;
  readonly details: AuditDetails;
}

export interface AuditEvent extends AuditEventInput {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export type AuditChainBreak =
  | 'seq-gap'
  | 'prev-hash-mismatch'
  | 'hash-mismatch'
  | 'details-invalid'
  | 'signed-head-mismatch'
  | 'truncated';

export type AuditChainVerification =
  | { readonly ok: true; readonly lastSeq: number; readonly lastHash: string }
  | { readonly ok: false; readonly brokenAtSeq: number; readonly reason: AuditChainBreak };

/** What the hash covers: the event without its hashes. */
export type AuditHashedFields = Omit<AuditEvent, 'prevHash' | 'hash'>;

function canonicalEvent(event: AuditHashedFields): Uint8Array {
  const { tenantId, seq, at, actor, action, target, source, details } = event;
  return canonicalJsonBytes({ tenantId, seq, at, actor, action, target, source, details });
}

/** The chain hash of `event` after `prevHash` (both lowercase hex), as described above. */
export function computeAuditEventHash(prevHash: string, event: AuditHashedFields): string {
  const prefix = new TextEncoder().encode(prevHash);
  const body = canonicalEvent(event);
  const input = new Uint8Array(prefix.length + body.length);
  input.set(prefix, 0);
  input.set(body, prefix.length);
  return encodeHex(sha256(input));
}

function toAuditEvent(row: Selectable<AuditLogTable>): AuditEvent {
  let details: AuditDetails;
  try {
    details = JSON.parse(row.details) as AuditDetails;
  } catch (error) {
    throw new ServiceError('DB_QUERY_FAILED', 'a stored audit event is unreadable; verify the audit chain', {
      cause: error,
    });
  }
  return {
    tenantId: row.tenant_id,
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    source: row.source,
    details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The details as canonical JSON text, after checking the event can be hashed within the limit. */
function canonicalDetails(input: AuditEventInput): string {
  // Callers are typed, but the details often come from parsed input: check what is there.
  const details: unknown = input.details;
  if (typeof details !== 'object' || details === null || Array.isArray(details)) {
    throw new ServiceError('AUDIT_EVENT_INVALID', 'audit event details must be a JSON object');
  }
  try {
    // seq is not known yet: measure with the widest one, so the stored event stays within the limit.
    const size = canonicalEvent({ ...input, seq: Number.MAX_SAFE_INTEGER }).length;
    if (size > MAX_AUDIT_EVENT_BYTES) {
      throw new ServiceError(
        'AUDIT_EVENT_INVALID',
        `an audit event may be at most ${MAX_AUDIT_EVENT_BYTES} bytes`,
      );
    }
    return canonicalizeJson(details);
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw new ServiceError('AUDIT_EVENT_INVALID', 'audit event details are not canonicalizable JSON', {
      cause: error,
    });
  }
}

/**
 * Serialises appends to one chain until the transaction ends. SQLite needs nothing more:
 * every write transaction already holds the database's write lock (BEGIN IMMEDIATE).
 */
async function lockChain(trx: Transaction<Database>, tenantId: string): Promise<void> {
  if (dialectOf(trx) === 'postgres') {
    await sql`select pg_advisory_xact_lock(${sql.lit(AUDIT_LOCK_NAMESPACE)}, hashtext(${tenantId}))`.execute(
      trx,
    );
  }
}

/** The last event's seq and hash, or undefined for an empty chain. */
export async function findAuditChainHead(
  db: Kysely<Database>,
  tenantId: string,
): Promise<{ seq: number; hash: string } | undefined> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .where('tenant_id', '=', tenantId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst(),
  );
  return row === undefined ? undefined : { seq: row.seq, hash: row.hash };
}

/**
 * Appends an event to its chain and returns it with its seq and hashes. Pass the transaction
 * of the change being audited, so that the change and its audit event commit together.
 */
export async function appendAuditEvent(db: Kysely<Database>, input: AuditEventInput): Promise<AuditEvent> {
  const details = canonicalDetails(input);
  return withDatabaseErrors(
    () =>
      withTransaction(db, async (trx) => {
        await lockChain(trx, input.tenantId);
        const head = await findAuditChainHead(trx, input.tenantId);
        const seq = (head?.seq ?? 0) + 1;
        const prevHash = head?.hash ?? GENESIS_AUDIT_HASH;
        const event: AuditEvent = {
          ...input,
          seq,
          prevHash,
          hash: computeAuditEventHash(prevHash, { ...input, seq }),
        };
        await trx
          .insertInto('audit_log')
          .values({
            tenant_id: event.tenantId,
            seq,
            at: event.at,
            actor: event.actor,
            action: event.action,
            target: event.target,
            source: event.source,
            details,
            prev_hash: prevHash,
            hash: event.hash,
          })
          .execute();
        return event;
      }),
    (failure) =>
      isUniqueViolation(failure, 'audit_log', ['tenant_id', 'seq'])
        ? new ServiceError('AUDIT_APPEND_CONFLICT', 'another audit event took this sequence number; retry')
        : undefined,
  );
}

/** A chain's events in order, after `afterSeq` (default 0: from the start), up to `limit`. */
export async function listAuditEvents(
  db: Kysely<Database>,
  tenantId: string,
  options: { readonly afterSeq?: number; readonly limit: number },
): Promise<AuditEvent[]> {
  assertPageLimit(options.limit, MAX_AUDIT_PAGE);
  const rows = await withDatabaseErrors(() =>
    db
      .selectFrom('audit_log')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('seq', '>', options.afterSeq ?? 0)
      .orderBy('seq')
      .limit(options.limit)
      .execute(),
  );
  return rows.map(toAuditEvent);
}

function recomputeHash(row: Selectable<AuditLogTable>): string | undefined {
  let details: unknown;
  try {
    details = JSON.parse(row.details);
    return computeAuditEventHash(row.prev_hash, {
      tenantId: row.tenant_id,
      seq: row.seq,
      at: row.at,
      actor: row.actor,
      action: row.action,
      target: row.target,
      source: row.source,
      details: details as AuditDetails,
    });
  } catch {
    return undefined;
  }
}

async function loadHeads(db: Kysely<Database>, tenantId: string): Promise<Map<number, string>> {
  const heads = new Map<number, string>();
  for (let afterSeq = 0; ;) {
    const page = await listAuditHeads(db, tenantId, { afterSeq, limit: MAX_AUDIT_HEAD_PAGE });
    for (const head of page) heads.set(head.seq, head.hash);
    const last = page.at(-1);
    if (last === undefined || page.length < MAX_AUDIT_HEAD_PAGE) return heads;
    afterSeq = last.seq;
  }
}

/**
 * Recomputes a chain from its first event and reports the first seq where it breaks: a
 * missing seq, a prev_hash that is not the previous hash, a hash that does not match the
 * event, or a stored signed head that disagrees with the chain or lies beyond its end (the
 * tail was deleted). Checking the heads' signatures needs the KeyStore and is the caller's.
 */
export async function verifyAuditChain(
  db: Kysely<Database>,
  tenantId: string,
): Promise<AuditChainVerification> {
  const heads = await loadHeads(db, tenantId);
  let lastSeq = 0;
  let lastHash = GENESIS_AUDIT_HASH;
  for (;;) {
    const rows = await withDatabaseErrors(() =>
      db
        .selectFrom('audit_log')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('seq', '>', lastSeq)
        .orderBy('seq')
        .limit(MAX_AUDIT_PAGE)
        .execute(),
    );
    for (const row of rows) {
      const seq = lastSeq + 1;
      if (row.seq !== seq) return { ok: false, brokenAtSeq: seq, reason: 'seq-gap' };
      if (row.prev_hash !== lastHash) return { ok: false, brokenAtSeq: seq, reason: 'prev-hash-mismatch' };
      const hash = recomputeHash(row);
      if (hash === undefined) return { ok: false, brokenAtSeq: seq, reason: 'details-invalid' };
      if (hash !== row.hash) return { ok: false, brokenAtSeq: seq, reason: 'hash-mismatch' };
      const signed = heads.get(seq);
      if (signed !== undefined && signed !== hash)
        return { ok: false, brokenAtSeq: seq, reason: 'signed-head-mismatch' };
      lastSeq = seq;
      lastHash = hash;
    }
    if (rows.length < MAX_AUDIT_PAGE) break;
  }
  if ([...heads.keys()].some((seq) => seq > lastSeq))
    return { ok: false, brokenAtSeq: lastSeq + 1, reason: 'truncated' };
  return { ok: true, lastSeq, lastHash };
}
