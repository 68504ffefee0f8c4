import type { Kysely } from 'kysely';
import {
  createCaCertificate,
  createIntermediateCaCertificate,
  parseCaCertificate,
  parseIntermediateCaCertificate,
  type CaCertificate,
  type KeyStore,
} from '@orbis/ca';
import { encodeHex, type Random } from '@orbis/crypto';
import { OrbisError } from '@orbis/protocol';
import { appendAuditEvent, PLATFORM_AUDIT_CHAIN, type AuditDetails } from '../audit/audit.repo.ts';
import { withTransaction } from '../db/backend.ts';
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import { CA_BACKDATE_MS, DAY_MS, nextGeneration } from './anchor-series.ts';
import { insertStoredCertificate, listSeries, type StoredCertificate } from './ca-certificates.repo.ts';
import { findSigner, getOrCreateSigner } from './pki-keys.ts';

/**
 * The platform root CA and the issuing intermediate below it. Devices pin the root at
 * manufacture (ARCHITECTURE.md, "Attestation" step 5); its key is one of the offline keys, so
 * the service needs it only to certify a new intermediate, about every five years. The
 * intermediate (an online key) issues the device listener's TLS certificate (service-tls.ts).
 */

export const PLATFORM_KEY_NAMES = Object.freeze({
  root: 'platform-root-ca',
  intermediate: 'service-tls-issuer',
  serviceTls: 'service-tls',
} as const);
export const PLATFORM_ROOT_LIFETIME_DAYS = 20 * 365;
export const INTERMEDIATE_LIFETIME_DAYS = 5 * 365;
/**
 * A new intermediate is made once the current one has less than this left. If the root is
 * offline then, the service keeps using the current one and reports that the root is needed.
 */
export const INTERMEDIATE_RENEWAL_DAYS = 180;

export interface PlatformDeps {
  readonly db: Kysely<Database>;
  readonly keyStore: KeyStore;
  readonly random: Random;
}

export interface StoredCa {
  readonly row: StoredCertificate;
  readonly certificate: CaCertificate;
}

function invalid(row: StoredCertificate, cause: unknown): ServiceError {
  return new ServiceError('PKI_CERTIFICATE_INVALID', `stored certificate ${row.id} does not read back`, {
    cause,
  });
}

/** Stores a new platform certificate with its audit event; undefined if another replica stored that ID first. */
export async function storePlatformCertificate(
  db: Kysely<Database>,
  row: StoredCertificate,
  action: string,
  details: AuditDetails,
): Promise<boolean> {
  return withTransaction(db, async (trx) => {
    if (!(await insertStoredCertificate(trx, row))) return false;
    await appendAuditEvent(trx, {
      tenantId: PLATFORM_AUDIT_CHAIN,
      at: row.createdAt,
      actor: 'system',
      action,
      target: `certificate:${row.id}`,
      source: 'pki',
      details: { keyId: row.subjectKeyId, notBefore: row.notBefore, notAfter: row.notAfter, ...details },
    });
    return true;
  });
}

function platformRow(id: string, keyRef: string, certificate: CaCertificate, now: number): StoredCertificate {
  return {
    id,
    kind: 'platform',
    tenantId: null,
    der: certificate.der,
    subjectKeyId: encodeHex(certificate.subjectKeyIdentifier),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    signsFrom: certificate.notBefore,
    keyRef,
    createdAt: now,
  };
}

function readRoot(row: StoredCertificate): StoredCa {
  try {
    return { row, certificate: parseCaCertificate(row.der) };
  } catch (cause) {
    if (!(cause instanceof OrbisError)) throw cause;
    throw invalid(row, cause);
  }
}

/** The platform root: the stored one (the latest, should there ever be two), or a new one on first start. */
export async function loadOrCreateRoot(
  deps: PlatformDeps,
  now: number,
): Promise<{ root: StoredCa; created: boolean }> {
  const keyRef = PLATFORM_KEY_NAMES.root;
  const [stored] = await listSeries(deps.db, { kind: 'platform', keyRef });
  if (stored !== undefined) return { root: readRoot(stored), created: false };
  const signer = await getOrCreateSigner(deps.keyStore, keyRef);
  const notBefore = now - CA_BACKDATE_MS;
  const certificate = await createCaCertificate({
    signer,
    random: deps.random,
    notBefore,
    notAfter: notBefore + PLATFORM_ROOT_LIFETIME_DAYS * DAY_MS,
    pathLength: 1,
  });
  const row = platformRow(`${keyRef}.1`, keyRef, certificate, now);
  if (await storePlatformCertificate(deps.db, row, 'pki.root.create', {})) {
    return { root: { row, certificate }, created: true };
  }
  return loadOrCreateRoot(deps, now);
}

/** The intermediate that issues now: certified by `root`, valid at `now`, the latest-ending. */
export async function findIntermediate(
  deps: PlatformDeps,
  root: StoredCa,
  now: number,
): Promise<StoredCa | undefined> {
  const rows = await listSeries(deps.db, { kind: 'platform', keyRef: PLATFORM_KEY_NAMES.intermediate });
  const current = rows.find((row) => row.notBefore <= now && now < row.notAfter);
  if (current === undefined) return undefined;
  try {
    return { row: current, certificate: parseIntermediateCaCertificate(current.der, root.certificate) };
  } catch (cause) {
    if (!(cause instanceof OrbisError)) throw cause;
    throw invalid(current, cause);
  }
}

/**
 * Certifies a new intermediate (its key `service-tls-issuer`, kept across renewals) with the
 * root's key: PKI_ROOT_OFFLINE when the KeyStore no longer holds the root.
 */
export async function createIntermediate(deps: PlatformDeps, root: StoredCa, now: number): Promise<StoredCa> {
  const rootSigner = await findSigner(deps.keyStore, PLATFORM_KEY_NAMES.root);
  if (rootSigner === undefined) {
    throw new ServiceError(
      'PKI_ROOT_OFFLINE',
      'a new issuing intermediate needs the platform root key, which is offline: restore it for the signing',
    );
  }
  const keyRef = PLATFORM_KEY_NAMES.intermediate;
  const subject = await getOrCreateSigner(deps.keyStore, keyRef);
  const notBefore = now - CA_BACKDATE_MS;
  const certificate = await createIntermediateCaCertificate({
    issuer: root.certificate,
    issuerSigner: rootSigner,
    subjectKey: subject.publicKey,
    random: deps.random,
    notBefore,
    notAfter: Math.min(notBefore + INTERMEDIATE_LIFETIME_DAYS * DAY_MS, root.certificate.notAfter),
    pathLength: 0,
  });
  const rows = await listSeries(deps.db, { kind: 'platform', keyRef });
  const row = platformRow(`${keyRef}.${nextGeneration(rows)}`, keyRef, certificate, now);
  if (await storePlatformCertificate(deps.db, row, 'pki.intermediate.create', { issuer: root.row.id })) {
    return { row, certificate };
  }
  // Another replica certified the same generation at the same moment: use theirs.
  const theirs = await findIntermediate(deps, root, now);
  if (theirs === undefined)
    throw invalid(row, new Error('the concurrently written intermediate is not valid now'));
  return theirs;
}

/** Whether the intermediate should be replaced: none valid, or less than INTERMEDIATE_RENEWAL_DAYS left. */
export function isIntermediateDue(intermediate: StoredCa | undefined, now: number): boolean {
  return intermediate === undefined || intermediate.row.notAfter - now < INTERMEDIATE_RENEWAL_DAYS * DAY_MS;
}
