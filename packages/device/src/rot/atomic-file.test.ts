import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PRIVATE_FILE_MODE, writeFileAtomically, writeNewFileDurably } from './atomic-file.ts';
import { tempDirectory } from './emulated/emulated.test-helpers.ts';

describe('atomic file writes', () => {
  it('replaces a file with the new bytes and leaves no temporary file behind', async (t) => {
    const dir = await tempDirectory(t);
    const path = join(dir, 'state.json');
    await writeFile(path, 'old');
    await writeFileAtomically(path, new TextEncoder().encode('new'));
    assert.equal(await readFile(path, 'utf8'), 'new');
    assert.deepEqual(await readdir(dir), ['state.json']);
  });

  it('writes secrets readable by their owner only', async (t) => {
    const dir = await tempDirectory(t);
    const path = join(dir, 'key.der');
    await writeFileAtomically(path, Uint8Array.of(1, 2, 3));
    assert.equal((await stat(path)).mode & 0o777, PRIVATE_FILE_MODE);
  });

  it('refuses to overwrite when asked for a new file', async (t) => {
    const dir = await tempDirectory(t);
    const path = join(dir, 'uds.bin');
    await writeNewFileDurably(path, Uint8Array.of(1));
    await assert.rejects(writeNewFileDurably(path, Uint8Array.of(2)), { code: 'EEXIST' });
    assert.deepEqual(new Uint8Array(await readFile(path)), Uint8Array.of(1));
  });

  it('fails without leaving a temporary file behind when it cannot write', async (t) => {
    const dir = await tempDirectory(t);
    // The target is a directory with something in it: the rename over it fails.
    const path = join(dir, 'target');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'x');
    await assert.rejects(writeFileAtomically(path, Uint8Array.of(1)));
    assert.deepEqual(await readdir(dir), ['target']);
  });

  it('creates the directory it writes into', async (t) => {
    const dir = await tempDirectory(t);
    const path = join(dir, 'new-directory', 'state.json');
    await writeFileAtomically(path, 'text');
    assert.equal(await readFile(path, 'utf8'), 'text');
  });
});
