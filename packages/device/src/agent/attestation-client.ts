import { decodePem, publicKeyToRaw, type PublicKey } from '@orbis/crypto';
import type { AttestationResult, AttestationResultClass, SignedDeviceCapability } from '@orbis/protocol';
import { parseCertificate, verifyDeviceCertificateChain, type ParsedCertificate } from '@orbis/verify';
import { AgentError } from '../errors.ts';
import type { RootOfTrust } from '../rot/root-of-trust.ts';
import type { ServiceClient } from './service-client.ts';

/** ARCHITECTURE.md, Attestation step 5: the device's not-before is the certificate's notBefore plus this. */
export const NOT_BEFORE_MARGIN_MS = 5 * 60_000;

/** What the device keeps of its current certificate, in its directory (agent/device-directory.ts). */
export interface HeldCertificate {
  /** DER, base64. */
  readonly certificate: string;
  /** The tenant's anchors as the service sent them, PEM. */
  readonly anchors: readonly string[];
  readonly resultClass: AttestationResultClass;
  readonly osStatus: 'current' | 'superseded';
  readonly notBefore: number;
  readonly notAfter: number;
  /** When the device received it (its own clock), ms. */
  readonly receivedAt: number;
}

interface ChallengeReply {
  readonly nonce: string;
}

export interface AttestOptions {
  readonly nowMs: number;
  readonly capabilities: readonly SignedDeviceCapability[];
}

/**
 * One attestation (ARCHITECTURE.md, Attestation steps 1–5): a challenge, evidence composed by
 * the root of trust over a certificate key it has just generated, and the certificate back.
 * The certificate is checked before the device keeps it: it must certify that key and name
 * this device, and a trusted or development certificate must verify under the tenant anchors
 * that came with it. The caller chooses the connection: server-authenticated TLS for a first
 * attestation, the current certificate's mTLS connection for a renewal.
 */
export async function attestOnce(
  root: RootOfTrust,
  client: ServiceClient,
  options: AttestOptions,
): Promise<HeldCertificate> {
  const { nonce } = await client.post<ChallengeReply>('/device/v1/attestation/challenge', {
    deviceId: root.deviceId,
  });
  // A fresh key for every certificate; the previous one stays with the connection that holds it.
  const certificateKey = await root.rotateCertificateKey();
  const evidence = await root.createEvidence(nonce, options);
  const reply = await client.post<AttestationResult>('/device/v1/attestation', {
    deviceId: root.deviceId,
    nonce,
    ...evidence,
  });
  const leaf = checkCertificate(root.deviceId, certificateKey, reply, options.nowMs);
  await root.advanceNotBefore(leaf.notBefore + NOT_BEFORE_MARGIN_MS);
  return {
    certificate: reply.certificate,
    anchors: reply.anchors,
    resultClass: reply.resultClass,
    osStatus: reply.osStatus,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    receivedAt: options.nowMs,
  };
}

function invalid(reason: string, cause?: unknown): AgentError {
  return new AgentError('AGENT_CERTIFICATE_INVALID', reason, { cause });
}

function sameKey(a: PublicKey, b: PublicKey): boolean {
  return Buffer.compare(publicKeyToRaw(a), publicKeyToRaw(b)) === 0;
}

function checkCertificate(
  deviceId: string,
  certificateKey: PublicKey,
  reply: AttestationResult,
  nowMs: number,
): ParsedCertificate {
  let leaf: ParsedCertificate;
  try {
    leaf = parseCertificate(new Uint8Array(Buffer.from(reply.certificate, 'base64')));
  } catch (cause) {
    throw invalid('the certificate does not parse', cause);
  }
  if (!sameKey(leaf.publicKey, certificateKey)) {
    throw invalid("the certificate does not certify the root of trust's new certificate key");
  }
  if (leaf.subject.commonName !== deviceId) throw invalid('the certificate names another device');
  // Update-only certificates come from the update CA, whose anchors devices do not hold: the
  // TLS connection pinned to the platform root vouches for those.
  if (reply.resultClass !== 'update-only') {
    try {
      const anchors = reply.anchors.map((pem) => parseCertificate(decodePem(pem)));
      verifyDeviceCertificateChain([leaf.der], {
        anchorsForTenant: () => anchors,
        now: Math.max(nowMs, leaf.notBefore),
        allowedClasses: [reply.resultClass],
      });
    } catch (cause) {
      throw invalid("the certificate does not verify under the tenant's anchors", cause);
    }
  }
  return leaf;
}

/** How long before expiry a device renews: a third of the certificate's lifetime. */
const RENEW_AT_FRACTION = 2 / 3;
/** Devices re-attest at least this often, whatever the certificate's lifetime. */
export const MAX_RENEWAL_INTERVAL_MS = 24 * 3_600_000;

/**
 * When to renew `held` (ms): two thirds of the way from its arrival to its expiry (its notBefore
 * is backdated five minutes for clock skew, so it does not count), and at most 24 hours after
 * it arrived.
 */
export function renewalTime(held: HeldCertificate): number {
  const start = Math.max(held.notBefore, held.receivedAt);
  const usable = Math.max(0, held.notAfter - start);
  return Math.min(start + usable * RENEW_AT_FRACTION, held.receivedAt + MAX_RENEWAL_INTERVAL_MS);
}

/** First retry delay after a failed attestation, and the most any retry waits, in ms. */
export const RETRY_BASE_MS = 1000;
export const RETRY_MAX_MS = 5 * 60_000;

/**
 * Exponential backoff with full jitter (a uniformly random delay up to the exponential bound),
 * so a fleet cut off by the same outage does not come back in lockstep. `unit` is a random
 * number in [0, 1).
 */
export function retryDelay(attempt: number, unit: number): number {
  const bound = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt, 30));
  return Math.floor(unit * bound);
}
