/**
 * The steps of attest(), in the order it runs them, each as a repeatable operation on the
 * same data, so bench/attestation.ts can time them alone and show where an attestation's time
 * goes. The writes go through an AttestationRecorder of their own, on throwaway nonces and
 * serials and on boot counts that only move forward.
 */
import { randomBytes } from 'node:crypto';
import { encodeHex, parseDeviceId, parsePublicKeySpki } from '@orbis/crypto';
import { DEVICE_CERTIFICATE_BACKDATE_SECONDS, NONCE_LIFETIME_SECONDS } from '@orbis/protocol';
import { appraiseEvidence, verifyEvidence, verifyNonce } from '@orbis/verify';
import { issueChallenge } from '../packages/service/src/attestation/attestation.service.ts';
import {
  AttestationRecorder,
  IdentityKeyCache,
  ReferenceMeasurements,
  readAttestationSubject,
  type AttestationRecord,
} from '../packages/service/src/attestation/attestation.store.ts';
import type { SoftwareDevice } from '../packages/service/src/testing/software-device.ts';
import type { BackendRun } from './attestation-backend.ts';

/** attest()'s allowance for device clocks, in seconds. */
const MAX_CLOCK_SKEW_SECONDS = 300;
const CERTIFICATE_LIFETIME_MS = 86_400_000;
/** Attestations in the larger group commit timed below. */
export const GROUP_COMMIT_RECORDS = 64;

const uniqueText = () => encodeHex(randomBytes(24));
/** Boot counts far above any the fleet reached, rising with every write, so each one moves forward. */
let nextBootcount = 1_000_000_000;
/** Nonce times far in the future, rising with every write, so each spends a newer nonce (ADR 0009). */
let nextNonceTime = 2 ** 47;

function throwawayRecord(run: BackendRun, deviceId: string): AttestationRecord {
  const at = Date.now();
  return {
    nonce: uniqueText(),
    nonceTime: (nextNonceTime += 1),
    deviceId,
    tenantId: run.tenantId,
    bootcount: (nextBootcount += 1),
    bootseed: 'bench',
    at,
    certificate: {
      serial: uniqueText(),
      resultClass: 'trusted',
      notBefore: at,
      notAfter: at + CERTIFICATE_LIFETIME_MS,
    },
  };
}

/** One group commit of a record for each of `deviceIds`; throws unless every record was written. */
async function groupCommit(run: BackendRun, recorder: AttestationRecorder, deviceIds: readonly string[]) {
  const outcomes = await Promise.all(
    deviceIds.map((deviceId) => recorder.record(throwawayRecord(run, deviceId))),
  );
  if (outcomes.some((outcome) => outcome !== 'recorded')) throw new Error(`not recorded: ${outcomes.join()}`);
}

/** [name, operation] for each step, for the first device and, for group commit, the last GROUP_COMMIT_RECORDS. */
export async function attestationPhases(
  run: BackendRun,
  devices: readonly SoftwareDevice[],
): Promise<[string, () => unknown][]> {
  const { db } = run.handle;
  const device = devices[0] as SoftwareDevice;
  const deviceId = parseDeviceId(device.deviceId);
  const { nonce } = issueChallenge(run.deps, deviceId);
  const subject = await readAttestationSubject(db, deviceId);
  const group = subject?.group;
  if (group === undefined) throw new Error('the fleet is not seeded');
  const evidenceText = device.evidence(nonce, Date.now());
  const identityKeys = new IdentityKeyCache();
  const identityKey = identityKeys.get(deviceId, device.identitySpki);
  const verifyOptions = () => ({
    identityKey,
    expectedNonce: nonce,
    now: Date.now(),
    maxClockSkewSeconds: MAX_CLOCK_SKEW_SECONDS,
  });
  const evidence = verifyEvidence(evidenceText, verifyOptions());
  const issuer = await run.deps.pki.tenantIssuer(run.tenantId, Date.now());
  const measurements = new ReferenceMeasurements();
  const osMeasurement = await measurements.lookup(db, subject?.referenceRevision ?? 0);
  const deviceState = {
    deviceId,
    tenantId: run.tenantId,
    disabled: false,
    quarantined: false,
    lastBootcount: undefined,
    lastBootseed: undefined,
    capabilityEpoch: 0,
  };
  const references = () => ({
    osMeasurement,
    appImage: () => undefined,
    minimumOsSecurityVersion: 0,
    inGracePeriod: false,
    latestOsSecurityVersion: 3,
    capabilityKey: run.deps.capabilityKey,
    now: Math.floor(Date.now() / 1000),
  });
  const certificateRequest = () => ({
    deviceId,
    tenantId: run.tenantId,
    productId: group.productId,
    groupId: group.id,
    resultClass: 'trusted' as const,
    certificateKey: evidence.certificateKey,
    notBefore: Date.now() - DEVICE_CERTIFICATE_BACKDATE_SECONDS * 1000,
    notAfter: Date.now() + CERTIFICATE_LIFETIME_MS,
  });
  const recorder = new AttestationRecorder(db);
  // The fleet's last devices: their boot counts jump far ahead, and the TLS section uses the first ones.
  const groupIds = devices.slice(-GROUP_COMMIT_RECORDS).map((entry) => entry.deviceId);
  return [
    ['issueChallenge (HMAC nonce)', () => issueChallenge(run.deps, deviceId)],
    [
      'read: readAttestationSubject (device and its nonce mark, group, feed policy, reference revision: one query)',
      () => readAttestationSubject(db, deviceId),
    ],
    [
      'verifyNonce',
      () =>
        verifyNonce(nonce, {
          key: run.deps.nonceKey,
          deviceId,
          now: Date.now(),
          lifetimeSeconds: NONCE_LIFETIME_SECONDS,
        }),
    ],
    ['identity key: IdentityKeyCache hit', () => identityKeys.get(deviceId, device.identitySpki)],
    [
      'identity key: parsed and verified once (a cache miss: parse, then the key object verification needs)',
      () => parsePublicKeySpki(device.identitySpki).keyObject,
    ],
    [
      'verifyEvidence (ES256 verify, JSON, schema, cnf on-curve check)',
      () => verifyEvidence(evidenceText, verifyOptions()),
    ],
    [
      'reference measurements: lookup at the current revision (in memory)',
      () => measurements.lookup(db, subject?.referenceRevision ?? 0),
    ],
    ['appraiseEvidence (pure)', () => appraiseEvidence(evidence.claims, deviceState, references())],
    ['issuer.issue (device certificate)', () => issuer.issue(certificateRequest())],
    [
      'write: a commit of one attestation (nonce, boot state, certificate)',
      () => groupCommit(run, recorder, [deviceId]),
    ],
    [
      `write: a group commit of ${GROUP_COMMIT_RECORDS} attestations (rate is commits)`,
      () => groupCommit(run, recorder, groupIds),
    ],
    [
      'tenantAnchorPems (test PKI: PEM of the CA)',
      () => run.deps.pki.tenantAnchorPems(run.tenantId, Date.now()),
    ],
  ];
}
