import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJsonBytes, encodeHex, generateSoftwareSigner, sha256 } from '@orbis/crypto';
import type { BootLogEntry } from '@orbis/protocol';
import { BootError } from '../errors.ts';
import {
  deviceDirectories,
  createMemoryBootRoot,
  flashGoodChain,
  flipByte,
  osReleaseSigner,
  packStageImage,
  readBootReport,
  stageHeader,
} from './boot.test-helpers.ts';
import type { StageReport } from './boot-report.ts';
import { setActiveSlot, writeSlot } from './flash.ts';
import { secureBoot } from './secure-boot.ts';
import { BOOT_STAGES, type BootStage } from './stages.ts';
import { verifyBootImage } from './verify-boot-image.ts';

const options = { trustedOsKeys: [osReleaseSigner.publicKey] };
const osComponentId = stageHeader('os').componentId;
const newDevice = deviceDirectories();

/** The register a verifier computes from the log alone, written out independently of boot. */
function replayRegister(log: readonly BootLogEntry[]): string {
  let register: Buffer = Buffer.alloc(32);
  for (const entry of log) {
    const digest = createHash('sha256').update(canonicalJsonBytes(entry)).digest();
    register = createHash('sha256').update(register).update(digest).digest();
  }
  return register.toString('hex');
}

function stageOf(stages: readonly StageReport[], stage: BootStage): StageReport {
  const report = stages.find((entry) => entry.stage === stage);
  assert.ok(report, `no report for the ${stage} stage`);
  return report;
}

/** Boots a device whose OS slot a holds `badOs` and slot b a good OS; returns the OS stage's report. */
async function bootWithBadActiveOs(badOs: Uint8Array, floors: Record<string, number> = {}) {
  const dir = await newDevice();
  const images = await flashGoodChain(dir, 'a');
  await writeSlot(dir, 'os', 'a', badOs);
  await writeSlot(dir, 'os', 'b', images.os);
  const root = createMemoryBootRoot({ floors });
  const report = await secureBoot(dir, root, options);
  assert.deepEqual(await readBootReport(dir), report);
  return { os: stageOf(report.stages, 'os'), root, good: images.os };
}

function assertFellBackToB(os: StageReport, good: Uint8Array, code: BootError['code']): void {
  assert.equal(os.slot, 'b');
  assert.equal(os.fellBack, true);
  assert.deepEqual(
    os.refused.map(({ slot, code: refusedCode }) => ({ slot, code: refusedCode })),
    [{ slot: 'a', code }],
  );
  assert.equal(os.measured?.sha256, encodeHex(sha256(good)));
}

describe('secure boot: what a tampered or wrong slot cannot do', () => {
  it('a flipped byte in the OS image stops its slot and boot falls back to the other slot', async () => {
    const os = await packStageImage('os');
    const view = new DataView(os.buffer, os.byteOffset, os.byteLength);
    const signedEnd = 16 + view.getUint32(8) + view.getUint32(12);
    const positions = {
      magic: 0,
      'header length': 11,
      header: 16 + 20,
      payload: signedEnd - 100,
      'signature count': signedEnd,
      'signer key ID': signedEnd + 5,
      signature: os.byteLength - 1,
    };
    for (const [where, offset] of Object.entries(positions)) {
      const { os: stage, good } = await bootWithBadActiveOs(flipByte(os, offset));
      assertFellBackToB(stage, good, 'BOOT_IMAGE_INVALID');
      assert.match(stage.refused[0]?.detail ?? '', /^IMAGE_[A-Z_]+: /, `flipped ${where} byte`);
    }
  });

  it('an OS image below the anti-rollback floor is refused', async () => {
    // Validly signed, but older than the floor: the vulnerable release an attacker would restore.
    const old = await packStageImage('os', { version: '26.9.0', securityVersion: 2 });
    const floors = { [osComponentId]: 3 };
    const { os, good } = await bootWithBadActiveOs(old, floors);
    assertFellBackToB(os, good, 'BOOT_IMAGE_ROLLBACK');

    const policy = { trustedKeys: options.trustedOsKeys, floors };
    assert.throws(() => verifyBootImage(old, 'os', policy), { code: 'BOOT_IMAGE_ROLLBACK' });
    assert.equal(verifyBootImage(good, 'os', policy).entry.securityVersion, 3, 'an image at the floor boots');
  });

  it('an image signed by an untrusted key is refused', async () => {
    const rogue = generateSoftwareSigner().signer;
    const { os, good } = await bootWithBadActiveOs(await packStageImage('os', { signers: [rogue] }));
    assertFellBackToB(os, good, 'BOOT_IMAGE_INVALID');
    assert.match(os.refused[0]?.detail ?? '', /^IMAGE_SIGNATURE_UNKNOWN_KEY: /);

    // Every signature must be by a trusted key: a trusted co-signer does not launder a rogue one.
    const cosigned = await packStageImage('os', { signers: [osReleaseSigner, rogue] });
    const policy = { trustedKeys: options.trustedOsKeys, floors: {} };
    assert.throws(() => verifyBootImage(cosigned, 'os', policy), { code: 'BOOT_IMAGE_INVALID' });
  });

  it('a bootloader image in the OS slot is refused', async () => {
    const { os, good } = await bootWithBadActiveOs(await packStageImage('bootloader'));
    assertFellBackToB(os, good, 'BOOT_IMAGE_WRONG_KIND');
  });

  it('an empty active slot falls back to the other slot', async () => {
    const dir = await newDevice();
    await flashGoodChain(dir, 'b');
    const report = await secureBoot(dir, createMemoryBootRoot(), options);
    for (const stage of report.stages) {
      assert.equal(stage.slot, 'b');
      assert.equal(stage.fellBack, true);
      assert.deepEqual(
        stage.refused.map(({ slot, code }) => ({ slot, code })),
        [{ slot: 'a', code: 'BOOT_SLOT_EMPTY' }],
      );
    }
  });

  it('boots the slot the active marker names first, without falling back', async () => {
    const dir = await newDevice();
    await flashGoodChain(dir, 'a');
    const newer = await packStageImage('os', { version: '26.12.0', securityVersion: 4 });
    await writeSlot(dir, 'os', 'b', newer);
    await setActiveSlot(dir, 'os', 'b');
    const os = stageOf((await secureBoot(dir, createMemoryBootRoot(), options)).stages, 'os');
    assert.deepEqual(
      { slot: os.slot, fellBack: os.fellBack, refused: os.refused },
      {
        slot: 'b',
        fellBack: false,
        refused: [],
      },
    );
    assert.equal(os.measured?.version, '26.12.0');
  });
});

