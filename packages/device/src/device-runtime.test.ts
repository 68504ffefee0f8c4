import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCaCertificate } from '@orbis/ca';
import { encodeBase64Url, encodePem, generateSoftwareSigner } from '@orbis/crypto';
import { cryptoRandom } from '@orbis/testkit';
import { readDeviceManifest, TUF_ROOT_PATHS } from './agent/device-directory.ts';
import { createDeviceDir, osReleaseSigner, packStageImage, removeDevice } from './boot/boot.test-helpers.ts';
import type { BootStage } from './boot/stages.ts';
import { manufactureDevice } from './device-runtime.ts';
import type { DeviceTrustAnchors } from './rot/root-of-trust.ts';
import { createTestTufRoot, createTestTufRoots } from './updates/tuf-root.test-helpers.ts';

/** Manufacture's checks of the TUF roots, and where it puts them, on the emulated root of trust. */
describe('manufacturing a device with its TUF roots', () => {
  const now = Date.now();
  let parent = '';
  let anchors: DeviceTrustAnchors;
  let images: Record<BootStage, Uint8Array>;
  let made = 0;
  const nextDir = () => join(parent, `device-${++made}`);

  before(async () => {
    parent = await createDeviceDir();
    const ca = generateSoftwareSigner().signer;
    const platformRoot = await createCaCertificate({
      signer: ca,
      random: cryptoRandom,
      notBefore: now - 60_000,
      notAfter: now + 365 * 86_400_000,
    });
    anchors = {
      platformRootPem: encodePem(platformRoot.der),
      osReleaseKeys: [encodeBase64Url(osReleaseSigner.publicKey.spki)],
      capabilityKey: encodeBase64Url(generateSoftwareSigner().signer.publicKey.spki),
      ...createTestTufRoots(now),
    };
    images = {
      bootloader: await packStageImage('bootloader'),
      'security-monitor': await packStageImage('security-monitor'),
      os: await packStageImage('os'),
    };
  });
  after(() => removeDevice(parent));

  async function refusedWithNothingMade(trustAnchors: DeviceTrustAnchors): Promise<void> {
    const dir = nextDir();
    await assert.rejects(manufactureDevice(dir, { trustAnchors, bootImages: images, now }), {
      code: 'AGENT_TUF_ROOT_INVALID',
    });
    // Refused before a root of trust was made: no device half made.
    await assert.rejects(access(dir), { code: 'ENOENT' });
  }

  it('writes both roots into the device directory byte for byte, and keeps them in device.json', async () => {
    const dir = nextDir();
    await manufactureDevice(dir, { trustAnchors: anchors, bootImages: images, now });
    assert.equal(
      await readFile(join(dir, TUF_ROOT_PATHS.imageRepository), 'utf8'),
      anchors.imageRepositoryRoot,
    );
    assert.equal(await readFile(join(dir, TUF_ROOT_PATHS.director), 'utf8'), anchors.directorRoot);
    assert.equal(TUF_ROOT_PATHS.imageRepository, join('tuf', 'image-repository', 'root.json'));
    assert.equal(TUF_ROOT_PATHS.director, join('tuf', 'director', 'root.json'));
    const manifest = await readDeviceManifest(dir);
    assert.equal(manifest.trustAnchors.imageRepositoryRoot, anchors.imageRepositoryRoot);
    assert.equal(manifest.trustAnchors.directorRoot, anchors.directorRoot);
  });

  it('refuses a TUF root whose signature does not verify (a tampered root)', async () => {
    const tampered = JSON.parse(anchors.directorRoot) as { signed: { version: number } };
    tampered.signed.version = 9;
    await refusedWithNothingMade({ ...anchors, directorRoot: JSON.stringify(tampered) });
  });

  it("refuses a director root given as the image repository's, and metadata that is not a root", async () => {
    await refusedWithNothingMade({ ...anchors, imageRepositoryRoot: anchors.directorRoot });
    const targetsAsRoot = JSON.parse(anchors.imageRepositoryRoot) as { signed: { _type: string } };
    targetsAsRoot.signed._type = 'targets';
    await refusedWithNothingMade({ ...anchors, imageRepositoryRoot: JSON.stringify(targetsAsRoot) });
  });

  it('refuses an expired TUF root', async () => {
    const expired = createTestTufRoot(now, { expires: now - 1000 }).text;
    await refusedWithNothingMade({ ...anchors, imageRepositoryRoot: expired });
  });

  it('refuses a TUF root that is not JSON', async () => {
    await refusedWithNothingMade({ ...anchors, directorRoot: '{"signatures": [' });
  });
});
