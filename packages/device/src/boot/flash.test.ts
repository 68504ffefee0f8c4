import assert from 'node:assert/strict';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_IMAGE_PACKAGE_BYTES } from '@orbis/protocol';
import { createMemoryBootRoot, deviceDirectories, osReleaseSigner } from './boot.test-helpers.ts';
import { readActiveSlot, readSlot, readSlots, setActiveSlot, writeSlot } from './flash.ts';
import { secureBoot } from './secure-boot.ts';
import type { BootSlot, BootStage } from './stages.ts';

const newDevice = deviceDirectories();

describe('flash layout', () => {
  it('keeps each stage in <dir>/flash/<stage>/{a,b}.img with an active marker, leaving no temporary files', async () => {
    const dir = await newDevice();
    const bytes = Uint8Array.of(1, 2, 3);
    await writeSlot(dir, 'security-monitor', 'b', bytes);
    await setActiveSlot(dir, 'security-monitor', 'b');

    const stageDir = join(dir, 'flash', 'security-monitor');
    assert.deepEqual((await readdir(stageDir)).sort(), ['active', 'b.img']);
    assert.deepEqual(new Uint8Array(await readFile(join(stageDir, 'b.img'))), bytes);
    assert.equal(await readFile(join(stageDir, 'active'), 'utf8'), 'b');
    assert.deepEqual(await readSlots(dir, 'security-monitor'), { active: 'b', a: null, b: bytes });
  });

  it('a missing or garbled active marker means slot a', async () => {
    const dir = await newDevice();
    assert.equal(await readActiveSlot(dir, 'os'), 'a');
    await mkdir(join(dir, 'flash', 'os'), { recursive: true });
    await writeFile(join(dir, 'flash', 'os', 'active'), 'b\n');
    assert.equal(await readActiveSlot(dir, 'os'), 'b');
    await writeFile(join(dir, 'flash', 'os', 'active'), '../b');
    assert.equal(await readActiveSlot(dir, 'os'), 'a');
  });

  it('an oversized slot is refused before it is read', async () => {
    const dir = await newDevice();
    await mkdir(join(dir, 'flash', 'bootloader'), { recursive: true });
    const handle = await open(join(dir, 'flash', 'bootloader', 'a.img'), 'w');
    await handle.truncate(MAX_IMAGE_PACKAGE_BYTES + 1); // sparse: nothing is written
    await handle.close();
    await assert.rejects(readSlot(dir, 'bootloader', 'a'), { code: 'BOOT_IMAGE_INVALID' });
    await assert.rejects(
      secureBoot(dir, createMemoryBootRoot(), { trustedOsKeys: [osReleaseSigner.publicKey] }),
      { code: 'BOOT_HALTED' },
    );
  });

  it('refuses stage and slot names outside the layout, so no write escapes the flash directory', async () => {
    const dir = await newDevice();
    const bytes = Uint8Array.of(1);
    await assert.rejects(writeSlot(dir, '../boot' as BootStage, 'a', bytes), TypeError);
    await assert.rejects(writeSlot(dir, 'os', '../../x' as BootSlot, bytes), TypeError);
    await assert.rejects(setActiveSlot(dir, 'os', 'c' as BootSlot), TypeError);
  });
});
