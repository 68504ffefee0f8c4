import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalizeJson, publicKeyFromKeyObject } from '@orbis/crypto';
import type { BootLogEntry } from '@orbis/protocol';
import type { RootOfTrust } from '../root-of-trust.ts';
import { openEmulatedRootOfTrust } from './emulated-backend.ts';
import {
  assertRotError,
  assertRotErrorSync,
  manufacturedDevice,
  sampleEntry,
  type TestDevice,
} from './emulated.test-helpers.ts';

async function reopen(device: TestDevice): Promise<RootOfTrust> {
  await device.rot.close();
  const rot = await openEmulatedRootOfTrust(device.dir);
  device.opened.push(rot);
  return rot;
}

/** The register computed independently: SHA-256(register ‖ SHA-256(canonical JSON of the entry)). */
function expectedRegister(entries: readonly BootLogEntry[]): Uint8Array {
  let register = Buffer.alloc(32);
  for (const entry of entries) {
    const digest = createHash('sha256').update(canonicalizeJson(entry)).digest();
    register = createHash('sha256').update(register).update(digest).digest();
  }
  return new Uint8Array(register);
}

describe('manufacturing state', () => {
  it('starts Blank and refuses to boot until manufacturing completes', async (t) => {
    const { rot } = await manufacturedDevice(t, { complete: false });
    assert.equal(await rot.manufacturingState(), 'Blank');
    await assertRotError(rot.beginBoot(), 'ROT_NOT_MANUFACTURED');
    await rot.completeManufacturing();
    assert.equal(await rot.manufacturingState(), 'DeviceComplete');
    assert.equal((await rot.beginBoot()).bootcount, 1);
  });

  it('refuses to complete manufacturing twice: DeviceComplete is final, even after a reopen', async (t) => {
    const device = await manufacturedDevice(t);
    await assertRotError(device.rot.completeManufacturing(), 'ROT_MANUFACTURING_STATE_FINAL');
    const reopened = await reopen(device);
    assert.equal(await reopened.manufacturingState(), 'DeviceComplete');
    await assertRotError(reopened.completeManufacturing(), 'ROT_MANUFACTURING_STATE_FINAL');
  });
});

describe('boots and measurements', () => {
  it('raises bootcount and draws a fresh 32-byte boot seed on every boot', async (t) => {
    const { rot } = await manufacturedDevice(t);
    const first = await rot.beginBoot();
    const second = await rot.beginBoot();
    assert.deepEqual([first.bootcount, second.bootcount], [1, 2]);
    assert.notEqual(first.bootseed, second.bootseed);
    assert.equal(Buffer.from(second.bootseed, 'base64url').byteLength, 32);
    assert.deepEqual(rot.currentBoot(), second);
    assert.equal(await rot.counter('bootcount'), 2);
  });

  it('extends the register as SHA-256(register ‖ SHA-256(canonical JSON)) and logs in order', async (t) => {
    const { rot } = await manufacturedDevice(t);
    await rot.beginBoot();
    assert.deepEqual(rot.measurementRegister(), new Uint8Array(32));
    const entries = [
      sampleEntry('bootloader'),
      sampleEntry('security-monitor'),
      sampleEntry('os'),
      sampleEntry('app'),
    ];
    for (const entry of entries) await rot.measure(entry);
    assert.deepEqual(rot.bootLog(), entries);
    assert.deepEqual(rot.measurementRegister(), expectedRegister(entries));
  });

  it('starts every boot with an empty log and a zero register', async (t) => {
    const { rot } = await manufacturedDevice(t);
    await rot.beginBoot();
    await rot.measure(sampleEntry());
    await rot.beginBoot();
    assert.deepEqual(rot.bootLog(), []);
    assert.deepEqual(rot.measurementRegister(), new Uint8Array(32));
  });

  it('refuses to measure, or to tell the boot, before a boot begins', async (t) => {
    const { rot } = await manufacturedDevice(t);
    await assertRotError(rot.measure(sampleEntry()), 'ROT_NOT_BOOTED');
    assertRotErrorSync(() => rot.currentBoot(), 'ROT_NOT_BOOTED');
    assertRotErrorSync(() => rot.bootLog(), 'ROT_NOT_BOOTED');
    assertRotErrorSync(() => rot.measurementRegister(), 'ROT_NOT_BOOTED');
  });

  it('logs what it measured, whatever the caller does to its object afterwards', async (t) => {
    const { rot } = await manufacturedDevice(t);
    await rot.beginBoot();
    assert.throws(() => (rot.bootLog() as BootLogEntry[]).push(sampleEntry()), TypeError);
    const entry = sampleEntry();
    const measured = { ...entry };
    await rot.measure(measured);
    measured.version = '9.9.9';
    rot.measurementRegister().fill(1);
    assert.deepEqual(rot.bootLog(), [entry]);
    assert.deepEqual(rot.measurementRegister(), expectedRegister([entry]));
    assert.throws(() => (rot.bootLog() as BootLogEntry[]).push(entry), TypeError);
  });

  it('refuses to measure an entry a verifier could not read', async (t) => {
    const { rot } = await manufacturedDevice(t);
    await rot.beginBoot();
    await assert.rejects(rot.measure({ ...sampleEntry(), sha256: 'not hex' }), RangeError);
    assert.deepEqual(rot.bootLog(), []);
  });
});

