import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signDeviceList } from '@orbis/ca';
import { createPublicKey } from 'node:crypto';
import {
  decodeBase64Url,
  encodeBase64Url,
  generateSoftwareSigner,
  publicKeyFromKeyObject,
  type Signer,
} from '@orbis/crypto';
import type { DeviceList } from '@orbis/protocol';
import {
  ATTRIBUTE,
  concat,
  createTestTpmKey,
  IDENTITY_ATTRIBUTES,
  marshalPublic,
  tpmQuoteFixture,
  type PublicAreaFields,
} from '../attestation/tpm.test-helpers.ts';
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

describe('verifyDeviceList with TPM public areas', () => {
  /** A device-list entry for a TPM key whose public area is `tpmPublic`. */
  function tpmEntry(fields: Partial<PublicAreaFields> = {}, tpmPublic?: Uint8Array) {
    const key = createTestTpmKey(fields);
    const identityKey = publicKeyFromKeyObject(createPublicKey(key.privateKey));
    return {
      deviceId: identityKey.keyId,
      identityKey: encodeBase64Url(identityKey.spki),
      model: 'orbis-tpm-devkit',
      tpmPublic: encodeBase64Url(tpmPublic ?? key.tpmPublic),
    };
  }

  async function codeOf(entries: DeviceList['devices']): Promise<unknown> {
    const signed = await signDeviceList({ ...list, devices: entries }, manufacturer);
    try {
      verifyDeviceList(signed, manufacturer.publicKey);
      return undefined;
    } catch (error) {
      return (error as { code?: unknown }).code;
    }
  }

  it('returns the TPM2B_PUBLIC of a TPM entry, and none for an entry without one', async () => {
    const tpm = tpmEntry();
    const signed = await signDeviceList(
      { ...list, devices: [tpm, entry(devices[0] as Signer)] },
      manufacturer,
    );
    const [withTpm, without] = verifyDeviceList(signed, manufacturer.publicKey).devices;
    assert.deepEqual(withTpm?.tpmPublic, decodeBase64Url(tpm.tpmPublic));
    assert.equal(without !== undefined && 'tpmPublic' in without, false);
  });

  it('accepts the public area tpm2_create wrote (swtpm)', async () => {
    const identityKey = decodeBase64Url(tpmQuoteFixture.identityKey);
    const real = {
      deviceId: publicKeyFromKeyObject(
        createPublicKey({ key: Buffer.from(identityKey), format: 'der', type: 'spki' }),
      ).keyId,
      identityKey: tpmQuoteFixture.identityKey,
      model: 'swtpm',
      tpmPublic: tpmQuoteFixture.tpmPublic,
    };
    assert.equal(await codeOf([real]), undefined);
  });

  it("refuses a device list whose tpmPublic is another key's", async () => {
    const mine = tpmEntry();
    const theirs = tpmEntry();
    assert.equal(await codeOf([{ ...mine, tpmPublic: theirs.tpmPublic }]), 'REGISTRY_TPM_PUBLIC_INVALID');
  });

  it('refuses a device list whose tpmPublic is an unrestricted key', async () => {
    assert.equal(
      await codeOf([tpmEntry({ attributes: IDENTITY_ATTRIBUTES & ~ATTRIBUTE.restricted })]),
      'REGISTRY_TPM_KEY_NOT_RESTRICTED',
    );
    assert.equal(
      await codeOf([tpmEntry({ attributes: IDENTITY_ATTRIBUTES | ATTRIBUTE.decrypt })]),
      'REGISTRY_TPM_KEY_NOT_RESTRICTED',
    );
    assert.equal(
      await codeOf([tpmEntry({ attributes: IDENTITY_ATTRIBUTES & ~ATTRIBUTE.fixedTPM })]),
      'REGISTRY_TPM_KEY_NOT_RESTRICTED',
    );
  });

  it('refuses a tpmPublic that is not a strict P-256 ECDSA TPM2B_PUBLIC', async () => {
    const good = tpmEntry();
    const bytes = decodeBase64Url(good.tpmPublic);
    for (const tpmPublic of [
      encodeBase64Url(bytes.subarray(0, -1)),
      encodeBase64Url(concat(bytes, Uint8Array.of(0))),
      encodeBase64Url(Uint8Array.of(0, 0)),
      // Two zero bytes spelled with a spare bit set: not the canonical base64url.
      'AAB',
    ]) {
      assert.equal(await codeOf([{ ...good, tpmPublic }]), 'REGISTRY_TPM_PUBLIC_INVALID', tpmPublic);
    }
    // The same key, described as an ECDSA-SHA384 key.
    const key = createTestTpmKey();
    const identityKey = publicKeyFromKeyObject(createPublicKey(key.privateKey));
    const sha384 = marshalPublic(key.privateKey, {
      scheme: concat(Uint8Array.of(0, 0x18), Uint8Array.of(0, 0x0c)),
    });
    const entryFor384 = {
      deviceId: identityKey.keyId,
      identityKey: encodeBase64Url(identityKey.spki),
      model: 'x',
      tpmPublic: encodeBase64Url(sha384),
    };
    assert.equal(await codeOf([entryFor384]), 'REGISTRY_TPM_PUBLIC_INVALID');
  });
});
