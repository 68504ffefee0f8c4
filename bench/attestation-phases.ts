/**
 * The steps of attest(), in the order it runs them, each as a repeatable operation on the
 * same data, so bench/attestation.ts can time them alone and show where an attestation's time
 * goes. The write transaction repeats attest()'s three statements on throwaway nonces and
 * serials (attest() itself cannot be split).
 */
import { randomBytes } from 'node:crypto';
import { encodeHex, parseDeviceId, parsePublicKeySpki } from '@orbis/crypto';
import { DEVICE_CERTIFICATE_BACKDATE_SECONDS, NONCE_LIFETIME_SECONDS } from '@orbis/protocol';
import { appraiseEvidence, verifyEvidence, verifyNonce } from '@orbis/verify';
import { issueChallenge } from '../packages/service/src/attestation/attestation.service.ts';
import { withTransaction } from '../packages/service/src/db/backend.ts';
import { findTenantGroup } from '../packages/service/src/groups/groups.repo.ts';
import {
  findOsMeasurement,
  getFeedPolicy,
  latestOsSecurityVersion,
} from '../packages/service/src/os-releases/os-releases.repo.ts';
import { findDevice } from '../packages/service/src/registry/registry.repo.ts';
import type { SoftwareDevice } from '../packages/service/src/testing/software-device.ts';
import type { BackendRun } from './attestation-backend.ts';

/** attest()'s allowance for device clocks, in seconds. */
const MAX_CLOCK_SKEW_SECONDS = 300;
const CERTIFICATE_LIFETIME_MS = 86_400_000;

const uniqueText = () => encodeHex(randomBytes(24));

/** attest()'s transaction: use the nonce, move the device's boot state forward, record the certificate. */
async function persistLikeAttest(run: BackendRun, deviceId: string, bootcount: number, bootseed: string) {
  const now = Date.now();
  await withTransaction(run.handle.db, async (trx) => {
    await trx
      .insertInto('nonces_used')
      .values({ nonce: uniqueText(), device_id: deviceId, used_at: now })
      .execute();
    const updated = await trx
      .updateTable('devices')
      .set({ last_bootcount: bootcount, last_bootseed: bootseed, last_attested_at: now })
      .where('device_id', '=', deviceId)
      .where((eb) =>
        eb.or([
          eb('last_bootcount', 'is', null),
          eb('last_bootcount', '<', bootcount),
          eb.and([eb('last_bootcount', '=', bootcount), eb('last_bootseed', '=', bootseed)]),
        ]),
      )
      .executeTakeFirst();
    if (updated.numUpdatedRows !== 1n) throw new Error('the device row was not updated');
    await trx
      .insertInto('certificates')
      .values({
        serial: uniqueText(),
        device_id: deviceId,
        tenant_id: run.tenantId,
        result_class: 'trusted',
        not_before: now,
        not_after: now + CERTIFICATE_LIFETIME_MS,
        issued_at: now,
      })
      .execute();
  });
}

/** The cheapest durable write: one row, one commit. */
async function persistNonceOnly(run: BackendRun, deviceId: string) {
  await withTransaction(run.handle.db, async (trx) => {
    await trx
      .insertInto('nonces_used')
      .values({ nonce: uniqueText(), device_id: deviceId, used_at: Date.now() })
      .execute();
  });
}

/** [name, operation] for each step, for a device of the seeded fleet. */
export async function attestationPhases(
  run: BackendRun,
  device: SoftwareDevice,
  nonceKey: Uint8Array,
): Promise<[string, () => unknown][]> {
  const { db } = run.handle;
  const deviceId = parseDeviceId(device.deviceId);
  const groupId = (await findDevice(db, deviceId))?.groupId;
  const group = groupId == null ? undefined : await findTenantGroup(db, run.tenantId, groupId);
  if (group === undefined) throw new Error('the fleet is not seeded');
  const { nonce } = issueChallenge(run.deps, deviceId);
  const evidenceText = device.evidence(nonce, Date.now());
  const identityKey = parsePublicKeySpki(device.identitySpki);
  const verifyOptions = () => ({
    identityKey,
    expectedNonce: nonce,
    now: Date.now(),
    maxClockSkewSeconds: MAX_CLOCK_SKEW_SECONDS,
  });
  const evidence = verifyEvidence(evidenceText, verifyOptions());
  const { bootcount, bootseed } = evidence.claims;
  const issuer = await run.deps.pki.tenantIssuer(run.tenantId, Date.now());
  const measurements = new Map<string, Awaited<ReturnType<typeof findOsMeasurement>>>();
  for (const entry of device.bootLog)
    measurements.set(entry.sha256, await findOsMeasurement(db, entry.sha256));
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
    osMeasurement: (sha256: string) => measurements.get(sha256),
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
  return [
    ['issueChallenge (HMAC nonce)', () => issueChallenge(run.deps, deviceId)],
    ['read: findDevice', () => findDevice(db, deviceId)],
    [
      'verifyNonce',
      () =>
        verifyNonce(nonce, {
          key: nonceKey,
          deviceId,
          now: Date.now(),
          lifetimeSeconds: NONCE_LIFETIME_SECONDS,
        }),
    ],
    [
      'parsePublicKeySpki (identity key, parsed on every attest)',
      () => parsePublicKeySpki(device.identitySpki),
    ],
    [
      'verifyEvidence (ES256 P1363 verify, JSON, schema, cnf JWK)',
      () => verifyEvidence(evidenceText, verifyOptions()),
    ],
    ['read: findTenantGroup', () => findTenantGroup(db, run.tenantId, group.id)],
    ['read: getFeedPolicy', () => getFeedPolicy(db, group.osFeed)],
    ['read: latestOsSecurityVersion', () => latestOsSecurityVersion(db)],
    [
      `reads: findOsMeasurement × ${device.bootLog.length}`,
      async () => {
        for (const entry of device.bootLog) await findOsMeasurement(db, entry.sha256);
      },
    ],
    ['appraiseEvidence (pure)', () => appraiseEvidence(evidence.claims, deviceState, references())],
    ['issuer.issue (device certificate)', () => issuer.issue(certificateRequest())],
    [
      'write transaction: nonce, device, certificate (as attest() runs it)',
      () => persistLikeAttest(run, deviceId, bootcount, bootseed),
    ],
    ['write transaction: one nonce row (the commit floor)', () => persistNonceOnly(run, deviceId)],
    [
      'tenantAnchorPems (test PKI: PEM of the CA)',
      () => run.deps.pki.tenantAnchorPems(run.tenantId, Date.now()),
    ],
  ];
}