describe('secure boot: halting and measuring', () => {
  it('halts and records why when no slot of a stage verifies', async () => {
    const dir = await newDevice();
    const images = await flashGoodChain(dir, 'a');
    await writeSlot(dir, 'os', 'a', flipByte(images.os, 40));
    const root = createMemoryBootRoot();

    const halted = await secureBoot(dir, root, options).then(
      () => assert.fail('a device with no verifying OS booted'),
      (error: unknown) => error,
    );
    assert.ok(halted instanceof BootError);
    assert.equal(halted.code, 'BOOT_HALTED');
    assert.match(halted.message, /slot a: BOOT_IMAGE_INVALID .*slot b: BOOT_SLOT_EMPTY/);

    const report = await readBootReport(dir);
    assert.equal(report.halted, 'os');
    const os = stageOf(report.stages, 'os');
    assert.equal(os.slot, null);
    assert.equal(os.measured, null);
    assert.deepEqual(
      os.refused.map(({ slot, code }) => ({ slot, code })),
      [
        { slot: 'a', code: 'BOOT_IMAGE_INVALID' },
        { slot: 'b', code: 'BOOT_SLOT_EMPTY' },
      ],
    );
    // What did boot is measured; the halted stage is not.
    assert.deepEqual(
      root.bootLog().map((entry) => entry.kind),
      ['bootloader', 'security-monitor'],
    );
    assert.equal(report.measurementRegister, replayRegister(root.bootLog()));
  });

  it('a halted stage stops the chain: nothing after it is verified or measured', async () => {
    const dir = await newDevice();
    const root = createMemoryBootRoot();
    await assert.rejects(secureBoot(dir, root, options), { code: 'BOOT_HALTED' });
    const report = await readBootReport(dir);
    assert.deepEqual(
      report.stages.map((stage) => stage.stage),
      ['bootloader'],
    );
    assert.equal(root.bootLog().length, 0);
    assert.equal(report.measurementRegister, '00'.repeat(32));
  });

  it('measures every stage in boot order and the register matches a replay of the log', async () => {
    const dir = await newDevice();
    const images = await flashGoodChain(dir, 'a');
    const root = createMemoryBootRoot({ bootcount: 7 });
    const report = await secureBoot(dir, root, options);

    const log = root.bootLog();
    const expected = BOOT_STAGES.map((stage) => {
      const { kind, componentId, version, securityVersion } = stageHeader(stage);
      const sha = encodeHex(sha256(images[stage]));
      return {
        kind,
        componentId,
        version,
        securityVersion,
        sha256: sha,
        signer: osReleaseSigner.publicKey.keyId,
      };
    });
    assert.deepEqual(log, expected);
    assert.deepEqual(
      report.stages.map((stage) => stage.measured),
      expected,
    );
    assert.equal(encodeHex(root.measurementRegister()), replayRegister(log));
    assert.equal(report.measurementRegister, replayRegister(log));
    assert.equal(report.bootcount, 7);
    assert.equal(report.halted, null);
    assert.deepEqual(await readBootReport(dir), report);
  });

  it('refuses to measure the same boot twice', async () => {
    const dir = await newDevice();
    await flashGoodChain(dir, 'a');
    const root = createMemoryBootRoot();
    await secureBoot(dir, root, options);
    await assert.rejects(secureBoot(dir, root, options), { code: 'BOOT_HALTED' });
    assert.equal(root.bootLog().length, 3);
  });
});
