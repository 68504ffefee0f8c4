import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signDeviceList } from '@orbis/ca';
import { encodeBase64Url, generateSoftwareSigner, type Signer } from '@orbis/crypto';
import type { DeviceList } from '@orbis/protocol';
import { verifyDeviceList } from './verify-device-list.ts';

const manufacturer = generateSoftwareSigner().signer;
const devices = Array.from({ length: 3 }, () => generateSoftwareSigner().signer);

function entry(device: Signer, model = 'orbis-devkit') {
  return { deviceId: device.publicKey.keyId, identityKey: encodeBase64Url(device.publicKey.spki), model };
}

const list: DeviceList = {
  formatVersion: 1,
  manufacturerId: '3f2e1d0c-b9a8-4765-8432-10fedcba9876',
  listId: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d',
  issuedAt: 1_795_000_000,
  devices: devices.map((device) => entry(device)),
};

describe('verifyDeviceList', () => {
  it('returns each device with its parsed identity key', async () => {
    const verified = verifyDeviceList(await signDeviceList(list, manufacturer), manufacturer.publicKey);
    assert.equal(verified.devices.length, 3);
    assert.equal(verified.devices[0]?.identityKey.keyId, devices[0]?.publicKey.keyId);
    assert.equal(verified.listId, list.listId);
  });

  it('rejects a list signed by a key other than the manufacturer’s', async () => {
    const forged = await signDeviceList(list, generateSoftwareSigner().signer);
    assert.throws(() => verifyDeviceList(forged, manufacturer.publicKey), {
      code: 'REGISTRY_LIST_SIGNATURE_INVALID',
    });
  });

  it('rejects a list with a device added after signing', async () => {
    const signed = await signDeviceList(list, manufacturer);
    const extra = generateSoftwareSigner().signer;
    const altered = { ...signed, list: { ...signed.list, devices: [...signed.list.devices, entry(extra)] } };
    assert.throws(() => verifyDeviceList(altered, manufacturer.publicKey), {
      code: 'REGISTRY_LIST_SIGNATURE_INVALID',
    });
  });

  it('rejects a signature in non-canonical base64url', async () => {
    const signed = await signDeviceList(list, manufacturer);
    // The last of 86 characters carries 2 unused bits; 'B' sets one, so no canonical signature ends in it.
    const altered = { ...signed, signature: `${signed.signature.slice(0, -1)}B` };
    assert.throws(() => verifyDeviceList(altered, manufacturer.publicKey), {
      code: 'REGISTRY_LIST_SIGNATURE_INVALID',
    });
  });

  it('rejects an entry whose device ID is not the SHA-256 of its key (a borrowed identity)', async () => {
    const [first, second] = devices as [Signer, Signer];
    const borrowed = { ...entry(first), deviceId: second.publicKey.keyId };
    const signed = await signDeviceList({ ...list, devices: [borrowed] }, manufacturer);
    assert.throws(() => verifyDeviceList(signed, manufacturer.publicKey), {
      code: 'REGISTRY_LIST_ENTRY_INVALID',
    });
  });

  it('rejects a device listed twice', async () => {
    const [first] = devices as [Signer];
    const signed = await signDeviceList(
      { ...list, devices: [entry(first), entry(first, 'other-model')] },
      manufacturer,
    );
    assert.throws(() => verifyDeviceList(signed, manufacturer.publicKey), {
      code: 'REGISTRY_LIST_ENTRY_INVALID',
    });
  });

  it('rejects an identity key that is not a point on P-256', async () => {
    const spki = Uint8Array.from(devices[0]?.publicKey.spki ?? []);
    spki[90] = (spki[90] ?? 0) ^ 1;
    const bad = { deviceId: 'ab'.repeat(32), identityKey: encodeBase64Url(spki), model: 'x' };
    const signed = await signDeviceList({ ...list, devices: [bad] }, manufacturer);
    assert.throws(() => verifyDeviceList(signed, manufacturer.publicKey), {
      code: 'REGISTRY_LIST_ENTRY_INVALID',
    });
  });

  it('rejects lists that break the schema: unknown fields, empty lists, wrong versions', async () => {
    const signed = await signDeviceList(list, manufacturer);
    for (const value of [
      { ...signed, extra: 1 },
      { ...signed, list: { ...signed.list, devices: [] } },
      { ...signed, list: { ...signed.list, formatVersion: 2 } },
      null,
    ]) {
      assert.throws(() => verifyDeviceList(value, manufacturer.publicKey), { code: 'REGISTRY_LIST_INVALID' });
    }
  });
});
