import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeBase64Url } from '@orbis/crypto';
import { loadMasterKey, masterKeySourceFromEnv } from './master-key.ts';

const root = mkdtempSync(join(tmpdir(), 'orbis-master-'));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const dataDir = () => join(root, `data-${(count += 1)}`);

describe('loadMasterKey', () => {
  it('takes the key from the environment first', async () => {
    const key = randomBytes(32);
    const loaded = await loadMasterKey({
      masterKey: encodeBase64Url(key),
      dataDir: dataDir(),
      allowGenerated: false,
    });
    assert.deepEqual(loaded, { key: new Uint8Array(key), origin: 'environment' });
  });

  it('reads a key file, and refuses one that is missing or the wrong size', async () => {
    const file = join(root, 'master.txt');
    writeFileSync(file, `${encodeBase64Url(randomBytes(32))}\n`);
    assert.equal(
      (await loadMasterKey({ masterKeyFile: file, dataDir: dataDir(), allowGenerated: false })).origin,
      'file',
    );
    writeFileSync(file, encodeBase64Url(randomBytes(16)));
    const code = { code: 'KEYSTORE_MASTER_KEY_INVALID' };
    await assert.rejects(
      loadMasterKey({ masterKeyFile: file, dataDir: dataDir(), allowGenerated: false }),
      code,
    );
    await assert.rejects(
      loadMasterKey({ masterKeyFile: join(root, 'none'), dataDir: dataDir(), allowGenerated: false }),
      code,
    );
    await assert.rejects(
      loadMasterKey({ masterKey: 'not base64!', dataDir: dataDir(), allowGenerated: false }),
      code,
    );
  });

  it('refuses to start without a key unless a lab allows a generated one', async () => {
    await assert.rejects(loadMasterKey({ dataDir: dataDir(), allowGenerated: false }), {
      code: 'KEYSTORE_MASTER_KEY_INVALID',
    });
  });

  it('generates a lab key once, readable only by its owner, and reuses it', async () => {
    const dir = dataDir();
    const first = await loadMasterKey({ dataDir: dir, allowGenerated: true });
    const second = await loadMasterKey({ dataDir: dir, allowGenerated: false });
    assert.equal(first.origin, 'generated');
    assert.deepEqual(second.key, first.key);
    assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
  });
});

describe('masterKeySourceFromEnv', () => {
  it('treats empty variables as unset', () => {
    assert.deepEqual(
      masterKeySourceFromEnv({ ORBIS_MASTER_KEY: '', ORBIS_MASTER_KEY_FILE: '/k' }, '/d', false),
      {
        masterKeyFile: '/k',
        dataDir: '/d',
        allowGenerated: false,
      },
    );
  });
});
