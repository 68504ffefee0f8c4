import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeHex, generateSoftwareSigner, sha256 } from '@orbis/crypto';
import { sampleAppHeader, SAMPLE_OTHER_TENANT_ID, SAMPLE_TENANT_ID } from '@orbis/testkit';
import { verifyAppImages } from './app-images.ts';
import type { BootRoot } from './boot-root.ts';
import {
  appSigner,
  createDeviceDir,
  createMemoryBootRoot,
  flashGoodChain,
  osReleaseSigner,
  packAppImage,
  packStageImage,
  removeDevice,
} from './boot.test-helpers.ts';
import { secureBoot } from './secure-boot.ts';

const appOptions = { trustedAppKeys: [appSigner.publicKey], tenantId: SAMPLE_TENANT_ID };
let dir = '';

before(async () => {
  dir = await createDeviceDir();
  await flashGoodChain(dir, 'a');
});
after(() => removeDevice(dir));

/** A root of trust whose boot stages have been verified and measured. */
async function bootedRoot(): Promise<BootRoot> {
  const root = createMemoryBootRoot();
  await secureBoot(dir, root, { trustedOsKeys: [osReleaseSigner.publicKey] });
  return root;
}

describe('app images', () => {
  it('measures each verified app after the OS stages', async () => {
    const root = await bootedRoot();
    const app = await packAppImage();
    const result = await verifyAppImages([app], root, appOptions);
    assert.deepEqual(result.refused, []);
    assert.deepEqual(
      root.bootLog().map((entry) => entry.kind),
      ['bootloader', 'security-monitor', 'os', 'app'],
    );
    assert.deepEqual(root.bootLog().at(-1), {
      kind: 'app',
      componentId: sampleAppHeader.componentId,
      version: sampleAppHeader.version,
      securityVersion: sampleAppHeader.securityVersion,
      sha256: encodeHex(sha256(app)),
      signer: appSigner.publicKey.keyId,
    });
    assert.equal(new TextDecoder().decode(result.verified[0]?.payload), 'console.log("blink");');
  });

  it('an app of another tenant is refused', async () => {
    const root = await bootedRoot();
    // Signed by a key this device trusts, so only the tenant check stands in the way.
    const foreign = await packAppImage({ tenantId: SAMPLE_OTHER_TENANT_ID });
    const result = await verifyAppImages([foreign], root, appOptions);
    assert.deepEqual(result.verified, []);
    assert.deepEqual(
      result.refused.map(({ index, code }) => ({ index, code })),
      [{ index: 0, code: 'BOOT_IMAGE_INVALID' }],
    );
    assert.equal(root.bootLog().length, 3);
  });

  it('an app signed by a key the device does not trust is refused, and the others still run', async () => {
    const root = await bootedRoot();
    const rogue = await packAppImage({ signers: [generateSoftwareSigner().signer] });
    const result = await verifyAppImages([rogue, await packAppImage()], root, appOptions);
    assert.deepEqual(
      result.refused.map(({ index, code }) => ({ index, code })),
      [{ index: 0, code: 'BOOT_IMAGE_INVALID' }],
    );
    assert.equal(result.verified.length, 1);
  });

  it('a boot-stage image offered as an app is refused', async () => {
    const root = await bootedRoot();
    const options = { ...appOptions, trustedAppKeys: [appSigner.publicKey, osReleaseSigner.publicKey] };
    const result = await verifyAppImages([await packStageImage('os')], root, options);
    assert.deepEqual(
      result.refused.map((refusal) => refusal.code),
      ['BOOT_IMAGE_WRONG_KIND'],
    );
  });

  it('a second image of an app already measured is refused', async () => {
    const root = await bootedRoot();
    const app = await packAppImage();
    const result = await verifyAppImages([app, app], root, appOptions);
    assert.deepEqual(
      result.refused.map(({ index, code }) => ({ index, code })),
      [{ index: 1, code: 'BOOT_IMAGE_INVALID' }],
    );
    assert.equal(root.bootLog().length, 4);
  });

  it('apps are not measured before the OS has booted', async () => {
    const root = createMemoryBootRoot();
    await assert.rejects(verifyAppImages([await packAppImage()], root, appOptions), { code: 'BOOT_HALTED' });
    assert.equal(root.bootLog().length, 0);
  });
});
