import type { Kysely } from 'kysely';
import type { DeviceCertificateIssuer } from '@orbis/ca';
import { parseDeviceId, parsePublicKeySpki, type PublicKey, type Random } from '@orbis/crypto';
import {
  DEVICE_CERTIFICATE_BACKDATE_SECONDS,
  NONCE_LIFETIME_SECONDS,
  OrbisError,
  type AttestationResultClass,
  type ErrorCode,
} from '@orbis/protocol';
import {
  appraiseEvidence,
  checkDeviceCapability,
  createNonce,
  verifyEvidence,
  verifyNonce,
  type AppraisalResult,
  type VerifiedEvidence,
} from '@orbis/verify';
import { withTransaction } from '../db/backend.ts';
import { isUniqueViolation, withDatabaseErrors } from '../db/database-errors.ts';
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import { findTenantGroup } from '../groups/groups.repo.ts';
import {
  findOsMeasurement,
  getFeedPolicy,
  latestOsSecurityVersion,
} from '../os-releases/os-releases.repo.ts';
import { findDevice, type Device } from '../registry/registry.repo.ts';
import { recordSecurityEvent } from './security-events.repo.ts';

/** The certificate authorities attestation issues from, and the anchors it hands out. */
export interface AttestationPki {
  tenantIssuer(tenantId: string, now: number): Promise<DeviceCertificateIssuer>;
  updateIssuer(now: number): Promise<DeviceCertificateIssuer>;
  /** PEM of the tenant's published anchors (current and next), for device-to-device TLS. */
  tenantAnchorPems(tenantId: string, now: number): Promise<string[]>;
}

export interface AttestationDeps {
  readonly db: Kysely<Database>;
  readonly pki: AttestationPki;
  /** Key for the nonces' HMAC, from the KeyStore. */
  readonly nonceKey: Uint8Array;
  /** The capability key's public half (written into devices at manufacture). */
  readonly capabilityKey: PublicKey;
  readonly random: Random;
  readonly now: () => number;
  /** 24 hours in production; seconds in tests. */
  readonly certificateLifetimeSeconds: number;
}

export interface AttestationRequest {
  readonly deviceId: string;
  readonly nonce: string;
  readonly evidence: string;
  /** The peer address, for security events. */
  readonly source: string;
}

export interface AttestationResponse {
  readonly resultClass: AttestationResultClass;
  readonly osStatus: 'current' | 'superseded';
  /** The device certificate, DER, base64. Its validity and group extension are the signed time and assignment. */
  readonly certificate: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** The tenant's anchors, PEM, for verifying the certificate and for device-to-device TLS. */
  readonly anchors: readonly string[];
  /** Capabilities the device presented that are no longer valid: it deletes them. */
  readonly removedCapabilities: readonly string[];
}

const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/** Step 1: a stateless challenge. Unregistered IDs get one too, so IDs cannot be probed. */
export function issueChallenge(
  deps: AttestationDeps,
  deviceId: string,
): { nonce: string; expiresAt: number } {
  const now = deps.now();
  const nonce = createNonce({
    key: deps.nonceKey,
    deviceId: parseDeviceId(deviceId),
    now,
    random: deps.random,
  });
  return { nonce, expiresAt: now + NONCE_LIFETIME_SECONDS * 1000 };
}

async function loadPolicy(deps: AttestationDeps, device: Device, tenantId: string, now: number) {
  const group =
    device.groupId === null ? undefined : await findTenantGroup(deps.db, tenantId, device.groupId);
  if (group === undefined) throw new ServiceError('GROUP_NOT_FOUND', 'the device is in no group');
  const feed = await getFeedPolicy(deps.db, group.osFeed);
  const groupMinimum = group.minOsSecurityVersion ?? 0;
  const minimum = Math.max(feed.minSecurityVersion, groupMinimum);
  return {
    group,
    minimum,
    // The feed's grace period covers the feed's minimum only; a tenant's own raise applies at once.
    inGracePeriod: now < feed.minEffectiveFrom && groupMinimum < minimum,
    latest: await latestOsSecurityVersion(deps.db),
  };
}

