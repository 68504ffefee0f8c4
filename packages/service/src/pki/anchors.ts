import type { Kysely } from 'kysely';
import { createCaCertificate, parseCaCertificate, type CaCertificate, type KeyStore } from '@orbis/ca';
import { encodeHex, type Random, encodePem } from '@orbis/crypto';
import { OrbisError, TENANT_CA_LIFETIME_DAYS } from '@orbis/protocol';
import { assertTrustAnchor, parseCertificate, type ParsedCertificate } from '@orbis/verify';
import { appendAuditEvent, PLATFORM_AUDIT_CHAIN } from '../audit/audit.repo.ts';
import { withTransaction } from '../db/backend.ts';
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import { planNextAnchor, UPDATE_CA_LIFETIME_DAYS } from './anchor-series.ts';
import {
  insertStoredCertificate,
  listSeries,
  type SeriesFilter,
  type StoredCertificate,
} from './ca-certificates.repo.ts';
import { getOrCreateSigner } from './pki-keys.ts';

/**
 * Self-signed anchors: each tenant's CAs and the update CAs. Every generation has its own
 * KeyStore key, named like its row (`tenant-ca.<tenant-id>.<generation>`,
 * `update-ca.<generation>`), and every one created is an audit event in the same transaction
 * as its row.
 */

export type AnchorSeries =
  { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'update' };

export interface AnchorDeps {
  readonly db: Kysely<Database>;
  readonly keyStore: KeyStore;
  readonly random: Random;
}

/** A published anchor, as the service hands it out and verifies against it. */
export interface PublishedAnchor {
  /** The row ID, `<series>.<generation>`. */
  readonly id: string;
  readonly der: Uint8Array;
  readonly pem: string;
  /** packages/verify's reading, checked to be a trust anchor. */
  readonly parsed: ParsedCertificate;
  /** packages/ca's reading, for issuers. */
  readonly certificate: CaCertificate;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly signsFrom: number;
  /** The subjectKeyIdentifier, lowercase hex: what device certificates name in authorityKeyIdentifier. */
  readonly keyId: string;
  readonly keyRef: string;
}

export function seriesName(series: AnchorSeries): string {
  return series.kind === 'tenant' ? `tenant-ca.${series.tenantId}` : 'update-ca';
}

function seriesFilter(series: AnchorSeries): SeriesFilter {
  return series.kind === 'tenant' ? { kind: 'tenant', tenantId: series.tenantId } : { kind: 'update' };
}

export function listAnchorRows(db: Kysely<Database>, series: AnchorSeries): Promise<StoredCertificate[]> {
  return listSeries(db, seriesFilter(series));
}

/** A stored anchor read back strictly by packages/ca and packages/verify. */
export function loadAnchor(row: StoredCertificate): PublishedAnchor {
  let certificate: CaCertificate;
  let parsed: ParsedCertificate;
  try {
    certificate = parseCaCertificate(row.der);
    parsed = parseCertificate(row.der);
    assertTrustAnchor(parsed);
  } catch (cause) {
    if (!(cause instanceof OrbisError)) throw cause;
    throw new ServiceError('PKI_CERTIFICATE_INVALID', `stored CA ${row.id} is not an Orbis anchor`, {
      cause,
    });
  }
  const { id, der, notBefore, notAfter, signsFrom, keyRef } = row;
  const keyId = encodeHex(certificate.subjectKeyIdentifier);
  return { id, der, pem: encodePem(der), parsed, certificate, notBefore, notAfter, signsFrom, keyId, keyRef };
}

/**
 * Creates the series' next anchor if one is due at `now` (planNextAnchor) and returns its row;
 * undefined when none is due or another replica wrote the same generation first. Runs in the
 * caller's transaction when `deps.db` is one (tenant creation).
 */
export async function rotateAnchorSeries(
  deps: AnchorDeps,
  series: AnchorSeries,
  now: number,
): Promise<StoredCertificate | undefined> {
  const lifetime = series.kind === 'tenant' ? TENANT_CA_LIFETIME_DAYS : UPDATE_CA_LIFETIME_DAYS;
  const plan = planNextAnchor(await listAnchorRows(deps.db, series), now, lifetime);
  if (plan === undefined) return undefined;
  const id = `${seriesName(series)}.${plan.generation}`;
  const signer = await getOrCreateSigner(deps.keyStore, id);
  const certificate = await createCaCertificate({
    signer,
    random: deps.random,
    notBefore: plan.notBefore,
    notAfter: plan.notAfter,
    pathLength: 0,
  });
  const row: StoredCertificate = {
    id,
    kind: series.kind,
    tenantId: series.kind === 'tenant' ? series.tenantId : null,
    der: certificate.der,
    subjectKeyId: encodeHex(certificate.subjectKeyIdentifier),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    signsFrom: plan.signsFrom,
    keyRef: id,
    createdAt: now,
  };
  return withTransaction(deps.db, async (trx) => {
    if (!(await insertStoredCertificate(trx, row))) return undefined;
    const { subjectKeyId: keyId, notBefore, notAfter, signsFrom } = row;
    await appendAuditEvent(trx, {
      tenantId: series.kind === 'tenant' ? series.tenantId : PLATFORM_AUDIT_CHAIN,
      at: now,
      actor: 'system',
      action: `${series.kind === 'tenant' ? 'tenant-ca' : 'update-ca'}.${plan.generation === 1 ? 'create' : 'rotate'}`,
      target: `ca:${id}`,
      source: 'pki',
      details: { keyId, notBefore, notAfter, signsFrom },
    });
    return row;
  });
}
