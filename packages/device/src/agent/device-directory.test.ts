import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeBase64Url, generateSoftwareSigner } from '@orbis/crypto';
import {
  DEVICE_MANIFEST_FORMAT,
  readDeviceManifest,
  writeDeviceManifest,
  type DeviceManifest,
} from './device-directory.ts';

describe('the device manifest', () => {
  const identity = generateSoftwareSigner().signer.publicKey;
  const manifest: DeviceManifest = {
    formatVersion: DEVICE_MANIFEST_FORMAT,
    deviceId: identity.keyId,
    identityKey: encodeBase64Url(identity.spki),
    backend: 'emulated',
    manufacturedAt: 0,
    trustAnchors: {
      platformRootPem: '',
      osReleaseKeys: [],
      capabilityKey: '',
      imageRepositoryRoot: '{}',
      directorRoot: '{}',
    },
  };

  async function roundTrip(written: DeviceManifest): Promise<DeviceManifest> {
    const dir = await mkdtemp(join(tmpdir(), 'orbis-manifest-'));
    try {
      await writeDeviceManifest(dir, written);
      return await readDeviceManifest(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('reads back what manufacture wrote', async () => {
    assert.deepEqual(await roundTrip(manifest), manifest);
  });

  it('refuses a manifest whose identity key names another device (an edited device.json)', async () => {
    const other = generateSoftwareSigner().signer.publicKey;
    await assert.rejects(roundTrip({ ...manifest, identityKey: encodeBase64Url(other.spki) }), {
      code: 'AGENT_DEVICE_DIRECTORY_INVALID',
    });
    await assert.rejects(roundTrip({ ...manifest, identityKey: 'not a key' }), {
      code: 'AGENT_DEVICE_DIRECTORY_INVALID',
    });
  });

  it('refuses a directory without a manifest, and one of another format', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orbis-manifest-'));
    try {
      await assert.rejects(readDeviceManifest(dir), { code: 'AGENT_DEVICE_DIRECTORY_INVALID' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    for (const formatVersion of [1, 3]) {
      await assert.rejects(
        roundTrip({ ...manifest, formatVersion: formatVersion as typeof DEVICE_MANIFEST_FORMAT }),
        { code: 'AGENT_DEVICE_DIRECTORY_INVALID' },
      );
    }
  });

  it('refuses a manifest whose trust anchors lack a TUF root', async () => {
    const { directorRoot: _, ...withoutDirector } = manifest.trustAnchors;
    await assert.rejects(
      roundTrip({ ...manifest, trustAnchors: withoutDirector as DeviceManifest['trustAnchors'] }),
      { code: 'AGENT_DEVICE_DIRECTORY_INVALID' },
    );
  });
});
