import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signDeviceCapability } from '@orbis/ca';
import { generateSoftwareSigner } from '@orbis/crypto';
import { ORBIS_EAT_PROFILE, type AttestationClaims, type BootLogEntry } from '@orbis/protocol';
import {
  appraiseEvidence,
  type AppraisalPolicy,
  type DeviceRecord,
  type ReferenceMeasurement,
} from './appraise.ts';
import { checkDeviceCapability } from './device-capability.ts';

const tenantId = '7b1d9f42-6a3e-4c85-b0d2-19e4f7a6c3b8';
const otherTenant = '11111111-2222-4333-8444-555555555555';
const deviceId = 'd'.repeat(64);
const signer = 'e'.repeat(64);
const capabilityKey = generateSoftwareSigner().signer;
const now = 1_795_000_000;

const stage = (kind: BootLogEntry['kind'], n: number, securityVersion = 3): BootLogEntry => ({
  kind,
  componentId: `0000000${n}-0000-4000-8000-000000000000`,
  version: `1.0.${securityVersion}`,
  securityVersion,
  sha256: String(n).repeat(64),
  signer,
});
const bootloader = stage('bootloader', 1);
const os = stage('os', 2);
const app = stage('app', 3, 1);

const references = new Map<string, ReferenceMeasurement>([
  [bootloader.sha256, { ...bootloader, kind: 'bootloader' }],
  [os.sha256, { ...os, kind: 'os' }],
]);

const policy: AppraisalPolicy = {
  osMeasurement: (sha256) => references.get(sha256),
  appImage: (sha256) => (sha256 === app.sha256 ? { ...app, tenantId } : undefined),
  minimumOsSecurityVersion: 3,
  inGracePeriod: false,
  latestOsSecurityVersion: 3,
  capabilityKey: capabilityKey.publicKey,
  now,
};

const device: DeviceRecord = {
  deviceId,
  tenantId,
  disabled: false,
  quarantined: false,
  lastBootcount: 10,
  lastBootseed: 'seed-10',
  capabilityEpoch: 2,
};

function claims(overrides: Partial<AttestationClaims> = {}): AttestationClaims {
  return {
    eat_nonce: 'n',
    ueid: 'u',
    eat_profile: ORBIS_EAT_PROFILE,
    iat: now,
    bootcount: 11,
    bootseed: 'seed-11',
    dbgstat: 3,
    orbis_boot_log: [bootloader, os, app],
    orbis_counters: { antiRollback: {}, capabilityEpoch: 2 },
    orbis_capabilities: [],
    cnf: { jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } },
    ...overrides,
  };
}

const appDevelopment = (overrides: Partial<Parameters<typeof signDeviceCapability>[0]> = {}) =>
  signDeviceCapability(
    {
      deviceId,
      tenantId,
      capability: 'appDevelopment',
      issuedAt: now - 60,
      expiresAt: now + 3600,
      epoch: 2,
      ...overrides,
    },
    capabilityKey,
  );

const codes = (result: ReturnType<typeof appraiseEvidence>) => result.findings.map((finding) => finding.code);

