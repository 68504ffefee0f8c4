import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  canonicalJsonBytes,
  decodeBase64Url,
  encodeBase64Url,
  publicKeyFromKeyObject,
  type DeviceId,
} from '@orbis/crypto';
import type { BootLogEntry } from '@orbis/protocol';
import {
  assertRestrictedSigningKey,
  createNonce,
  parseEvidenceJws,
  parseTpmIdentityPublic,
  replayBootLog,
  tpmQualifyingData,
  verifyEvidence,
} from '@orbis/verify';
import { manufactureEmulatedRootOfTrust, openEmulatedRootOfTrust } from '../emulated/emulated-backend.ts';
import { assertRotError } from '../emulated/emulated.test-helpers.ts';
import { manufactureTpmRootOfTrust, openTpmRootOfTrust } from './tpm-backend.ts';
import { MAX_COUNTER_ADVANCE } from './tpm-device-counters.ts';
import type { TpmRootOfTrust } from './tpm-root-of-trust.ts';
import { extendMeasurementPcr, readMeasurementPcr } from './tpm-measurement.ts';
import { withTpmDeviceSecret } from './tpm-secret.ts';
import { encodeTpmStateFile, parseTpmStateFile, tpmStateMacInput } from './tpm-state.ts';
import { checkQuote, manufacturedTpmDevice } from './tpm.test-helpers.ts';

const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const nonceKey = randomBytes(32);
const random = { bytes: (length: number) => new Uint8Array(randomBytes(length)) };
const authority = 'a'.repeat(64);
const otherAuthority = 'b'.repeat(64);

function nonceFor(rot: TpmRootOfTrust): string {
  return createNonce({ key: nonceKey, deviceId: rot.deviceId as DeviceId, now, random });
}

function sampleEntry(kind: BootLogEntry['kind'], securityVersion = 1): BootLogEntry {
  const hex = (text: string) => createHash('sha256').update(text).digest('hex');
  return {
    kind,
    componentId: randomUUID(),
    version: `${securityVersion}.0.0`,
    securityVersion,
    sha256: hex(`${kind} image ${securityVersion}`),
    signer: hex(`${kind} signer`),
  };
}

async function bootAndMeasure(rot: TpmRootOfTrust): Promise<void> {
  await rot.beginBoot();
  for (const kind of ['bootloader', 'security-monitor', 'os', 'app'] as const)
    await rot.measure(sampleEntry(kind));
}

