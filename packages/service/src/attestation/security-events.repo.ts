import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { withDatabaseErrors } from '../db/database-errors.ts';
import type { Database } from '../db/schema.ts';

/**
 * Security events: every refused attestation (bad signature, unknown measurement, replay,
 * clone, …) with its error code. Threat detection turns them into alerts (a later issue).
 */
export interface SecurityEvent {
  readonly tenantId: string | null;
  readonly deviceId: string;
  readonly code: string;
  readonly detail: string;
  /** The peer address the evidence came from. */
  readonly source: string;
  readonly at: number;
}

export async function recordSecurityEvent(db: Kysely<Database>, event: SecurityEvent): Promise<void> {
  await withDatabaseErrors(() =>
    db
      .insertInto('security_events')
      .values({
        id: randomUUID(),
        tenant_id: event.tenantId,
        device_id: event.deviceId,
        code: event.code,
        detail: event.detail.slice(0, 1000),
        source: event.source,
        at: event.at,
      })
      .execute(),
  );
}

export async function listDeviceSecurityEvents(
  db: Kysely<Database>,
  deviceId: string,
  limit: number,
): Promise<SecurityEvent[]> {
  const rows = await withDatabaseErrors(() =>
    db
      .selectFrom('security_events')
      .selectAll()
      .where('device_id', '=', deviceId)
      .orderBy('at', 'desc')
      .limit(limit)
      .execute(),
  );
  return rows.map((row) => ({
    tenantId: row.tenant_id,
    deviceId: row.device_id,
    code: row.code,
    detail: row.detail,
    source: row.source,
    at: row.at,
  }));
}