describe('appraiseEvidence', () => {
  it('trusts a claimed device whose every boot stage and app is a known reference value', () => {
    const result = appraiseEvidence(claims(), device, policy);
    assert.equal(result.outcome, 'trusted');
    assert.equal(result.osStatus, 'current');
  });

  it('keeps trusting a device on an older OS that is still allowed (superseded, not punished)', () => {
    const result = appraiseEvidence(claims(), device, { ...policy, latestOsSecurityVersion: 4 });
    assert.equal(result.outcome, 'trusted');
    assert.equal(result.osStatus, 'superseded');
  });

  it('judges an OS below the group minimum outdated, but only after the grace period', () => {
    assert.equal(
      appraiseEvidence(claims(), device, { ...policy, minimumOsSecurityVersion: 4 }).outcome,
      'outdated',
    );
    const grace = { ...policy, minimumOsSecurityVersion: 4, inGracePeriod: true };
    assert.equal(appraiseEvidence(claims(), device, grace).outcome, 'trusted');
  });

  it('refuses an unknown OS measurement', () => {
    const unknown = { ...os, sha256: 'f'.repeat(64) };
    const result = appraiseEvidence(claims({ orbis_boot_log: [bootloader, unknown] }), device, policy);
    assert.equal(result.outcome, 'untrusted');
    assert.deepEqual(codes(result), ['APPRAISAL_MEASUREMENT_UNKNOWN']);
  });

  it('refuses a known measurement reported as another stage or version', () => {
    const relabelled = { ...bootloader, kind: 'security-monitor' as const };
    const older = { ...os, securityVersion: 2 };
    assert.equal(
      appraiseEvidence(claims({ orbis_boot_log: [relabelled, os] }), device, policy).outcome,
      'untrusted',
    );
    assert.equal(
      appraiseEvidence(claims({ orbis_boot_log: [bootloader, older] }), device, policy).outcome,
      'untrusted',
    );
  });

  it('refuses a boot log without exactly one OS', () => {
    assert.deepEqual(codes(appraiseEvidence(claims({ orbis_boot_log: [bootloader] }), device, policy)), [
      'APPRAISAL_MEASUREMENT_UNKNOWN',
    ]);
    const twice = appraiseEvidence(claims({ orbis_boot_log: [bootloader, os, os] }), device, policy);
    assert.equal(twice.outcome, 'untrusted');
  });

  it('refuses an unknown app, and another tenant’s app', () => {
    const foreign = { ...policy, appImage: () => ({ ...app, tenantId: otherTenant }) };
    assert.deepEqual(codes(appraiseEvidence(claims(), device, foreign)), ['APPRAISAL_APP_UNKNOWN']);
    const relabelled = claims({ orbis_boot_log: [bootloader, os, { ...app, version: '9.9.9' }] });
    assert.deepEqual(codes(appraiseEvidence(relabelled, device, policy)), ['APPRAISAL_APP_UNKNOWN']);
    const unknown = { ...policy, appImage: () => undefined };
    assert.deepEqual(codes(appraiseEvidence(claims(), device, unknown)), ['APPRAISAL_APP_UNKNOWN']);
  });

  it('refuses a disabled, quarantined or unclaimed device', () => {
    assert.deepEqual(codes(appraiseEvidence(claims(), { ...device, disabled: true }, policy)), [
      'APPRAISAL_DEVICE_DISABLED',
    ]);
    assert.deepEqual(codes(appraiseEvidence(claims(), { ...device, quarantined: true }, policy)), [
      'APPRAISAL_DEVICE_QUARANTINED',
    ]);
    const unclaimed = appraiseEvidence(claims(), { ...device, tenantId: undefined }, policy);
    assert.ok(codes(unclaimed).includes('APPRAISAL_DEVICE_UNCLAIMED'));
  });

  it('refuses a bootcount that goes backwards', () => {
    assert.deepEqual(codes(appraiseEvidence(claims({ bootcount: 9 }), device, policy)), [
      'APPRAISAL_BOOTCOUNT_REGRESSED',
    ]);
  });

  it('detects a clone: one bootcount reported with two boot seeds', () => {
    const clone = claims({ bootcount: 10, bootseed: 'seed-other' });
    assert.deepEqual(codes(appraiseEvidence(clone, device, policy)), ['APPRAISAL_CLONE_DETECTED']);
    const sameBoot = claims({ bootcount: 10, bootseed: 'seed-10' });
    assert.equal(appraiseEvidence(sameBoot, device, policy).outcome, 'trusted');
    assert.equal(
      appraiseEvidence(claims(), { ...device, lastBootcount: undefined }, policy).outcome,
      'trusted',
    );
  });

  it('appraises a device with a valid appDevelopment capability as development, debug-signed apps included', async () => {
    const withDebugApp = claims({
      orbis_boot_log: [bootloader, os, { ...app, sha256: '9'.repeat(64) }],
      dbgstat: 0,
    });
    const result = appraiseEvidence(
      { ...withDebugApp, orbis_capabilities: [await appDevelopment()] },
      device,
      policy,
    );
    assert.equal(result.outcome, 'development');
    assert.equal(result.holdsAppDevelopment, true);
  });

  it('refuses debugging enabled without an appDevelopment capability', () => {
    assert.deepEqual(codes(appraiseEvidence(claims({ dbgstat: 0 }), device, policy)), [
      'APPRAISAL_DEBUG_UNAUTHORIZED',
    ]);
  });

  it('ignores a capability that was removed (older epoch), expired, or issued for another device', async () => {
    for (const capability of [
      await appDevelopment({ epoch: 1 }),
      await appDevelopment({ expiresAt: now }),
      await appDevelopment({ deviceId: 'c'.repeat(64) }),
    ]) {
      const result = appraiseEvidence(
        claims({ dbgstat: 0, orbis_capabilities: [capability] }),
        device,
        policy,
      );
      assert.equal(result.outcome, 'untrusted');
    }
  });
});

describe('checkDeviceCapability', () => {
  const context = { deviceId, tenantId, now, epoch: 2 };

  it('accepts a current capability signed by the capability key', async () => {
    assert.equal(
      checkDeviceCapability(await appDevelopment(), capabilityKey.publicKey, context)?.capability,
      'appDevelopment',
    );
  });

  it('rejects a capability signed by another key, or altered after signing', async () => {
    const forged = await signDeviceCapability(
      (await appDevelopment()).capability,
      generateSoftwareSigner().signer,
    );
    assert.equal(checkDeviceCapability(forged, capabilityKey.publicKey, context), undefined);
    const signed = await appDevelopment();
    const extended = { ...signed, capability: { ...signed.capability, expiresAt: now + 10 * 365 * 86_400 } };
    assert.equal(checkDeviceCapability(extended, capabilityKey.publicKey, context), undefined);
  });

  it('rejects a capability for another tenant, not yet valid, or malformed', async () => {
    assert.equal(
      checkDeviceCapability(
        await appDevelopment({ tenantId: otherTenant }),
        capabilityKey.publicKey,
        context,
      ),
      undefined,
    );
    assert.equal(
      checkDeviceCapability(await appDevelopment({ issuedAt: now + 60 }), capabilityKey.publicKey, context),
      undefined,
    );
    const signed = await appDevelopment();
    assert.equal(
      checkDeviceCapability(
        { ...signed, signature: `${signed.signature.slice(0, -1)}B` },
        capabilityKey.publicKey,
        context,
      ),
      undefined,
    );
    assert.equal(
      checkDeviceCapability({ capability: 'appDevelopment' }, capabilityKey.publicKey, context),
      undefined,
    );
  });
});
