import type { AuditDetails, AuditEventInput } from './audit.repo.ts';

/** Test-only: the `index`th event of a chain, at `now + index` ms, with the details given. */
export function sampleAuditEvent(
  tenantId: string,
  index: number,
  now: number,
  details: AuditDetails = { index },
): AuditEventInput {
  return {
    tenantId,
    at: now + index,
    actor: 'user:ada',
    action: 'device.claim',
    target: `device:${index}`,
    source: '192.0.2.1',
    details,
  };
}
