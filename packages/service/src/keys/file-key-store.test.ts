import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createSoftwareSigner, isValidSignature } from '@orbis/crypto';
import { FileKeyStore } from './file-key-store.ts';

const directories: string[] = [];
after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function newDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'orbis-keys-'));
  directories.push(directory);
  return join(directory, 'keys');
}

const masterKey = randomBytes(32);
const open = (directory: string, key: Uint8Array = masterKey) =>
  FileKeyStore.open({ directory, masterKey: key, now: () => 1_795_000_000_000 });

describe('FileKeyStore', () => {
  it('keeps a signing key across restarts, readable only by its owner and never in plaintext', async () => {
    const directory = newDirectory();
    const created = await (await open(directory)).createSigningKey('tenant-ca.one');
    const reopened = await (await open(directory)).getSigner('tenant-ca.one');
    assert.equal(reopened.publicKey.keyId, created.publicKey.keyId);
    const data = Uint8Array.of(1, 2, 3);
    assert.ok(isValidSignature(created.publicKey, data, await reopened.sign(data, 'der'), 'der'));
    const file = join(directory, 'tenant-ca.one.key.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /PRIVATE KEY|MIG/);
  });

  it('refuses to decrypt with another master key', async () => {
    const directory = newDirectory();
    await (await open(directory)).createSigningKey('os-release');
    const wrong = await open(directory, randomBytes(32));
    await assert.rejects(wrong.getSigner('os-release'), { code: 'KEYSTORE_DECRYPT_FAILED' });
  });

  it('rejects a key file swapped in under another key name', async () => {
    const directory = newDirectory();
    const store = await open(directory);
    await store.createSigningKey('attacker');
    await store.createSigningKey('platform-root-ca');
    rmSync(join(directory, 'platform-root-ca.key.json'));
    renameSync(join(directory, 'attacker.key.json'), join(directory, 'platform-root-ca.key.json'));
    await assert.rejects((await open(directory)).getSigner('platform-root-ca'), {
      code: 'KEYSTORE_DECRYPT_FAILED',
    });
  });

  it('rejects an altered key file', async () => {
    const directory = newDirectory();
    await (await open(directory)).createSigningKey('director-root');
    const file = join(directory, 'director-root.key.json');
    const contents = JSON.parse(readFileSync(file, 'utf8')) as { ciphertext: string };
    const flipped = contents.ciphertext.startsWith('A')
      ? `B${contents.ciphertext.slice(1)}`
      : `A${contents.ciphertext.slice(1)}`;
    writeFileSync(file, JSON.stringify({ ...contents, ciphertext: flipped }));
    await assert.rejects((await open(directory)).getSigner('director-root'), {
      code: 'KEYSTORE_DECRYPT_FAILED',
    });
  });

  it('never overwrites a key, and refuses names that could leave its directory', async () => {
    const store = await open(newDirectory());
    await store.createSigningKey('update-ca');
    await assert.rejects(store.createSigningKey('update-ca'), { code: 'KEYSTORE_KEY_EXISTS' });
    for (const name of ['../escape', 'a/b', 'UPPER', '', '.hidden']) {
      await assert.rejects(store.createSigningKey(name), { code: 'KEYSTORE_NAME_INVALID' }, name);
    }
  });

  it('exports a signing key as PKCS#8 and removes it, taking it offline', async () => {
    const store = await open(newDirectory());
    const signer = await store.createSigningKey('image-repo-root');
    const pkcs8 = await store.exportKey('image-repo-root');
    const imported = createSoftwareSigner(
      createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }),
    );
    assert.equal(imported.publicKey.keyId, signer.publicKey.keyId);
    await store.removeKey('image-repo-root');
    assert.equal(await store.has('image-repo-root'), false);
    await assert.rejects(store.getSigner('image-repo-root'), { code: 'KEYSTORE_KEY_NOT_FOUND' });
    await assert.rejects(store.removeKey('image-repo-root'), { code: 'KEYSTORE_KEY_NOT_FOUND' });
  });

  it('never gives the name of a key taken offline to a new key (an attacker cannot swap in their own root)', async () => {
    const directory = newDirectory();
    const store = await open(directory);
    const signer = await store.createSigningKey('platform-root-ca');
    await store.removeKey('platform-root-ca');
    const reopened = await open(directory);
    await assert.rejects(reopened.createSigningKey('platform-root-ca'), { code: 'KEYSTORE_KEY_OFFLINE' });
    assert.deepEqual(await reopened.list(), [
      {
        name: 'platform-root-ca',
        kind: 'signing',
        createdAt: 1_795_000_000_000,
        offline: true,
        keyId: signer.publicKey.keyId,
      },
    ]);
  });

  it('creates an HMAC secret once and returns the same one after a restart', async () => {
    const directory = newDirectory();
    const first = await (await open(directory)).getHmacSecret('nonce-hmac');
    const again = await (await open(directory)).getHmacSecret('nonce-hmac');
    assert.equal(first.byteLength, 32);
    assert.deepEqual(again, first);
    await assert.rejects((await open(directory)).getSigner('nonce-hmac'), { code: 'KEYSTORE_KEY_NOT_FOUND' });
  });

  it('lists keys with their kind and key ID, but no secret', async () => {
    const store = await open(newDirectory());
    const signer = await store.createSigningKey('capability');
    await store.getHmacSecret('signed-urls');
    assert.deepEqual(await store.list(), [
      {
        name: 'capability',
        kind: 'signing',
        createdAt: 1_795_000_000_000,
        offline: false,
        keyId: signer.publicKey.keyId,
      },
      { name: 'signed-urls', kind: 'hmac', createdAt: 1_795_000_000_000, offline: false },
    ]);
  });

  it('refuses a master key of the wrong size', async () => {
    await assert.rejects(open(newDirectory(), randomBytes(16)), { code: 'KEYSTORE_MASTER_KEY_INVALID' });
  });
});