describe('evidence from the TPM root of trust (swtpm)', () => {
  it('manufactures, reopens, boots and measures, and gives a JWS verifyEvidence accepts and a quote tpm2_checkquote accepts over tpmQualifyingData', async (t) => {
    const device = await manufacturedTpmDevice(t);
    const rot = await device.reopen();
    await bootAndMeasure(rot);
    const nonce = nonceFor(rot);
    const { evidence, tpmQuote } = await rot.createEvidence(nonce, { nowMs: now, capabilities: [] });

    const verified = verifyEvidence(evidence, {
      identityKey: rot.identityKey,
      expectedNonce: nonce,
      now,
      maxClockSkewSeconds: 60,
    });
    assert.equal(verified.deviceId, rot.deviceId);
    assert.deepEqual(verified.claims.orbis_boot_log, rot.bootLog());
    assert.equal(verified.claims.bootcount, 1);
    assert.equal(verified.certificateKey.keyId, publicKeyFromKeyObject(await rot.certificateTlsKey()).keyId);
    // The EAT is a few KB, past one TPM2_Hash buffer (1024 bytes): tpm2_hash uses a hash sequence.
    assert.ok(parseEvidenceJws(evidence).signingInput.byteLength > 1024);

    assert.ok(tpmQuote !== undefined);
    const quote = {
      tpmPublic: rot.tpmPublic,
      attest: decodeBase64Url(tpmQuote.attest),
      signature: decodeBase64Url(tpmQuote.signature),
      qualifyingData: tpmQualifyingData(nonce, verified.certificateKey, parseEvidenceJws(evidence).payload),
      pcr8: replayBootLog(rot.bootLog()),
    };
    assert.equal(await checkQuote(device.root, device.tpm, quote), true);
    assert.equal(
      await checkQuote(device.root, device.tpm, { ...quote, qualifyingData: randomBytes(32) }),
      false,
    );
    assert.equal(await checkQuote(device.root, device.tpm, { ...quote, pcr8: new Uint8Array(32) }), false);
  });

  it("gives a quote the service's verifyEvidence accepts against the registered TPM public area", async (t) => {
    const { rot } = await manufacturedTpmDevice(t);
    await bootAndMeasure(rot);
    const nonce = nonceFor(rot);
    const { evidence, tpmQuote } = await rot.createEvidence(nonce, { nowMs: now, capabilities: [] });
    const tpmIdentity = parseTpmIdentityPublic(rot.tpmPublic);
    const verified = verifyEvidence(evidence, {
      identityKey: rot.identityKey,
      expectedNonce: nonce,
      now,
      maxClockSkewSeconds: 60,
      tpmIdentity,
      tpmQuote,
    });
    assert.ok(verified.tpmQuote !== undefined);
  });

  it("exposes the identity key's TPM public area, a restricted signing key whose SPKI hash is the device ID", async (t) => {
    const { rot, dir } = await manufacturedTpmDevice(t);
    assert.deepEqual(rot.tpmPublic, new Uint8Array(await readFile(join(dir, 'rot', 'identity.pub'))));
    const identity = parseTpmIdentityPublic(rot.tpmPublic);
    assertRestrictedSigningKey(identity);
    assert.equal(identity.publicKey.keyId, rot.identityKey.keyId);
    assert.equal(rot.deviceId, createHash('sha256').update(rot.identityKey.spki).digest('hex'));
  });

  it('refuses to attest once PCR 8 was extended outside the root of trust', async (t) => {
    const { rot, tpm, root } = await manufacturedTpmDevice(t);
    await bootAndMeasure(rot);
    await extendMeasurementPcr(tpm, randomBytes(32), root);
    await assertRotError(
      rot.createEvidence(nonceFor(rot), { nowMs: now, capabilities: [] }),
      'ROT_TPM_PCR_NOT_RESET',
    );
  });
});

describe('measured boot in PCR 8 (swtpm)', () => {
  it('resets PCR 8 on swtpm at every beginBoot, raises bootcount by one per boot, and keeps the register equal to the PCR', async (t) => {
    const { rot, tpm, root } = await manufacturedTpmDevice(t);
    const first = await rot.beginBoot();
    const entries = [sampleEntry('bootloader'), sampleEntry('os')];
    for (const entry of entries) await rot.measure(entry);
    assert.deepEqual(rot.bootLog(), entries);
    assert.deepEqual(rot.measurementRegister(), replayBootLog(entries));
    assert.deepEqual(await readMeasurementPcr(tpm, root), rot.measurementRegister());

    const second = await rot.beginBoot();
    assert.deepEqual([first.bootcount, second.bootcount], [1, 2]);
    assert.notEqual(first.bootseed, second.bootseed);
    assert.equal(decodeBase64Url(second.bootseed).byteLength, 32);
    assert.deepEqual(rot.bootLog(), []);
    assert.deepEqual(rot.measurementRegister(), new Uint8Array(32));
    assert.deepEqual(await readMeasurementPcr(tpm, root), new Uint8Array(32));
    assert.equal(await rot.counter('bootcount'), 2);
  });

  it('refuses to begin a boot on a TPM it cannot reset while PCR 8 is not zero', async (t) => {
    const device = await manufacturedTpmDevice(t);
    await device.rot.close();
    // The same swtpm through a `cmd:` TCTI (a byte pipe to its port), which the backend treats as
    // a TPM it must not reset, as it would /dev/tpmrm0.
    const bridge = join(device.root, 'bridge.mjs');
    await writeFile(
      bridge,
      "import { connect } from 'node:net';\n" +
        "const socket = connect({ host: '127.0.0.1', port: Number(process.argv[2]) });\n" +
        'process.stdin.pipe(socket);\nsocket.pipe(process.stdout);\n',
    );
    const rot = await openTpmRootOfTrust(device.dir, {
      tpm: { tcti: `cmd:${process.execPath} ${bridge} ${device.tpm.port}` },
    });
    device.opened.push(rot);
    assert.equal((await rot.beginBoot()).bootcount, 1);
    await rot.measure(sampleEntry('os'));
    await assertRotError(rot.beginBoot(), 'ROT_TPM_PCR_NOT_RESET');
    assert.equal(await rot.counter('bootcount'), 1);
  });
});

