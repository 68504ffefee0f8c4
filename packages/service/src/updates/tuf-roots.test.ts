import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, MetadataKind, type Root } from '@tufjs/models';
import { OFFLINE_KEY_NAMES } from '@orbis/ca';
import { encodePem } from '@orbis/crypto';
import { listAuditEvents, PLATFORM_AUDIT_CHAIN } from '../audit/audit.repo.ts';
import { getSetting, putSetting } from '../db/settings.repo.ts';
import { forEachBackend } from '../db/test-databases.ts';
import { DAY, keyStoreAt } from '../pki/pki.test-helpers.ts';
import { createTestTufRoots } from '../testing/test-tuf-roots.ts';
import { TUF_KEY_SCHEME, TUF_KEY_TYPE } from './tuf-metadata.ts';
import {
  ensureTufRoots,
  TUF_KEY_NAMES,
  TUF_ROOT_LIFETIME_DAYS,
  type TufRepository,
  type TufRoots,
} from './tuf-roots.ts';

const REPOSITORIES: readonly TufRepository[] = ['imageRepository', 'director'];
const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;

/** A root as tuf-js loads its trusted root.json: the models parse it and check it signs itself. */
function loadRoot(text: string): Metadata<Root> {
  const metadata = Metadata.fromJSON(MetadataKind.Root, JSON.parse(text) as Record<string, never>);
  metadata.verifyDelegate('root', metadata);
  return metadata;
}

forEachBackend('the TUF roots', (context) => {
  const keys = keyStoreAt();
  const now = Date.UTC(2026, 10, 1, 12, 0, 0, 250);
  let first: TufRoots;

  it('creates both roots on first start, once, and serves the same bytes after a restart', async () => {
    const created = await ensureTufRoots({ db: context.db, keyStore: await keys.open() }, now);
    assert.deepEqual(created.created, ['imageRepository', 'director']);
    first = created.roots;
    // A restart: a new KeyStore instance, a later clock, nothing created or signed again.
    const again = await ensureTufRoots({ db: context.db, keyStore: await keys.open() }, now + DAY);
    assert.deepEqual(again.created, []);
    assert.deepEqual(again.roots, first);
    const events = await listAuditEvents(context.db, PLATFORM_AUDIT_CHAIN, { limit: 100 });
    assert.deepEqual(
      events.filter((event) => event.action === 'updates.tuf-root.create').map((event) => event.target),
      ['tuf-root:imageRepository', 'tuf-root:director'],
    );
  });

  it('signs each root, version 1, with its own root key from the KeyStore, and each verifies under it', async () => {
    const keyStore = await keys.open();
    for (const repository of REPOSITORIES) {
      const root = loadRoot(first[repository]);
      assert.equal(root.signed.version, 1);
      assert.match(root.signed.specVersion, /^1\.\d+\.\d+$/);
      assert.equal(root.signed.expires, '2027-11-01T12:00:00Z');
      assert.equal(
        Date.parse(root.signed.expires),
        Math.floor(now / 1000) * 1000 + TUF_ROOT_LIFETIME_DAYS * DAY,
      );
      for (const role of ROLES) {
        const { keyIDs, threshold } = root.signed.roles[role]!;
        assert.equal(threshold, 1);
        assert.equal(keyIDs.length, 1);
        const key = root.signed.keys[keyIDs[0]!]!;
        const expected = (await keyStore.getSigner(TUF_KEY_NAMES[repository][role])).publicKey;
        assert.deepEqual(
          [key.keyType, key.scheme, key.keyVal['public']],
          [TUF_KEY_TYPE, TUF_KEY_SCHEME, encodePem(expected.spki, 'PUBLIC KEY')],
        );
        // TUF's key ID: SHA-256 of the canonical JSON of the key object.
        const keyId = createHash('sha256').update(canonicalize(key.toJSON())).digest('hex');
        assert.equal(key.keyID, keyId);
      }
      assert.deepEqual(Object.keys(root.signatures), root.signed.roles['root']!.keyIDs);
    }
  });

  it('gives the image repository and the director keys of their own, and names the offline ones so', () => {
    const keyIds = REPOSITORIES.flatMap((repository) => Object.keys(loadRoot(first[repository]).signed.keys));
    assert.equal(new Set(keyIds).size, 8);
    const offline: readonly string[] = OFFLINE_KEY_NAMES;
    for (const name of ['image-repo-root', 'image-repo-targets', 'director-root']) {
      assert.ok(offline.includes(name), name);
    }
    assert.ok(!offline.includes(TUF_KEY_NAMES.director.targets));
    assert.ok(!offline.includes(TUF_KEY_NAMES.imageRepository.timestamp));
  });

  it('refuses a root whose signature no longer verifies (a tampered root)', () => {
    const tampered = JSON.parse(first.imageRepository) as { signed: { expires: string } };
    tampered.signed.expires = '2099-01-01T00:00:00Z';
    assert.throws(() => loadRoot(JSON.stringify(tampered)));
    const resigned = JSON.parse(first.director) as { signatures: { keyid: string; sig: string }[] };
    resigned.signatures[0]!.sig = resigned.signatures[0]!.sig.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    assert.throws(() => loadRoot(JSON.stringify(resigned)));
  });

  it('still serves the stored roots after the root and targets keys were exported and removed (taken offline)', async () => {
    const keyStore = await keys.open();
    for (const name of ['image-repo-root', 'image-repo-targets', 'director-root']) {
      assert.ok((await keyStore.exportKey(name)).byteLength > 0);
      await keyStore.removeKey(name);
    }
    const restarted = await ensureTufRoots({ db: context.db, keyStore: await keys.open() }, now + 2 * DAY);
    assert.deepEqual(restarted, { roots: first, created: [] });
  });

  it('refuses to start on a stored root replaced in the database by one that signs itself with other keys (a swapped root)', async () => {
    const key = 'updates.tuf-root.image-repository';
    const stored = await getSetting(context.db, key);
    assert.ok(stored !== undefined);
    await putSetting(context.db, key, (await createTestTufRoots(now)).imageRepository);
    try {
      await assert.rejects(ensureTufRoots({ db: context.db, keyStore: await keys.open() }, now), {
        code: 'UPDATES_ROOT_INVALID',
      });
    } finally {
      await putSetting(context.db, key, stored);
    }
  });

  it('refuses to start on a stored root altered in the database (a tampered root), naming the code', async () => {
    const key = 'updates.tuf-root.director';
    const stored = await getSetting(context.db, key);
    assert.ok(stored !== undefined);
    const altered = JSON.parse(stored) as { signed: { version: number } };
    altered.signed.version = 2;
    await putSetting(context.db, key, JSON.stringify(altered));
    try {
      await assert.rejects(ensureTufRoots({ db: context.db, keyStore: await keys.open() }, now), {
        code: 'UPDATES_ROOT_INVALID',
      });
    } finally {
      await putSetting(context.db, key, stored);
    }
  });
});

forEachBackend('the TUF roots, with a lost database', (context) => {
  it('will not sign a new root with a new key once the root key was taken offline', async () => {
    const keys = keyStoreAt();
    const keyStore = await keys.open();
    await keyStore.createSigningKey('image-repo-root');
    await keyStore.removeKey('image-repo-root');
    await assert.rejects(ensureTufRoots({ db: context.db, keyStore }, Date.now()), {
      code: 'KEYSTORE_KEY_OFFLINE',
    });
  });
});
