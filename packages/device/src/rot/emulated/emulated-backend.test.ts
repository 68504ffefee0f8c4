import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEBUG_STATUS } from '@orbis/protocol';
import { LOCK_FILE_NAME } from '../directory-lock.ts';
import type { RootOfTrust } from '../root-of-trust.ts';
import { manufactureEmulatedRootOfTrust, openEmulatedRootOfTrust } from './emulated-backend.ts';
import {
  assertRotError,
  childSource,
  closeAll,
  crash,
  emulatedBackendModule,
  manufacturedDevice,
  spawnReadyChild,
  tempDirectory,
} from './emulated.test-helpers.ts';

const rotFile = (dir: string, name: string) => join(dir, 'rot', name);

/** Rewrites the state file's JSON (keeping its MAC) as someone editing it by hand would. */
async function editStateFile(dir: string, edit: (state: Record<string, unknown>) => void): Promise<void> {
  const file = JSON.parse(await readFile(rotFile(dir, 'state.json'), 'utf8')) as {
    state: Record<string, unknown>;
  };
  edit(file.state);
  await writeFile(rotFile(dir, 'state.json'), JSON.stringify(file));
}

/** Asserts the directory cannot be opened, with ROT_STATE_INVALID, and that the failure left no lock. */
async function assertStateInvalid(dir: string): Promise<void> {
  await assertRotError(openEmulatedRootOfTrust(dir), 'ROT_STATE_INVALID');
  await assert.rejects(stat(join(dir, LOCK_FILE_NAME)), { code: 'ENOENT' });
}