describe('monotonic counters and anti-rollback floors', () => {
  it('never lets a counter go backwards, even across a reopen', async (t) => {
    const device = await manufacturedDevice(t);
    await device.rot.advanceCounter('capabilityEpoch', 5);
    await device.rot.beginBoot();
    await assertRotError(device.rot.advanceCounter('capabilityEpoch', 4), 'ROT_COUNTER_BACKWARDS');
    await assertRotError(device.rot.advanceCounter('bootcount', 0), 'ROT_COUNTER_BACKWARDS');
    const reopened = await reopen(device);
    assert.equal(await reopened.counter('capabilityEpoch'), 5);
    assert.equal(await reopened.counter('bootcount'), 1);
    await assertRotError(reopened.advanceCounter('capabilityEpoch', 4), 'ROT_COUNTER_BACKWARDS');
    assert.equal((await reopened.beginBoot()).bootcount, 2);
  });

  it('never lowers an anti-rollback floor, even across a reopen', async (t) => {
    const device = await manufacturedDevice(t);
    const component = randomUUID();
    await device.rot.raiseAntiRollbackFloor(component, 3);
    await device.rot.raiseAntiRollbackFloor(component, 3);
    await assertRotError(device.rot.raiseAntiRollbackFloor(component, 2), 'ROT_COUNTER_BACKWARDS');
    const reopened = await reopen(device);
    assert.deepEqual(await reopened.antiRollbackFloors(), { [component]: 3 });
    await assertRotError(reopened.raiseAntiRollbackFloor(component, 2), 'ROT_COUNTER_BACKWARDS');
    await reopened.raiseAntiRollbackFloor(component, 4);
    assert.deepEqual(await reopened.antiRollbackFloors(), { [component]: 4 });
  });

  it('refuses counter values and component IDs the evidence could not carry', async (t) => {
    const { rot } = await manufacturedDevice(t);
    await assert.rejects(rot.advanceCounter('capabilityEpoch', 2 ** 32), RangeError);
    await assert.rejects(rot.advanceCounter('capabilityEpoch', 1.5), RangeError);
    await assert.rejects(rot.advanceCounter('nonsense' as 'bootcount', 1), RangeError);
    await assert.rejects(rot.raiseAntiRollbackFloor('OS', 1), RangeError);
    assert.equal(await rot.counter('capabilityEpoch'), 0);
  });

  it('runs concurrent changes one at a time, so none is lost', async (t) => {
    const device = await manufacturedDevice(t);
    const components = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(
      components.map((component, index) => device.rot.raiseAntiRollbackFloor(component, index)),
    );
    const reopened = await reopen(device);
    assert.equal(Object.keys(await reopened.antiRollbackFloors()).length, components.length);
  });
});

describe('not-before time', () => {
  it('only moves forward, ignores an older time, and keeps it across a reopen', async (t) => {
    const device = await manufacturedDevice(t);
    assert.equal(await device.rot.notBefore(), 0);
    await device.rot.advanceNotBefore(2_000);
    await device.rot.advanceNotBefore(1_000);
    assert.equal(await device.rot.notBefore(), 2_000);
    const reopened = await reopen(device);
    assert.equal(await reopened.notBefore(), 2_000);
    await assert.rejects(reopened.advanceNotBefore(Number.NaN), RangeError);
  });
});

describe('keys and randomness', () => {
  it('names the device by SHA-256 of its identity key SPKI, the same across a reopen', async (t) => {
    const device = await manufacturedDevice(t);
    const spki = device.rot.identityKey.spki;
    assert.equal(device.rot.deviceId, createHash('sha256').update(spki).digest('hex'));
    const reopened = await reopen(device);
    assert.equal(reopened.deviceId, device.rot.deviceId);
  });

  it('generates a fresh certificate key inside the root of trust and keeps it across a reopen', async (t) => {
    const device = await manufacturedDevice(t);
    const rotated = await device.rot.rotateCertificateKey();
    assert.notEqual(rotated.keyId, device.rot.identityKey.keyId);
    const reopened = await reopen(device);
    const tlsKey = await reopened.certificateTlsKey();
    assert.equal(tlsKey.type, 'private');
    assert.equal(publicKeyFromKeyObject(tlsKey).keyId, rotated.keyId);
  });

  it('hands out the identity key only as a public key', async (t) => {
    const { rot } = await manufacturedDevice(t);
    assert.equal(rot.identityKey.keyObject.type, 'public');
    assert.doesNotMatch(JSON.stringify(rot), /PRIVATE|"d"/);
    assert.deepEqual(Object.keys(rot), ['backend', 'deviceId', 'identityKey']);
  });

  it('gives random bytes of the length asked for, within a bound', async (t) => {
    const { rot } = await manufacturedDevice(t);
    assert.equal(rot.random(48).byteLength, 48);
    assert.notDeepEqual(rot.random(32), rot.random(32));
    assert.throws(() => rot.random(-1), RangeError);
    assert.throws(() => rot.random(1024 * 1024), RangeError);
  });
});

describe('closing', () => {
  it('finishes what was called, releases the directory, and refuses changes afterwards', async (t) => {
    const device = await manufacturedDevice(t);
    const advanced = device.rot.advanceCounter('capabilityEpoch', 3);
    await device.rot.close();
    await advanced;
    await assertRotError(device.rot.advanceCounter('capabilityEpoch', 4), 'ROT_DIRECTORY_LOCKED');
    await assertRotError(
      device.rot.seal(Uint8Array.of(1), { signingAuthority: 'a'.repeat(64), securityVersionFloor: 0 }),
      'ROT_DIRECTORY_LOCKED',
    );
    const reopened = await openEmulatedRootOfTrust(device.dir);
    device.opened.push(reopened);
    assert.equal(await reopened.counter('capabilityEpoch'), 3);
  });
});