describe('counters in the TPM (swtpm)', () => {
  it('only go up, move by bounded steps, and survive a reopen', async (t) => {
    const device = await manufacturedTpmDevice(t);
    const { rot } = device;
    assert.equal(await rot.counter('capabilityEpoch'), 0);
    await rot.advanceCounter('capabilityEpoch', 3);
    await rot.advanceCounter('capabilityEpoch', 3);
    await assertRotError(rot.advanceCounter('capabilityEpoch', 2), 'ROT_COUNTER_BACKWARDS');
    await assert.rejects(rot.advanceCounter('capabilityEpoch', 3 + MAX_COUNTER_ADVANCE + 1), RangeError);
    await rot.beginBoot();
    await rot.beginBoot();

    const reopened = await device.reopen();
    assert.equal(await reopened.counter('capabilityEpoch'), 3);
    assert.equal(await reopened.counter('bootcount'), 2);
    assert.equal((await reopened.beginBoot()).bootcount, 3);
    await assertRotError(reopened.advanceCounter('bootcount', 1), 'ROT_COUNTER_BACKWARDS');
  });
});

describe('the state file (swtpm)', () => {
  it('refuses a state file rolled back to an earlier copy', async (t) => {
    const device = await manufacturedTpmDevice(t);
    const statePath = join(device.dir, 'rot', 'state.json');
    const earlier = await readFile(statePath);
    await device.rot.raiseAntiRollbackFloor(randomUUID(), 5);
    await device.rot.close();
    await writeFile(statePath, earlier);
    await assertRotError(device.reopen(), 'ROT_STATE_INVALID');
  });

  it('refuses a state file edited by hand', async (t) => {
    const device = await manufacturedTpmDevice(t);
    await device.rot.close();
    const statePath = join(device.dir, 'rot', 'state.json');
    const file = JSON.parse(await readFile(statePath, 'utf8')) as { state: { notBeforeMs: number } };
    file.state.notBeforeMs = 1;
    await writeFile(statePath, canonicalJsonBytes(file));
    await assertRotError(device.reopen(), 'ROT_STATE_INVALID');
  });

  it('takes a state file one generation ahead of its counter (a crash between writing and counting) and refuses the one before it', async (t) => {
    const device = await manufacturedTpmDevice(t);
    const { rot } = device;
    await rot.advanceNotBefore(now);
    await rot.close();
    const statePath = join(device.dir, 'rot', 'state.json');
    const before = await readFile(statePath);
    // What a commit cut off after its file write leaves: the next state under generation + 1.
    const { state, generation } = parseTpmStateFile(before);
    const ahead = { ...state, notBeforeMs: now + 1000 };
    const mac = await withTpmDeviceSecret(join(device.dir, 'rot'), device.tpm, (hmac) =>
      hmac(tpmStateMacInput(ahead, generation + 1)),
    );
    await writeFile(statePath, encodeTpmStateFile(ahead, generation + 1, mac));

    const reopened = await device.reopen();
    assert.equal(await reopened.notBefore(), now + 1000);
    await reopened.close();
    await writeFile(statePath, before);
    await assertRotError(device.reopen(), 'ROT_STATE_INVALID');
  });

  it('changes nothing when a state write fails, and the next write still counts', async (t) => {
    const device = await manufacturedTpmDevice(t);
    const statePath = join(device.dir, 'rot', 'state.json');
    const saved = await readFile(statePath);
    // A directory where the file goes makes the atomic rename fail.
    await rm(statePath);
    await mkdir(statePath);
    await assert.rejects(device.rot.advanceNotBefore(now));
    assert.equal(await device.rot.notBefore(), 0);
    await rm(statePath, { recursive: true });
    await writeFile(statePath, saved);
    await device.rot.advanceNotBefore(now + 1);
    const reopened = await device.reopen();
    assert.equal(await reopened.notBefore(), now + 1);
  });

  it('keeps floors, not-before, debug status and manufacturing state across a reopen', async (t) => {
    const device = await manufacturedTpmDevice(t, { debugStatus: 1 });
    const component = randomUUID();
    await device.rot.raiseAntiRollbackFloor(component, 4);
    await device.rot.advanceNotBefore(now);
    await assertRotError(device.rot.raiseAntiRollbackFloor(component, 3), 'ROT_COUNTER_BACKWARDS');
    const reopened = await device.reopen();
    assert.deepEqual(await reopened.antiRollbackFloors(), { [component]: 4 });
    assert.equal(await reopened.notBefore(), now);
    assert.equal(await reopened.debugStatus(), 1);
    assert.equal(await reopened.manufacturingState(), 'DeviceComplete');
  });
});

