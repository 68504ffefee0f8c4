import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isValidSignature } from '@orbis/crypto';
import { startSwtpm, type RunningSwtpm } from './swtpm.ts';
import { tpm2, TpmCommandError } from './tpm2-tools.ts';
import {
  IDENTITY_KEY_ATTRIBUTES,
  createTpmIdentityKey,
  signWithTpmIdentity,
  tpmIdentityAttributes,
  tpmIdentityPublicKey,
  withLoadedIdentity,
} from './tpm-identity.ts';

/** The TPM backend's identity key, on a real swtpm started on free ports for these tests. */
describe('the TPM identity key (swtpm)', () => {
  let root = '';
  let tpm: RunningSwtpm;
  let device = '';

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'orbis-tpm-'));
    tpm = await startSwtpm(join(root, 'swtpm'));
    device = join(root, 'device', 'rot', 'tpm');
  });

  after(async () => {
    await tpm.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('is created inside the TPM as a restricted signing key that never leaves it (fixedTPM, fixedParent, sensitiveDataOrigin)', async () => {
    const key = await createTpmIdentityKey(device, tpm);
    assert.match(key.keyId, /^[0-9a-f]{64}$/);
    assert.deepEqual((await tpmIdentityAttributes(device, tpm)).sort(), [...IDENTITY_KEY_ATTRIBUTES].sort());
    assert.equal((await tpmIdentityPublicKey(device, tpm)).keyId, key.keyId);
  });

  it('signs through a TPM2_Hash ticket, and the signature verifies under the identity key', async () => {
    const key = await tpmIdentityPublicKey(device, tpm);
    const data = new TextEncoder().encode('eyJhbGciOiJFUzI1NiJ9.claims');
    const signature = await signWithTpmIdentity(device, tpm, data);
    assert.equal(isValidSignature(key, data, signature, 'der'), true);
    assert.equal(isValidSignature(key, new TextEncoder().encode('other data'), signature, 'der'), false);
  });

  it('will not sign a digest the TPM did not hash itself, so it cannot be made to forge a quote', async () => {
    const digest = createHash('sha256').update('\xffTCG a forged TPMS_ATTEST').digest();
    await assert.rejects(
      withLoadedIdentity(device, tpm, async (scratch) => {
        await writeFile(join(scratch, 'digest.bin'), digest);
        await tpm2(
          'tpm2_sign',
          ['-c', 'key.ctx', '-g', 'sha256', '-d', 'digest.bin', '-f', 'plain', '-o', 'sig'],
          tpm,
          scratch,
        );
      }),
      // TPM2_Sign itself answers with an error code (0x3e0 here), not the connection to the TPM.
      (error: unknown) =>
        error instanceof TpmCommandError &&
        error.tool === 'tpm2_sign' &&
        /Esys_Sign.*ErrorCode \(0x0*[1-9a-f][0-9a-f]*\)/.test(error.reason) &&
        !/tcti/.test(error.reason),
    );
  });

  it('cannot be loaded from a device directory moved to a fresh swtpm', async () => {
    const other = await startSwtpm(join(root, 'another-swtpm'));
    try {
      await assert.rejects(tpmIdentityPublicKey(device, other), { code: 'ROT_TPM_KEY_UNLOADABLE' });
    } finally {
      await other.stop();
    }
  });
});
