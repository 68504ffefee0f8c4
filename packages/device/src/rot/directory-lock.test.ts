import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { lockDeviceDirectory, LOCK_FILE_NAME } from './directory-lock.ts';
import {
  assertRotError,
  childSource,
  crash,
  directoryLockModule,
  spawnReadyChild,
  tempDirectory,
} from './emulated/emulated.test-helpers.ts';

/** A child process that takes the lock of `dir` and keeps it. */
function holdLockSource(dir: string): string {
  return childSource(directoryLockModule, `await m.lockDeviceDirectory(${JSON.stringify(dir)});`);
}

describe('the device directory lock', () => {
  it('writes its pid into <dir>/lock and removes the file on release', async (t) => {
    const dir = await tempDirectory(t);
    const lock = await lockDeviceDirectory(dir);
    assert.equal(lock.path, join(dir, LOCK_FILE_NAME));
    assert.equal((await readFile(lock.path, 'utf8')).trim(), String(process.pid));
    await lock.release();
    await assert.rejects(readFile(lock.path), { code: 'ENOENT' });
    await lock.release();
  });

  it('refuses a second process on the same device directory', async (t) => {
    const dir = await tempDirectory(t);
    const child = await spawnReadyChild(t, holdLockSource(dir));
    await assertRotError(lockDeviceDirectory(dir), 'ROT_DIRECTORY_LOCKED');
    assert.equal((await readFile(join(dir, LOCK_FILE_NAME), 'utf8')).trim(), String(child.pid));
  });

  it('takes over the lock of a process that died without releasing it', async (t) => {
    const dir = await tempDirectory(t);
    const child = await spawnReadyChild(t, holdLockSource(dir));
    await crash(child);
    const lock = await lockDeviceDirectory(dir);
    assert.equal((await readFile(lock.path, 'utf8')).trim(), String(process.pid));
    await lock.release();
  });

  it('refuses a second lock in the same process: one device, one holder', async (t) => {
    const dir = await tempDirectory(t);
    const lock = await lockDeviceDirectory(dir);
    await assertRotError(lockDeviceDirectory(dir), 'ROT_DIRECTORY_LOCKED');
    await lock.release();
    await (await lockDeviceDirectory(dir)).release();
  });

  it('treats a lock file that names no process as held (fails closed)', async (t) => {
    const dir = await tempDirectory(t);
    await writeFile(join(dir, LOCK_FILE_NAME), '');
    await assertRotError(lockDeviceDirectory(dir), 'ROT_DIRECTORY_LOCKED');
    await writeFile(join(dir, LOCK_FILE_NAME), 'not a pid\n');
    await assertRotError(lockDeviceDirectory(dir), 'ROT_DIRECTORY_LOCKED');
  });

  it('does not remove, on release, a lock that another process has since taken over', async (t) => {
    const dir = await tempDirectory(t);
    const lock = await lockDeviceDirectory(dir);
    const child = await spawnReadyChild(
      t,
      `process.stdout.write('ready\\n'); setInterval(() => {}, 1 << 30);`,
    );
    await writeFile(lock.path, `${String(child.pid)}\n`);
    await lock.release();
    assert.equal((await readFile(lock.path, 'utf8')).trim(), String(child.pid));
  });
});
