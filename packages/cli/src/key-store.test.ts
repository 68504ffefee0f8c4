import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileKeyStore, loadMasterKey } from '@orbis/service';
import { openssl } from '@orbis/testkit';

const bin = new URL('./bin/orbis.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'orbis-cli-keys-'));
const dataDir = join(dir, 'data');
let keyId = '';

function orbis(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args, '--data-dir', dataDir, '--json'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ORBIS_MASTER_KEY: '', ORBIS_MASTER_KEY_FILE: join(dataDir, 'master.key') },
  });
  return {
    status: result.status,
    json: JSON.parse(result.stdout || '{}') as Record<string, unknown>,
    stderr: result.stderr,
  };
}

describe('orbis keys list, export and remove (taking offline keys out of the service)', () => {
  before(async () => {
    const master = await loadMasterKey({ dataDir, allowGenerated: true });
    const store = await FileKeyStore.open({
      directory: join(dataDir, 'keys'),
      masterKey: master.key,
      now: () => 0,
    });
    keyId = (await store.createSigningKey('os-release')).publicKey.keyId;
    await store.createSigningKey('capability');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists keys and marks the ones that should be offline', () => {
    const keys = orbis('keys', 'list').json['keys'] as {
      name: string;
      keyId: string;
      shouldBeOffline: boolean;
    }[];
    assert.deepEqual(
      keys.map((key) => [key.name, key.shouldBeOffline]),
      [
        ['capability', false],
        ['os-release', true],
      ],
    );
    assert.equal(keys[1]?.keyId, keyId);
  });

  it('exports a key encrypted with a passphrase, which openssl opens to the same key', () => {
    writeFileSync(join(dir, 'pass'), 'a long export passphrase\n');
    const exported = orbis(
      'keys',
      'export',
      'os-release',
      '--out',
      'os-release.pem',
      '--passphrase-file',
      'pass',
    );
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(statSync(join(dir, 'os-release.pem')).mode & 0o777, 0o600);
    const der = openssl(
      [
        'pkey',
        '-in',
        join(dir, 'os-release.pem'),
        '-passin',
        `file:${join(dir, 'pass')}`,
        '-pubout',
        '-outform',
        'DER',
      ],
      '',
    );
    assert.equal(
      Buffer.from(openssl(['dgst', '-sha256', '-r'], der))
        .toString()
        .split(' ')[0],
      keyId,
    );
  });

  it('refuses to remove a key without the name repeated in --confirm', () => {
    const refused = orbis('keys', 'remove', 'os-release');
    assert.equal(refused.status, 1);
    assert.deepEqual(
      refused.json['error'] && (refused.json['error'] as { code: string }).code,
      'CLI_CONFIRMATION_REQUIRED',
    );
  });

  it('removes the key, after which the KeyStore no longer has it', () => {
    assert.equal(orbis('keys', 'remove', 'os-release', '--confirm', 'os-release').status, 0);
    const keys = (orbis('keys', 'list').json['keys'] as { name: string; offline: boolean }[]).map((key) => [
      key.name,
      key.offline,
    ]);
    assert.deepEqual(keys, [
      ['capability', false],
      ['os-release', true],
    ]);
    const again = orbis('keys', 'export', 'os-release', '--out', 'again.pem');
    assert.equal((again.json['error'] as { code: string }).code, 'KEYSTORE_KEY_NOT_FOUND');
  });
});