async function appraise(deps: AttestationDeps, device: Device, evidence: VerifiedEvidence, now: number) {
  const tenantId = device.tenantId ?? '';
  const policy = device.tenantId === null ? undefined : await loadPolicy(deps, device, tenantId, now);
  const measurements = new Map<string, Awaited<ReturnType<typeof findOsMeasurement>>>();
  for (const entry of evidence.claims.orbis_boot_log) {
    if (entry.kind !== 'app') measurements.set(entry.sha256, await findOsMeasurement(deps.db, entry.sha256));
  }
  const result: AppraisalResult = appraiseEvidence(
    evidence.claims,
    {
      deviceId: device.deviceId,
      tenantId: device.tenantId ?? undefined,
      disabled: device.disabled,
      quarantined: device.quarantined,
      lastBootcount: device.lastBootcount ?? undefined,
      lastBootseed: device.lastBootseed ?? undefined,
      capabilityEpoch: device.capabilityEpoch,
    },
    {
      osMeasurement: (sha256) => measurements.get(sha256),
      // Tenant app images arrive with security renewal; until then every app is unknown
      // unless the device is in development mode.
      appImage: () => undefined,
      minimumOsSecurityVersion: policy?.minimum ?? 0,
      inGracePeriod: policy?.inGracePeriod ?? false,
      latestOsSecurityVersion: policy?.latest ?? 0,
      capabilityKey: deps.capabilityKey,
      now: Math.floor(now / 1000),
    },
  );
  return { result, group: policy?.group };
}

/** Capabilities the device holds that no longer check out (expired, or of an older epoch). */
function removedCapabilities(
  deps: AttestationDeps,
  device: Device,
  evidence: VerifiedEvidence,
  now: number,
): string[] {
  return evidence.claims.orbis_capabilities
    .filter(
      (signed) =>
        checkDeviceCapability(signed, deps.capabilityKey, {
          deviceId: device.deviceId,
          tenantId: device.tenantId ?? '',
          now: Math.floor(now / 1000),
          epoch: device.capabilityEpoch,
        }) === undefined,
    )
    .map((signed) => signed.capability.capability);
}

/** A refusal: recorded as a security event, then thrown with its stable code. */
async function refuse(
  deps: AttestationDeps,
  request: AttestationRequest,
  tenantId: string | null,
  code: ErrorCode,
  detail: string,
  now: number,
): Promise<never> {
  await recordSecurityEvent(deps.db, {
    tenantId,
    deviceId: request.deviceId,
    code,
    detail,
    source: request.source,
    at: now,
  });
  throw new ServiceError(code, detail);
}

/**
 * Steps 2–5 of ARCHITECTURE.md "Attestation": verify the nonce and the evidence, appraise it,
 * and for trusted, development and outdated devices issue a certificate, recording the nonce's
 * use, the new boot count and the certificate in one transaction (so a nonce is single-use
 * across replicas and restarts, and a crash leaves nothing half-written).
 */
