import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { before, it } from 'node:test';
import { forEachBackend } from '../db/test-databases.ts';
import { insertTenant } from '../tenants/tenants.repo.ts';
import { insertUser } from '../users/users.repo.ts';
import {
  TOKEN_LAST_USED_GRANULARITY_MS,
  deleteTokensExpiredBefore,
  findActiveTokenByHash,
  insertToken,
  listTenantTokens,
  revokeToken,
  revokeUserSessions,
  touchToken,
  type NewToken,
} from './tokens.repo.ts';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

forEachBackend('tokens.repo', (context) => {
  const tenantId = randomUUID();
  const userId = randomUUID();

  before(async () => {
    await insertTenant(context.db, { id: tenantId, name: 'T', createdAt: NOW });
    await insertUser(context.db, {
      id: userId,
      email: `${userId}@example.com`,
      passwordHash: 'h',
      isPlatformOperator: false,
      createdAt: NOW,
    });
  });

  function session(overrides: Partial<NewToken> = {}): NewToken {
    return {
      kind: 'session',
      id: randomUUID(),
      userId,
      name: 'browser',
      createdAt: NOW,
      expiresAt: NOW + HOUR,
      tokenHash: hashOf(randomUUID()),
      ...overrides,
    } as NewToken;
  }

  function apiToken(overrides: Partial<NewToken> = {}): NewToken {
    return {
      kind: 'api',
      id: randomUUID(),
      tenantId,
      role: 'Contributor',
      userId,
      name: 'ci',
      createdAt: NOW,
      expiresAt: NOW + 24 * HOUR,
      tokenHash: hashOf(randomUUID()),
      ...overrides,
    };
  }

  it('finds an active token by the hash of its secret, without returning the hash', async () => {
    const input = session();
    const stored = await insertToken(context.db, input);
    assert.deepEqual(stored, {
      kind: 'session',
      id: input.id,
      userId,
      name: 'browser',
      createdAt: NOW,
      expiresAt: NOW + HOUR,
      revokedAt: null,
      lastUsedAt: null,
    });
    assert.deepEqual(await findActiveTokenByHash(context.db, input.tokenHash, NOW + 1), stored);
    assert.equal(await findActiveTokenByHash(context.db, hashOf('not a token'), NOW), undefined);
  });

  it('does not find a token at or after its expiry', async () => {
    const input = session();
    await insertToken(context.db, input);
    assert.notEqual(await findActiveTokenByHash(context.db, input.tokenHash, NOW + HOUR - 1), undefined);
    assert.equal(await findActiveTokenByHash(context.db, input.tokenHash, NOW + HOUR), undefined);
  });

  it('does not find a revoked token, and revokes only once and only within scope', async () => {
    const input = apiToken();
    await insertToken(context.db, input);
    assert.equal(await revokeToken(context.db, input.id, NOW + 5, { tenantId: randomUUID() }), false);
    assert.notEqual(await findActiveTokenByHash(context.db, input.tokenHash, NOW + 6), undefined);
    assert.equal(await revokeToken(context.db, input.id, NOW + 7, { tenantId }), true);
    assert.equal(await revokeToken(context.db, input.id, NOW + 8), false);
    assert.equal(await findActiveTokenByHash(context.db, input.tokenHash, NOW + 9), undefined);
    assert.equal(await revokeToken(context.db, randomUUID(), NOW), false);
  });

  it('revokes every session of a user, and not their API tokens', async () => {
    const sessions = [session(), session()];
    const api = apiToken();
    for (const token of [...sessions, api]) await insertToken(context.db, token);
    assert.ok((await revokeUserSessions(context.db, userId, NOW + 1)) >= 2);
    for (const token of sessions)
      assert.equal(await findActiveTokenByHash(context.db, token.tokenHash, NOW + 2), undefined);
    assert.notEqual(await findActiveTokenByHash(context.db, api.tokenHash, NOW + 2), undefined);
  });

  it("lists a tenant's API tokens, active ones unless asked", async () => {
    const otherTenant = randomUUID();
    await insertTenant(context.db, { id: otherTenant, name: 'Other', createdAt: NOW });
    const active = apiToken({ tenantId: otherTenant, id: `a-${randomUUID()}` });
    const revoked = apiToken({ tenantId: otherTenant, id: `b-${randomUUID()}` });
    const expired = apiToken({
      tenantId: otherTenant,
      id: `c-${randomUUID()}`,
      expiresAt: NOW + 10,
    });
    for (const token of [active, revoked, expired]) await insertToken(context.db, token);
    await revokeToken(context.db, revoked.id, NOW + 1);
    const listed = await listTenantTokens(context.db, otherTenant, { now: NOW + 10, limit: 10 });
    assert.deepEqual(
      listed.map((token) => token.id),
      [active.id],
    );
    assert.deepEqual(listed[0], {
      kind: 'api',
      id: active.id,
      tenantId: otherTenant,
      role: 'Contributor',
      userId,
      name: 'ci',
      createdAt: NOW,
      expiresAt: NOW + 24 * HOUR,
      revokedAt: null,
      lastUsedAt: null,
    });
    const all = await listTenantTokens(context.db, otherTenant, {
      now: NOW + 10,
      includeInactive: true,
      limit: 10,
    });
    assert.deepEqual(
      all.map((token) => token.id),
      [active.id, revoked.id, expired.id],
    );
    const page = await listTenantTokens(context.db, otherTenant, {
      now: NOW,
      includeInactive: true,
      afterId: active.id,
      limit: 1,
    });
    assert.deepEqual(
      page.map((token) => token.id),
      [revoked.id],
    );
  });

  it('records last use at most once per granularity interval', async () => {
    const input = session();
    await insertToken(context.db, input);
    await touchToken(context.db, input.id, NOW + 1000);
    await touchToken(context.db, input.id, NOW + 2000);
    assert.equal((await findActiveTokenByHash(context.db, input.tokenHash, NOW))?.lastUsedAt, NOW + 1000);
    await touchToken(context.db, input.id, NOW + 1000 + TOKEN_LAST_USED_GRANULARITY_MS);
    assert.equal(
      (await findActiveTokenByHash(context.db, input.tokenHash, NOW))?.lastUsedAt,
      NOW + 1000 + TOKEN_LAST_USED_GRANULARITY_MS,
    );
  });

  it('refuses a reused ID or secret hash with TOKEN_EXISTS, and missing references with their codes', async () => {
    const input = session();
    await insertToken(context.db, input);
    await assert.rejects(insertToken(context.db, { ...input, tokenHash: hashOf(randomUUID()) }), {
      code: 'TOKEN_EXISTS',
    });
    await assert.rejects(insertToken(context.db, { ...input, id: randomUUID() }), { code: 'TOKEN_EXISTS' });
    await assert.rejects(insertToken(context.db, session({ userId: randomUUID() })), {
      code: 'USER_NOT_FOUND',
    });
    await assert.rejects(insertToken(context.db, apiToken({ tenantId: randomUUID() })), {
      code: 'TENANT_NOT_FOUND',
    });
  });

  it('refuses a token that expires before it was created, without leaking SQL', async () => {
    await assert.rejects(
      insertToken(context.db, session({ expiresAt: NOW - 1 })),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'DB_CONSTRAINT_VIOLATION');
        assert.doesNotMatch(error.message, /constraint|tokens|insert/i);
        return true;
      },
    );
  });

  it('deletes tokens that expired before a cutoff', async () => {
    const old = session({ expiresAt: NOW + 1 });
    await insertToken(context.db, old);
    assert.ok((await deleteTokensExpiredBefore(context.db, NOW + 2)) >= 1);
    assert.equal(await findActiveTokenByHash(context.db, old.tokenHash, NOW), undefined);
  });
});
