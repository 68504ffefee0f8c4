import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeBase64Url, publicKeyFromKeyObject, publicKeyToJwk, type DeviceId } from '@orbis/crypto';
import { DEBUG_STATUS, type SignedDeviceCapability } from '@orbis/protocol';
import { createNonce, parseEvidenceJws, verifyEvidence, type VerifiedEvidence } from '@orbis/verify';
import type { RootOfTrust } from '../root-of-trust.ts';
import { assertRotError, manufacturedDevice, sampleEntry } from './emulated.test-helpers.ts';

const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const nonceKey = randomBytes(32);
const random = { bytes: (length: number) => new Uint8Array(randomBytes(length)) };

function nonceFor(rot: RootOfTrust): string {
  return createNonce({ key: nonceKey, deviceId: rot.deviceId as DeviceId, now, random });
}

/** What the service does with evidence before appraisal: verifyEvidence against the registered key. */
function verifyAsService(rot: RootOfTrust, evidence: string, nonce: string): VerifiedEvidence {
  return verifyEvidence(evidence, {
    identityKey: rot.identityKey,
    expectedNonce: nonce,
    now,
    maxClockSkewSeconds: 60,
  });
}

async function bootedDevice(t: Parameters<typeof manufacturedDevice>[0]) {
  const device = await manufacturedDevice(t);
  await device.rot.beginBoot();
  await device.rot.measure(sampleEntry('os', 4));
  await device.rot.measure(sampleEntry('app', 1));
  return device;
}

function sampleCapability(deviceId: string): SignedDeviceCapability {
  return {
    capability: {
      deviceId,
      tenantId: '6f1c5b1e-9a0b-4c4e-8f35-0d2e4b7a9c11',
      capability: 'appDevelopment',
      issuedAt: now / 1000,
      expiresAt: now / 1000 + 3600,
      epoch: 0,
    },
    signature: Buffer.alloc(64, 7).toString('base64url'),
  };
}

describe('evidence from the emulated root of trust', () => {
  it("produces evidence the service's verifyEvidence accepts", async (t) => {
    const { rot } = await bootedDevice(t);
    const floorComponent = rot.bootLog()[0]?.componentId as string;
    await rot.raiseAntiRollbackFloor(floorComponent, 4);
    await rot.advanceCounter('capabilityEpoch', 2);
    const nonce = nonceFor(rot);
    const capabilities = [sampleCapability(rot.deviceId)];
    const verified = verifyAsService(
      rot,
      (await rot.createEvidence(nonce, { nowMs: now + 999, capabilities })).evidence,
      nonce,
    );
    assert.equal(verified.deviceId, rot.deviceId);
    assert.equal(verified.certificateKey.keyId, publicKeyFromKeyObject(await rot.certificateTlsKey()).keyId);
    assert.deepEqual(verified.claims.orbis_boot_log, rot.bootLog());
    assert.equal(verified.claims.bootcount, rot.currentBoot().bootcount);
    assert.equal(verified.claims.bootseed, rot.currentBoot().bootseed);
    assert.equal(verified.claims.iat, now / 1000);
    assert.equal(verified.claims.dbgstat, DEBUG_STATUS.disabledPermanently);
    assert.deepEqual(verified.claims.orbis_counters, {
      antiRollback: { [floorComponent]: 4 },
      capabilityEpoch: 2,
    });
    assert.deepEqual(verified.claims.orbis_capabilities, capabilities);
  });

  it('signs with a protected header of exactly alg ES256 and typ eat+jwt, and an r ‖ s signature', async (t) => {
    const { rot } = await bootedDevice(t);
    const { evidence } = await rot.createEvidence(nonceFor(rot), { nowMs: now, capabilities: [] });
    const [header] = evidence.split('.') as [string];
    assert.equal(new TextDecoder().decode(decodeBase64Url(header)), '{"alg":"ES256","typ":"eat+jwt"}');
    assert.equal(parseEvidenceJws(evidence).signature.byteLength, 64);
  });

  it('puts its own certificate key in cnf, never one handed to it', async (t) => {
    const { rot } = await bootedDevice(t);
    const attackerKey = publicKeyFromKeyObject(
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
    );
    const nonce = nonceFor(rot);
    const options = {
      nowMs: now,
      capabilities: [],
      cnf: { jwk: publicKeyToJwk(attackerKey) },
      certificateKey: attackerKey,
    };
    const verified = verifyAsService(rot, (await rot.createEvidence(nonce, options)).evidence, nonce);
    assert.notEqual(verified.certificateKey.keyId, attackerKey.keyId);
    assert.notEqual(verified.certificateKey.keyId, rot.identityKey.keyId);
    assert.equal(verified.certificateKey.keyId, publicKeyFromKeyObject(await rot.certificateTlsKey()).keyId);
  });

  it('names the rotated certificate key in cnf after a rotation', async (t) => {
    const { rot } = await bootedDevice(t);
    const first = await rot.rotateCertificateKey();
    const second = await rot.rotateCertificateKey();
    assert.notEqual(first.keyId, second.keyId);
    const nonce = nonceFor(rot);
    const verified = verifyAsService(
      rot,
      (await rot.createEvidence(nonce, { nowMs: now, capabilities: [] })).evidence,
      nonce,
    );
    assert.equal(verified.certificateKey.keyId, second.keyId);
  });

  it('reports the debug status set at manufacture', async (t) => {
    const { rot } = await manufacturedDevice(t, { debugStatus: DEBUG_STATUS.enabled });
    await rot.beginBoot();
    await rot.measure(sampleEntry());
    const nonce = nonceFor(rot);
    const verified = verifyAsService(
      rot,
      (await rot.createEvidence(nonce, { nowMs: now, capabilities: [] })).evidence,
      nonce,
    );
    assert.equal(verified.claims.dbgstat, DEBUG_STATUS.enabled);
  });

  it('refuses to attest for a Blank device', async (t) => {
    const { rot } = await manufacturedDevice(t, { complete: false });
    await assertRotError(
      rot.createEvidence(nonceFor(rot), { nowMs: now, capabilities: [] }),
      'ROT_NOT_MANUFACTURED',
    );
  });

  it('refuses to attest before a boot, or before anything of the boot was measured', async (t) => {
    const { rot } = await manufacturedDevice(t);
    await assertRotError(
      rot.createEvidence(nonceFor(rot), { nowMs: now, capabilities: [] }),
      'ROT_NOT_BOOTED',
    );
    await rot.beginBoot();
    await assertRotError(
      rot.createEvidence(nonceFor(rot), { nowMs: now, capabilities: [] }),
      'ROT_NOT_BOOTED',
    );
  });

  it('signs nothing a verifier would refuse: a malformed nonce, a bad time or capability', async (t) => {
    const { rot } = await bootedDevice(t);
    await assert.rejects(rot.createEvidence('not a nonce', { nowMs: now, capabilities: [] }), RangeError);
    await assert.rejects(
      rot.createEvidence(nonceFor(rot), { nowMs: Number.NaN, capabilities: [] }),
      RangeError,
    );
    const bad = { ...sampleCapability(rot.deviceId), signature: 'short' };
    await assert.rejects(rot.createEvidence(nonceFor(rot), { nowMs: now, capabilities: [bad] }), RangeError);
  });
});
