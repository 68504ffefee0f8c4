import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyTufRootPair } from '@orbis/device';
import type { RunningService } from '@orbis/service';
import { runOrbis, startLab, startLabService } from './lab.test-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'orbis-cli-updates-'));
const dataDir = join(dir, 'data');

const errorCode = (stdout: string) => (JSON.parse(stdout) as { error: { code: string } }).error.code;

/** `orbis updates roots` against a lab service, and the roots across taking their keys offline. */
describe('orbis updates roots', () => {
  let service: RunningService;

  before(async () => {
    const lab = await startLabService(dir);
    service = lab.service;
    writeFileSync(join(dir, 'operator.token'), lab.operatorToken);
  });
  after(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const roots = (out: string, tokenFile = 'operator.token') =>
    runOrbis(
      dir,
      'updates',
      'roots',
      '--api',
      service.apiUrl,
      '--token-file',
      tokenFile,
      '--out',
      out,
      '--json',
    );

  it("writes the image repository's and the director's root.json, as the service signed them", async () => {
    const result = await roots('roots');
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const summary = JSON.parse(result.stdout) as {
      roots: { repository: string; file: string; version: number }[];
    };
    assert.deepEqual(
      summary.roots.map((root) => [root.repository, root.file, root.version]),
      [
        ['imageRepository', join('roots', 'image-repository-root.json'), 1],
        ['director', join('roots', 'director-root.json'), 1],
      ],
    );
    const imageRepositoryRoot = readFileSync(join(dir, 'roots', 'image-repository-root.json'), 'utf8');
    const directorRoot = readFileSync(join(dir, 'roots', 'director-root.json'), 'utf8');
    assert.deepEqual(JSON.parse(imageRepositoryRoot), JSON.parse(service.tufRoots().imageRepository));
    assert.deepEqual(JSON.parse(directorRoot), JSON.parse(service.tufRoots().director));
    verifyTufRootPair({ imageRepositoryRoot, directorRoot }, Date.now());
  });

  it('never overwrites roots already there, and writes nothing for a caller without a valid token', async () => {
    const again = await roots('roots');
    assert.deepEqual([again.status, errorCode(again.stdout)], [1, 'CLI_FILE_EXISTS']);
    writeFileSync(join(dir, 'forged.token'), 'orbis_session_forged');
    const forged = await roots('stolen', 'forged.token');
    assert.deepEqual([forged.status, errorCode(forged.stdout)], [1, 'AUTH_REQUIRED']);
    assert.equal(existsSync(join(dir, 'stolen', 'director-root.json')), false);
    const missing = await runOrbis(dir, 'updates', 'roots', '--api', service.apiUrl, '--json');
    assert.deepEqual([missing.status, errorCode(missing.stdout)], [1, 'CLI_USAGE_INVALID']);
  });

  it('serves the same roots after the root and targets keys were exported and removed, and the service restarted', async () => {
    const before = service.tufRoots();
    await service.stop();
    const keys = (...args: string[]) => runOrbis(dir, 'keys', ...args, '--data-dir', dataDir, '--json');
    for (const name of ['image-repo-root', 'image-repo-targets', 'director-root']) {
      const exported = await keys('export', name, '--out', `${name}.pem`);
      assert.equal(exported.status, 0, exported.stdout + exported.stderr);
      const removed = await keys('remove', name, '--confirm', name);
      assert.equal(removed.status, 0, removed.stdout + removed.stderr);
    }
    const listed = JSON.parse((await keys('list')).stdout) as { keys: { name: string; offline: boolean }[] };
    assert.ok(listed.keys.some((key) => key.name === 'image-repo-root' && key.offline));
    service = await startLab(dir);
    assert.deepEqual(service.tufRoots(), before);
    const result = await roots('after-offline');
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.deepEqual(
      JSON.parse(readFileSync(join(dir, 'after-offline', 'image-repository-root.json'), 'utf8')),
      JSON.parse(before.imageRepository),
    );
  });
});
