import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, Timestamp } from '@tufjs/models';
import { MAX_TUF_ROOT_BYTES, verifyTufRoot, verifyTufRootPair } from './tuf-root.ts';
import {
  createTestTufKey,
  createTestTufRoot,
  createTestTufRoots,
  tufExpires,
} from './tuf-root.test-helpers.ts';

const NOW = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;
const check = (text: string, now = NOW) => verifyTufRoot(text, { now, name: 'the root' });
const refused = { code: 'AGENT_TUF_ROOT_INVALID' };

describe('the TUF roots a device is made with', () => {
  it('accepts a root signed by its own root key, and a pair with keys of their own', () => {
    const { text, keys } = createTestTufRoot(NOW);
    const root = check(text);
    assert.equal(root.signed.version, 1);
    assert.deepEqual(root.signed.roles['root']?.keyIDs, [keys.root.key.keyID]);
    verifyTufRootPair(createTestTufRoots(NOW), NOW);
    // A later version (a rotated root shipped to the factory) is as good a starting point.
    check(createTestTufRoot(NOW, { version: 7 }).text);
  });

  it('refuses a TUF root whose signature does not verify (a tampered root)', () => {
    const tampered = JSON.parse(createTestTufRoot(NOW).text) as { signed: { expires: string } };
    tampered.signed.expires = tufExpires(NOW + 3650 * DAY);
    assert.throws(() => check(JSON.stringify(tampered)), refused);
  });

  it('refuses a root signed by a key its root role does not name (a substituted root)', () => {
    const stranger = createTestTufKey();
    assert.throws(() => check(createTestTufRoot(NOW, { signWith: [stranger] }).text), refused);
    const { keys } = createTestTufRoot(NOW);
    assert.throws(() => check(createTestTufRoot(NOW, { signWith: [keys.targets] }).text), refused);
  });

  it('refuses a root whose root role needs more signatures than it names keys', () => {
    assert.throws(() => check(createTestTufRoot(NOW, { threshold: 2 }).text), refused);
  });

  it('refuses an expired TUF root (a freeze attack at the factory)', () => {
    assert.throws(() => check(createTestTufRoot(NOW, { expires: NOW - DAY }).text), refused);
    const root = createTestTufRoot(NOW, { expires: NOW + DAY }).text;
    check(root);
    assert.throws(() => check(root, NOW + DAY), refused);
  });

  it('refuses metadata that is not a root, even signed by a root key (a timestamp given as a root)', () => {
    const key = createTestTufKey();
    const timestamp = new Metadata(
      new Timestamp({ version: 1, specVersion: '1.0.31', expires: tufExpires(NOW + DAY) }),
    );
    timestamp.sign(key.sign);
    assert.throws(() => check(JSON.stringify(timestamp.toJSON())), refused);
  });

  it('refuses malformed JSON, JSON that is not metadata, another specification, version 0, and an oversized root', () => {
    const valid = JSON.parse(createTestTufRoot(NOW).text) as { signed: Record<string, unknown> };
    const variant = (change: Record<string, unknown>) =>
      JSON.stringify({ ...valid, signed: { ...valid.signed, ...change } });
    for (const text of [
      '{"signed": ',
      '',
      '[]',
      'null',
      '{"signed": {"_type": "root"}}',
      variant({ spec_version: '2.0.0' }),
      variant({ spec_version: '1.' }),
      createTestTufRoot(NOW, { version: 0 }).text,
      variant({ version: 1.5 }),
      variant({ keys: 'none' }),
      `${createTestTufRoot(NOW).text}${' '.repeat(MAX_TUF_ROOT_BYTES)}`,
    ]) {
      assert.throws(() => check(text), refused, text.slice(0, 60));
    }
  });

  it("refuses a director root given as the image repository's (two repositories collapsed into one)", () => {
    const { directorRoot } = createTestTufRoots(NOW);
    assert.throws(() => verifyTufRootPair({ imageRepositoryRoot: directorRoot, directorRoot }, NOW), refused);
  });
});
