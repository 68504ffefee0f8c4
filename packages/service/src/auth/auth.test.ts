import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertAcceptablePassword, hashPassword, PASSWORD_MAX_BYTES, verifyPassword } from './passwords.ts';
import { bearerToken, generateToken, hashToken } from './tokens.ts';

describe('password hashing', () => {
  it('stores an Argon2id PHC string with a fresh salt, never the password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.notEqual(a, b);
    assert.doesNotMatch(a, /correct horse/);
  });

  it('accepts the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.equal(await verifyPassword(stored, 'correct horse battery'), true);
    assert.equal(await verifyPassword(stored, 'correct horse batterY'), false);
  });

  it('refuses a corrupted hash instead of throwing', async () => {
    assert.equal(await verifyPassword('$argon2id$v=19$m=1$nope', 'correct horse battery'), false);
    const stored = await hashPassword('correct horse battery');
    assert.equal(await verifyPassword(stored.slice(0, -4), 'correct horse battery'), false);
  });

  it('refuses short passwords and oversized ones before hashing (no cost amplification)', async () => {
    assert.throws(() => assertAcceptablePassword('short'), { code: 'AUTH_PASSWORD_TOO_WEAK' });
    const huge = 'x'.repeat(PASSWORD_MAX_BYTES + 1);
    await assert.rejects(hashPassword(huge), { code: 'AUTH_PASSWORD_TOO_WEAK' });
    assert.equal(await verifyPassword(await hashPassword('correct horse battery'), huge), false);
  });
});

describe('bearer tokens', () => {
  it('are prefixed by kind, random, and stored as SHA-256 only', () => {
    const token = generateToken('api');
    assert.match(token, /^orbis_a_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(generateToken('api'), token);
    assert.match(hashToken(token), /^[0-9a-f]{64}$/);
    assert.doesNotMatch(hashToken(token), new RegExp(token));
  });

  it('are read only from a well-formed Authorization header', () => {
    const token = generateToken('session');
    assert.equal(bearerToken(`Bearer ${token}`), token);
    for (const header of [
      undefined,
      token,
      `Basic ${token}`,
      `Bearer ${token} extra`,
      'Bearer orbis_s_short',
    ]) {
      assert.equal(bearerToken(header), undefined, String(header));
    }
  });
});