describe('manufacturing state (swtpm)', () => {
  it('cannot go back: Blank until completed, then DeviceComplete for good, also after a reopen', async (t) => {
    const device = await manufacturedTpmDevice(t, { complete: false });
    assert.equal(await device.rot.manufacturingState(), 'Blank');
    await assertRotError(device.rot.beginBoot(), 'ROT_NOT_MANUFACTURED');
    await device.rot.completeManufacturing();
    await assertRotError(device.rot.completeManufacturing(), 'ROT_MANUFACTURING_STATE_FINAL');
    const reopened = await device.reopen();
    assert.equal(await reopened.manufacturingState(), 'DeviceComplete');
    await assertRotError(reopened.completeManufacturing(), 'ROT_MANUFACTURING_STATE_FINAL');
  });
});

describe('sealing in the TPM (swtpm)', () => {
  it('gives a different key for another signing authority or a lower floor, and unseals at a higher floor', async (t) => {
    const device = await manufacturedTpmDevice(t);
    const { rot } = device;
    const secret = new TextEncoder().encode('app storage key');
    const sealed = await rot.seal(secret, { signingAuthority: authority, securityVersionFloor: 3 });
    assert.deepEqual(
      await rot.unseal(sealed, { signingAuthority: authority, securityVersionFloor: 3 }),
      secret,
    );
    assert.deepEqual(
      await rot.unseal(sealed, { signingAuthority: authority, securityVersionFloor: 9 }),
      secret,
    );
    await assertRotError(
      rot.unseal(sealed, { signingAuthority: otherAuthority, securityVersionFloor: 3 }),
      'ROT_UNSEAL_FAILED',
    );
    await assertRotError(
      rot.unseal(sealed, { signingAuthority: authority, securityVersionFloor: 2 }),
      'ROT_UNSEAL_FAILED',
    );
    // The floor in the blob is authenticated: lowering it changes the key, so the blob fails.
    const lowered = Uint8Array.from(sealed);
    lowered[4] = 2;
    await assertRotError(
      rot.unseal(lowered, { signingAuthority: authority, securityVersionFloor: 3 }),
      'ROT_UNSEAL_FAILED',
    );
    await assert.rejects(
      rot.seal(secret, { signingAuthority: 'not hex', securityVersionFloor: 1 }),
      RangeError,
    );
    const reopened = await device.reopen();
    assert.deepEqual(
      await reopened.unseal(sealed, { signingAuthority: authority, securityVersionFloor: 4 }),
      secret,
    );
  });
});

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