describe('manufacturing the emulated root of trust', () => {
  it('lays out <dir>/rot/ with a 32-byte UDS and its keys as PKCS#8 files only the owner can read', async (t) => {
    const { dir, rot } = await manufacturedDevice(t);
    assert.deepEqual((await readdir(join(dir, 'rot'))).sort(), ['identity-key.der', 'state.json', 'uds.bin']);
    await rot.rotateCertificateKey();
    const files = (await readdir(join(dir, 'rot'))).sort();
    assert.deepEqual(files, ['certificate-key.der', 'identity-key.der', 'state.json', 'uds.bin']);
    for (const file of files) assert.equal((await stat(rotFile(dir, file))).mode & 0o777, 0o600, file);
    assert.equal((await readFile(rotFile(dir, 'uds.bin'))).byteLength, 32);
    const identity = createPrivateKey({
      key: await readFile(rotFile(dir, 'identity-key.der')),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = createPublicKey(identity).export({ format: 'der', type: 'spki' });
    assert.equal(createHash('sha256').update(spki).digest('hex'), rot.deviceId);
  });

  it('holds <dir>/lock while open and removes it on close', async (t) => {
    const { dir, rot } = await manufacturedDevice(t);
    assert.equal((await readFile(join(dir, LOCK_FILE_NAME), 'utf8')).trim(), String(process.pid));
    await rot.close();
    await assert.rejects(stat(join(dir, LOCK_FILE_NAME)), { code: 'ENOENT' });
  });

  it('reports dbgstat disabledPermanently unless manufacture sets another, and refuses an undefined one', async (t) => {
    const { rot } = await manufacturedDevice(t);
    assert.equal(await rot.debugStatus(), DEBUG_STATUS.disabledPermanently);
    const dir = await tempDirectory(t);
    await assert.rejects(manufactureEmulatedRootOfTrust(dir, { debugStatus: 5 }), RangeError);
    await assert.rejects(stat(join(dir, 'rot')), { code: 'ENOENT' });
  });

  it('refuses to move the manufacturing state back to Blank: not by manufacturing again, not by editing the state', async (t) => {
    const device = await manufacturedDevice(t);
    await device.rot.close();
    await assertRotError(manufactureEmulatedRootOfTrust(device.dir), 'ROT_STATE_INVALID');
    const reopened = await openEmulatedRootOfTrust(device.dir);
    assert.equal(reopened.deviceId, device.rot.deviceId);
    assert.equal(await reopened.manufacturingState(), 'DeviceComplete');
    await reopened.close();
    await editStateFile(device.dir, (state) => (state['manufacturingState'] = 'Blank'));
    await assertStateInvalid(device.dir);
  });
});

describe('opening the emulated root of trust', () => {
  it('reports ROT_STATE_INVALID for a damaged state file', async (t) => {
    const { dir, rot } = await manufacturedDevice(t);
    await rot.close();
    const state = await readFile(rotFile(dir, 'state.json'));
    for (const damaged of [
      state.subarray(0, state.byteLength - 5),
      Buffer.alloc(0),
      Buffer.from('{"mac":"x"}'),
    ]) {
      await writeFile(rotFile(dir, 'state.json'), damaged);
      await assertStateInvalid(dir);
    }
    await writeFile(rotFile(dir, 'state.json'), Buffer.alloc(64 * 1024, 0x20));
    await assertStateInvalid(dir);
  });

  it('refuses a state file whose counter was lowered by hand', async (t) => {
    const { dir, rot } = await manufacturedDevice(t);
    await rot.beginBoot();
    await rot.beginBoot();
    await rot.close();
    await editStateFile(dir, (state) => (state['bootcount'] = 1));
    await assertStateInvalid(dir);
  });

  it("reports ROT_STATE_INVALID for an identity key file that is not the recorded device's", async (t) => {
    const { dir, rot } = await manufacturedDevice(t);
    await rot.close();
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    await writeFile(rotFile(dir, 'identity-key.der'), other.export({ format: 'der', type: 'pkcs8' }));
    await assertStateInvalid(dir);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    await writeFile(rotFile(dir, 'identity-key.der'), rsa.export({ format: 'der', type: 'pkcs8' }));
    await assertStateInvalid(dir);
  });

  it('reports ROT_STATE_INVALID for a missing root of trust, a missing file or a UDS of the wrong size', async (t) => {
    const dir = await tempDirectory(t);
    await assertRotError(openEmulatedRootOfTrust(join(dir, 'nowhere')), 'ROT_STATE_INVALID');
    const device = await manufacturedDevice(t);
    await device.rot.close();
    const uds = await readFile(rotFile(device.dir, 'uds.bin'));
    await writeFile(rotFile(device.dir, 'uds.bin'), uds.subarray(0, 31));
    await assertStateInvalid(device.dir);
    await writeFile(rotFile(device.dir, 'uds.bin'), Buffer.concat([uds, Buffer.of(0)]));
    await assertStateInvalid(device.dir);
    await rm(rotFile(device.dir, 'uds.bin'));
    await assertStateInvalid(device.dir);
  });

  it('refuses a certificate key file that holds the identity key', async (t) => {
    const { dir, rot } = await manufacturedDevice(t);
    await rot.close();
    await writeFile(rotFile(dir, 'certificate-key.der'), await readFile(rotFile(dir, 'identity-key.der')));
    await assertStateInvalid(dir);
  });

  it('refuses a second process on the same device directory', async (t) => {
    const { dir, rot } = await manufacturedDevice(t);
    await rot.close();
    await spawnReadyChild(
      t,
      childSource(emulatedBackendModule, `await m.openEmulatedRootOfTrust(${JSON.stringify(dir)});`),
    );
    await assertRotError(openEmulatedRootOfTrust(dir), 'ROT_DIRECTORY_LOCKED');
    await assertRotError(manufactureEmulatedRootOfTrust(dir), 'ROT_DIRECTORY_LOCKED');
  });

  it('refuses to open a device directory twice in one process', async (t) => {
    const { dir } = await manufacturedDevice(t);
    await assertRotError(openEmulatedRootOfTrust(dir), 'ROT_DIRECTORY_LOCKED');
  });

  it('keeps every change a crashed process made before its call resolved', async (t) => {
    const { dir, rot } = await manufacturedDevice(t);
    await rot.close();
    const component = randomUUID();
    const body = [
      `const rot = await m.openEmulatedRootOfTrust(${JSON.stringify(dir)});`,
      'await rot.beginBoot();',
      "await rot.advanceCounter('capabilityEpoch', 7);",
      `await rot.raiseAntiRollbackFloor(${JSON.stringify(component)}, 9);`,
      'await rot.advanceNotBefore(123456);',
    ].join('\n');
    await crash(await spawnReadyChild(t, childSource(emulatedBackendModule, body)));
    const opened: RootOfTrust[] = [];
    t.after(closeAll(opened));
    const reopened = await openEmulatedRootOfTrust(dir);
    opened.push(reopened);
    assert.equal(await reopened.counter('bootcount'), 1);
    assert.equal(await reopened.counter('capabilityEpoch'), 7);
    assert.deepEqual(await reopened.antiRollbackFloors(), { [component]: 9 });
    assert.equal(await reopened.notBefore(), 123456);
  });
});
