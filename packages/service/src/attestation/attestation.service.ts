import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DeviceCertificateIssuer } from '@orbis/ca';
import { parseDeviceId, type PublicKey, type Random } from '@orbis/crypto';
import {
  DEVICE_CERTIFICATE_BACKDATE_SECONDS,
  NONCE_LIFETIME_SECONDS,
  OrbisError,
  type AttestationResult,
  type AttestationResultClass,
  type ErrorCode,
  type TpmQuote,
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
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import {
  AttestationRecorder,
  IdentityKeyCache,
  ReferenceMeasurements,
  readAttestationSubject,
  type AttestationDevice,
  type AttestationSubject,
} from './attestation.store.ts';
import { recordSecurityEvent } from './security-events.repo.ts';

/** The certificate authorities attestation issues from, and the anchors it hands out. */
export interface AttestationPki {
  tenantIssuer(tenantId: string, now: number): Promise<DeviceCertificateIssuer>;
  updateIssuer(now: number): Promise<DeviceCertificateIssuer>;
  /** PEM of the tenant's published anchors (current and next), for device-to-device TLS. */
  tenantAnchorPems(tenantId: string, now: number): Promise<string[]>;
}

/** What attestation is made from: storage, the CAs, keys, randomness and the clock. */
export interface AttestationSetup {
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

/** The setup with the state attestation keeps between requests: see attestation.store.ts. */
export interface AttestationDeps extends Omit<AttestationSetup, 'nonceKey'> {
  /** The nonce key as a node:crypto secret key (an HMAC with a raw key re-imports it each time). */
  readonly nonceKey: KeyObject;
  readonly recorder: AttestationRecorder;
  readonly identityKeys: IdentityKeyCache;
  readonly measurements: ReferenceMeasurements;
}

export function createAttestationDeps(setup: AttestationSetup): AttestationDeps {
  return {
    ...setup,
    nonceKey: createSecretKey(setup.nonceKey),
    recorder: new AttestationRecorder(setup.db),
    identityKeys: new IdentityKeyCache(),
    measurements: new ReferenceMeasurements(),
  };
}

/** Writes the attestations still in flight, then refuses new ones: call before closing the database. */
export async function closeAttestation(deps: AttestationDeps): Promise<void> {
  await deps.recorder.close();
}

export interface AttestationRequest {
  readonly deviceId: string;
  readonly nonce: string;
  readonly evidence: string;
  /** The TPM backend's quote, bound to this evidence (ARCHITECTURE.md, Attestation step 2). */
  readonly tpmQuote?: TpmQuote | undefined;
  /** The peer address, for security events. */
  readonly source: string;
}

/** What attest() answers: the wire form the device receives (packages/protocol). */
export type AttestationResponse = AttestationResult;

const MAX_CLOCK_SKEW_SECONDS = 5 * 60;
const NONCE_SPENT = 'this nonce, or one issued to this device after it, was used before';

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

/** The minimum OS security version for the device's group, and whether its grace period runs. */
function policyOf(subject: AttestationSubject, now: number) {
  const { group, feed } = subject;
  if (group === undefined) throw new ServiceError('GROUP_NOT_FOUND', 'the device is in no group');
  const groupMinimum = group.minOsSecurityVersion ?? 0;
  const minimum = Math.max(feed.minSecurityVersion, groupMinimum);
  return {
    group,
    minimum,
    // The feed's grace period covers the feed's minimum only; a tenant's own raise applies at once.
    inGracePeriod: now < feed.minEffectiveFrom && groupMinimum < minimum,
  };
}

async function appraise(
  deps: AttestationDeps,
  subject: AttestationSubject,
  evidence: VerifiedEvidence,
  now: number,
) {
  const { device } = subject;
  const policy = device.tenantId === null ? undefined : policyOf(subject, now);
  const osMeasurement = await deps.measurements.lookup(deps.db, subject.referenceRevision);
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
      osMeasurement,
      // Tenant app images arrive with security renewal; until then every app is unknown
      // unless the device is in development mode.
      appImage: () => undefined,
      minimumOsSecurityVersion: policy?.minimum ?? 0,
      inGracePeriod: policy?.inGracePeriod ?? false,
      latestOsSecurityVersion: subject.latestOsSecurityVersion,
      capabilityKey: deps.capabilityKey,
      now: Math.floor(now / 1000),
    },
  );
  return { result, group: policy?.group };
}

/** Capabilities the device holds that no longer check out (expired, or of an older epoch). */
function removedCapabilities(
  deps: AttestationDeps,
  device: AttestationDevice,
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
  const subject = await readAttestationSubject(deps.db, deviceId);
  if (subject === undefined) {
    return refuse(deps, request, null, 'ATTESTATION_DEVICE_UNKNOWN', 'no registered device has this ID', now);
  }
  const { device } = subject;
  let evidence: VerifiedEvidence;
  let nonceTime: number;
  try {
    ({ time: nonceTime } = verifyNonce(request.nonce, {
      key: deps.nonceKey,
      deviceId,
      now,
      lifetimeSeconds: NONCE_LIFETIME_SECONDS,
    }));
    evidence = verifyEvidence(request.evidence, {
      identityKey: deps.identityKeys.get(deviceId, device.identitySpki),
      expectedNonce: request.nonce,
      now,
      maxClockSkewSeconds: MAX_CLOCK_SKEW_SECONDS,
      // A device registered with a TPM public area must bring a quote; any other must not.
      tpmIdentity:
        device.identityTpmPublic === null
          ? undefined
          : deps.identityKeys.tpmIdentity(deviceId, device.identityTpmPublic),
      tpmQuote: request.tpmQuote,
    });
  } catch (error) {
    if (!(error instanceof OrbisError)) throw error;
    return refuse(deps, request, device.tenantId, (error as OrbisError).code, error.message, now);
  }
  const { result, group } = await appraise(deps, subject, evidence, now);
  const [finding] = result.findings;
  if (result.outcome === 'untrusted' || group === undefined || device.tenantId === null) {
    const code = finding?.code ?? 'APPRAISAL_DEVICE_UNCLAIMED';
    const detail =
      result.findings.map((entry) => `${entry.code}: ${entry.detail}`).join('; ') || 'not claimed';
    return refuse(deps, request, device.tenantId, code, detail, now);
  }
  const tenantId = device.tenantId;
  // A replayed nonce is refused before the CA signs anything: a device's nonces are spent in
  // the order they were issued (ADR 0009). The conditional update at commit still decides races
  // between requests and replicas.
  if (device.lastNonceAt !== null && nonceTime <= device.lastNonceAt) {
    return refuse(deps, request, tenantId, 'ATTESTATION_NONCE_REPLAYED', NONCE_SPENT, now);
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
  // The nonce's use, the boot state and the certificate commit together, with the other
  // attestations in flight (group commit); the certificate leaves only after the commit.
  const outcome = await deps.recorder.record({
    nonce: request.nonce,
    nonceTime,
    deviceId,
    tenantId,
    bootcount,
    bootseed,
    at: now,
    certificate: {
      serial: issued.serialNumber,
      resultClass,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
    },
  });
  if (outcome === 'nonce-replayed') {
    return refuse(deps, request, tenantId, 'ATTESTATION_NONCE_REPLAYED', NONCE_SPENT, now);
  }
  if (outcome === 'device-changed') {
    return refuse(
      deps,
      request,
      tenantId,
      'APPRAISAL_CLONE_DETECTED',
      `bootcount ${bootcount} conflicts with a concurrent attestation, or the device changed state meanwhile`,
      now,
    );
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