describe('the certificate key (swtpm)', () => {
  it('the device directory holds no plaintext certificate key', async (t) => {
    const device = await manufacturedTpmDevice(t);
    const rotated = await device.rot.rotateCertificateKey();
    const privateKey = await device.rot.certificateTlsKey();
    assert.equal(publicKeyFromKeyObject(privateKey).keyId, rotated.keyId);
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const scalar = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
    assert.equal(scalar.byteLength, 32);
    const forms = [pkcs8, scalar, Buffer.from(encodeBase64Url(scalar)), Buffer.from(scalar.toString('hex'))];
    const files = await filesUnder(device.dir);
    assert.ok(files.some((file) => file.endsWith('state.json')));
    for (const file of files) {
      const bytes = await readFile(file);
      for (const form of forms) assert.equal(bytes.includes(form), false, `${file} holds the key`);
      assert.equal(bytes.includes('PRIVATE KEY'), false, `${file} holds a PEM private key`);
    }
    // It comes back from its wrapped form after a reopen, and rotation replaces it.
    const reopened = await device.reopen();
    assert.equal(publicKeyFromKeyObject(await reopened.certificateTlsKey()).keyId, rotated.keyId);
    assert.notEqual((await reopened.rotateCertificateKey()).keyId, rotated.keyId);
  });
});

describe('the device directory and its TPM (swtpm)', () => {
  it('the device directory moved to a fresh swtpm cannot load its keys', async (t) => {
    const device = await manufacturedTpmDevice(t);
    await device.rot.close();
    const fresh = await device.startAnother('fresh-swtpm');
    await assertRotError(openTpmRootOfTrust(device.dir, { tpm: fresh }), 'ROT_TPM_KEY_UNLOADABLE');
    // The lock went with the failed open: the device still opens on its own TPM.
    device.opened.push(await openTpmRootOfTrust(device.dir, { tpm: device.tpm }));
  });

  it('refuses to open a TPM directory with the emulated backend, and an emulated one with the TPM backend', async (t) => {
    const device = await manufacturedTpmDevice(t);
    await device.rot.close();
    await assert.rejects(openEmulatedRootOfTrust(device.dir), {
      code: 'ROT_STATE_INVALID',
      message: /TPM root of trust/,
    });
    const emulatedDir = join(device.root, 'emulated-device');
    await (await manufactureEmulatedRootOfTrust(emulatedDir)).close();
    await assert.rejects(openTpmRootOfTrust(emulatedDir, { tpm: device.tpm }), {
      code: 'ROT_STATE_INVALID',
      message: /emulated root of trust/,
    });
  });

  it('holds the directory lock while open, and refuses to manufacture over an existing device', async (t) => {
    const device = await manufacturedTpmDevice(t);
    await assertRotError(openTpmRootOfTrust(device.dir, { tpm: device.tpm }), 'ROT_DIRECTORY_LOCKED');
    await device.rot.close();
    await assertRotError(manufactureTpmRootOfTrust(device.dir, { tpm: device.tpm }), 'ROT_STATE_INVALID');
    assert.ok((await stat(join(device.dir, 'rot', 'backend'))).isFile());
    await assertRotError(device.rot.counter('bootcount'), 'ROT_DIRECTORY_LOCKED');
  });

  it('keeps two devices on one TPM apart: their own counters and their own sealing keys', async (t) => {
    const device = await manufacturedTpmDevice(t);
    const other = await manufactureTpmRootOfTrust(join(device.root, 'other-device'), { tpm: device.tpm });
    device.opened.push(other);
    await other.completeManufacturing();
    await device.rot.advanceCounter('capabilityEpoch', 2);
    assert.equal(await other.counter('capabilityEpoch'), 0);
    const policy = { signingAuthority: authority, securityVersionFloor: 1 };
    const sealed = await device.rot.seal(new Uint8Array([1, 2, 3]), policy);
    await assertRotError(other.unseal(sealed, policy), 'ROT_UNSEAL_FAILED');
  });
});