export async function attest(
  deps: AttestationDeps,
  request: AttestationRequest,
): Promise<AttestationResponse> {
  const now = deps.now();
  const deviceId = parseDeviceId(request.deviceId);
  const device = await findDevice(deps.db, deviceId);
  if (device === undefined) {
    return refuse(deps, request, null, 'ATTESTATION_DEVICE_UNKNOWN', 'no registered device has this ID', now);
  }
  let evidence: VerifiedEvidence;
  try {
    verifyNonce(request.nonce, {
      key: deps.nonceKey,
      deviceId,
      now,
      lifetimeSeconds: NONCE_LIFETIME_SECONDS,
    });
    evidence = verifyEvidence(request.evidence, {
      identityKey: parsePublicKeySpki(device.identitySpki),
      expectedNonce: request.nonce,
      now,
      maxClockSkewSeconds: MAX_CLOCK_SKEW_SECONDS,
    });
  } catch (error) {
    if (!(error instanceof OrbisError)) throw error;
    return refuse(deps, request, device.tenantId, (error as OrbisError).code, error.message, now);
  }
  const { result, group } = await appraise(deps, device, evidence, now);
  const [finding] = result.findings;
  if (result.outcome === 'untrusted' || group === undefined || device.tenantId === null) {
    const code = finding?.code ?? 'APPRAISAL_DEVICE_UNCLAIMED';
    const detail =
      result.findings.map((entry) => `${entry.code}: ${entry.detail}`).join('; ') || 'not claimed';
    return refuse(deps, request, device.tenantId, code, detail, now);
  }
  const tenantId = device.tenantId;
  // A replayed nonce is refused before the CA signs anything; the unique insert below still
  // decides races between replicas.
  const used = await withDatabaseErrors(() =>
    deps.db.selectFrom('nonces_used').select('nonce').where('nonce', '=', request.nonce).executeTakeFirst(),
  );
  if (used !== undefined) {
    return refuse(deps, request, tenantId, 'ATTESTATION_NONCE_REPLAYED', 'this nonce was used before', now);
  }
  const resultClass: AttestationResultClass =
    result.outcome === 'outdated'
      ? 'update-only'
      : result.outcome === 'development'
        ? 'development'
        : 'trusted';
  const issuer =
    resultClass === 'update-only'
      ? await deps.pki.updateIssuer(now)
      : await deps.pki.tenantIssuer(tenantId, now);
  const issued = await issuer.issue({
    deviceId,
    tenantId,
    productId: group.productId,
    groupId: group.id,
    resultClass,
    certificateKey: evidence.certificateKey,
    notBefore: now - DEVICE_CERTIFICATE_BACKDATE_SECONDS * 1000,
    notAfter: now + deps.certificateLifetimeSeconds * 1000,
  });
  const { bootcount, bootseed } = evidence.claims;
  try {
    await withTransaction(deps.db, async (trx) => {
      await withDatabaseErrors(
        () =>
          trx
            .insertInto('nonces_used')
            .values({ nonce: request.nonce, device_id: deviceId, used_at: now })
            .execute(),
        (failure) =>
          isUniqueViolation(failure, 'nonces_used', ['nonce'])
            ? new ServiceError('ATTESTATION_NONCE_REPLAYED', 'this nonce was used before')
            : undefined,
      );
      // Only forward: a concurrent attestation with an older or conflicting boot loses here.
      const updated = await trx
        .updateTable('devices')
        .set({ last_bootcount: bootcount, last_bootseed: bootseed, last_attested_at: now })
        .where('device_id', '=', deviceId)
        // The state appraisal read must still hold: a device disabled or quarantined meanwhile
        // gets no certificate.
        .where('tenant_id', '=', tenantId)
        .where('disabled', '=', 0)
        .where('quarantined', '=', 0)
        .where((eb) =>
          eb.or([
            eb('last_bootcount', 'is', null),
            eb('last_bootcount', '<', bootcount),
            eb.and([eb('last_bootcount', '=', bootcount), eb('last_bootseed', '=', bootseed)]),
          ]),
        )
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) {
        throw new ServiceError(
          'APPRAISAL_CLONE_DETECTED',
          `bootcount ${bootcount} conflicts with a concurrent attestation`,
        );
      }
      await trx
        .insertInto('certificates')
        .values({
          serial: issued.serialNumber,
          device_id: deviceId,
          tenant_id: tenantId,
          result_class: resultClass,
          not_before: issued.notBefore,
          not_after: issued.notAfter,
          issued_at: now,
        })
        .execute();
    });
  } catch (error) {
    if (error instanceof ServiceError) return refuse(deps, request, tenantId, error.code, error.message, now);
    throw error;
  }
  return {
    resultClass,
    osStatus: result.osStatus,
    certificate: Buffer.from(issued.der).toString('base64'),
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    anchors: await deps.pki.tenantAnchorPems(tenantId, now),
    removedCapabilities: removedCapabilities(deps, device, evidence, now),
  };
}
