import {
  TENANT_CA_LIFETIME_DAYS,
  TENANT_CA_ROTATION_LEAD_DAYS,
  TENANT_CA_ROTATION_OVERLAP_DAYS,
} from '@orbis/protocol';
import type { StoredCertificate } from './ca-certificates.repo.ts';

/**
 * The life of a series of self-signed anchors (a tenant's CAs, the update CAs), as plain
 * functions of the stored rows and a time (ARCHITECTURE.md, "Tenant CA"): an anchor lives
 * TENANT_CA_LIFETIME_DAYS; from TENANT_CA_ROTATION_LEAD_DAYS before it ends the next one is
 * created and published at once, and it signs from TENANT_CA_ROTATION_OVERLAP_DAYS later, so
 * relying parties hold it for 45 days before any device presents a certificate it issued.
 */

export const DAY_MS = 86_400_000;
/** CAs start an hour early, so a verifier whose clock runs a little behind still accepts them. */
export const CA_BACKDATE_MS = 60 * 60 * 1000;
/** The update CA rotates as tenant CAs do. */
export const UPDATE_CA_LIFETIME_DAYS = TENANT_CA_LIFETIME_DAYS;

export interface AnchorPlan {
  readonly generation: number;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly signsFrom: number;
}

/** A row ID is `<series>.<generation>`. */
export function generationOf(id: string): number {
  const generation = Number(id.slice(id.lastIndexOf('.') + 1));
  return Number.isSafeInteger(generation) && generation > 0 ? generation : 0;
}

export function nextGeneration(rows: readonly StoredCertificate[]): number {
  return rows.reduce((highest, row) => Math.max(highest, generationOf(row.id)), 0) + 1;
}

/** The anchors to hand out at `now`: every one not yet expired, current first. */
export function publishedRows(rows: readonly StoredCertificate[], now: number): StoredCertificate[] {
  return rows
    .filter((row) => now < row.notAfter)
    .sort((a, b) => a.signsFrom - b.signsFrom || a.notAfter - b.notAfter);
}

/** The anchor that signs at `now`: of those whose signing has begun and that are still valid, the newest. */
export function signingRow(rows: readonly StoredCertificate[], now: number): StoredCertificate | undefined {
  let signing: StoredCertificate | undefined;
  for (const row of rows) {
    if (row.signsFrom > now || now >= row.notAfter) continue;
    if (signing === undefined || row.signsFrom > signing.signsFrom) signing = row;
  }
  return signing;
}

/**
 * The next anchor to create at `now`, or undefined while the latest one has more than the
 * rotation lead left. A first anchor (or one after the series lapsed) signs at once; a
 * rotated-in anchor signs from TENANT_CA_ROTATION_LEAD_DAYS − TENANT_CA_ROTATION_OVERLAP_DAYS
 * before its predecessor ends, or at once if a late rotation finds that moment past.
 */
export function planNextAnchor(
  rows: readonly StoredCertificate[],
  now: number,
  lifetimeDays: number,
): AnchorPlan | undefined {
  const latest = rows.reduce<StoredCertificate | undefined>(
    (found, row) => (found === undefined || row.notAfter > found.notAfter ? row : found),
    undefined,
  );
  if (latest !== undefined && latest.notAfter - now > TENANT_CA_ROTATION_LEAD_DAYS * DAY_MS) return undefined;
  const handover = TENANT_CA_ROTATION_LEAD_DAYS - TENANT_CA_ROTATION_OVERLAP_DAYS;
  const signsFrom =
    latest !== undefined && latest.notAfter > now ? Math.max(now, latest.notAfter - handover * DAY_MS) : now;
  const notBefore = now - CA_BACKDATE_MS;
  return {
    generation: nextGeneration(rows),
    notBefore,
    notAfter: notBefore + lifetimeDays * DAY_MS,
    signsFrom,
  };
}
