import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { forEachBackend } from '../db/test-databases.ts';
import { insertTenant } from '../tenants/tenants.repo.ts';
import {
  countTenantAdministrators,
  countUsers,
  deleteMembership,
  findMembership,
  findUserByEmail,
  findUserById,
  findUserCredentials,
  insertMembership,
  insertUser,
  listTenantMembers,
  listUserMemberships,
  normalizeEmail,
  setMembershipRole,
  setUserPasswordHash,
  type NewUser,
} from './users.repo.ts';

function newUser(overrides: Partial<NewUser> = {}): NewUser {
  const id = randomUUID();
  return {
    id,
    email: `${id}@example.com`,
    passwordHash: 'scrypt$hash',
    isPlatformOperator: false,
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

forEachBackend('users.repo', (context) => {
  it('stores a user with a normalised email and never returns the hash outside credentials', async () => {
    const input = newUser({ email: 'Ada.Lovelace@Example.COM', isPlatformOperator: true });
    const user = await insertUser(context.db, input);
    assert.deepEqual(user, {
      id: input.id,
      email: 'ada.lovelace@example.com',
      isPlatformOperator: true,
      createdAt: input.createdAt,
    });
    assert.equal('passwordHash' in user, false);
    assert.deepEqual(await findUserById(context.db, input.id), user);
    assert.deepEqual(await findUserByEmail(context.db, 'ADA.LOVELACE@example.com'), user);
    assert.deepEqual(await findUserCredentials(context.db, 'ada.lovelace@EXAMPLE.com'), {
      user,
      passwordHash: 'scrypt$hash',
    });
  });

  it('refuses an email that differs only in case or Unicode form with USER_EMAIL_EXISTS', async () => {
    await insertUser(context.db, newUser({ email: 'jos\u00e9@example.com' }));
    await assert.rejects(insertUser(context.db, newUser({ email: 'JOSE\u0301@example.com' })), {
      code: 'USER_EMAIL_EXISTS',
    });
    assert.equal(normalizeEmail('JOSE\u0301@Example.com'), 'jos\u00e9@example.com');
  });

  it('refuses a user ID that is taken with USER_EXISTS', async () => {
    const user = newUser();
    await insertUser(context.db, user);
    await assert.rejects(insertUser(context.db, { ...user, email: 'other@example.com' }), {
      code: 'USER_EXISTS',
    });
  });

  it('counts users as a number and replaces a password hash', async () => {
    const before = await countUsers(context.db);
    assert.equal(typeof before, 'number');
    const user = newUser();
    await insertUser(context.db, user);
    assert.equal(await countUsers(context.db), before + 1);
    await setUserPasswordHash(context.db, user.id, 'scrypt$new');
    assert.equal((await findUserCredentials(context.db, user.email))?.passwordHash, 'scrypt$new');
    await assert.rejects(setUserPasswordHash(context.db, randomUUID(), 'x'), { code: 'USER_NOT_FOUND' });
  });

  it('adds, changes, lists and removes memberships', async () => {
    const tenantId = randomUUID();
    await insertTenant(context.db, { id: tenantId, name: 'Fabrikam', createdAt: 1 });
    const admin = await insertUser(context.db, newUser({ id: `a-${randomUUID()}` }));
    const reader = await insertUser(context.db, newUser({ id: `b-${randomUUID()}` }));
    const membership = { userId: admin.id, tenantId, role: 'Administrator' as const, createdAt: 10 };
    assert.deepEqual(await insertMembership(context.db, membership), membership);
    await insertMembership(context.db, { userId: reader.id, tenantId, role: 'Reader', createdAt: 11 });
    assert.equal(await countTenantAdministrators(context.db, tenantId), 1);

    const members = await listTenantMembers(context.db, tenantId, { limit: 10 });
    assert.deepEqual(
      members.map((member) => [member.email, member.role]),
      [
        [admin.email, 'Administrator'],
        [reader.email, 'Reader'],
      ],
    );
    assert.deepEqual(
      (await listTenantMembers(context.db, tenantId, { afterUserId: admin.id, limit: 10 })).map(
        (m) => m.userId,
      ),
      [reader.id],
    );
    assert.deepEqual(await listUserMemberships(context.db, admin.id, { limit: 10 }), [membership]);

    const promoted = await setMembershipRole(context.db, { userId: reader.id, tenantId }, 'Contributor');
    assert.equal(promoted.role, 'Contributor');
    assert.equal((await findMembership(context.db, { userId: reader.id, tenantId }))?.role, 'Contributor');

    await deleteMembership(context.db, { userId: reader.id, tenantId });
    assert.equal(await findMembership(context.db, { userId: reader.id, tenantId }), undefined);
    await assert.rejects(deleteMembership(context.db, { userId: reader.id, tenantId }), {
      code: 'USER_MEMBERSHIP_NOT_FOUND',
    });
    await assert.rejects(setMembershipRole(context.db, { userId: reader.id, tenantId }, 'Reader'), {
      code: 'USER_MEMBERSHIP_NOT_FOUND',
    });
  });

  it('refuses a duplicate membership, or one naming a missing user or tenant, with specific codes', async () => {
    const tenantId = randomUUID();
    await insertTenant(context.db, { id: tenantId, name: 'T', createdAt: 1 });
    const user = await insertUser(context.db, newUser());
    await insertMembership(context.db, { userId: user.id, tenantId, role: 'Reader', createdAt: 1 });
    await assert.rejects(
      insertMembership(context.db, { userId: user.id, tenantId, role: 'Administrator', createdAt: 2 }),
      {
        code: 'USER_MEMBERSHIP_EXISTS',
      },
    );
    await assert.rejects(
      insertMembership(context.db, { userId: randomUUID(), tenantId, role: 'Reader', createdAt: 1 }),
      {
        code: 'USER_NOT_FOUND',
      },
    );
    await assert.rejects(
      insertMembership(context.db, { userId: user.id, tenantId: randomUUID(), role: 'Reader', createdAt: 1 }),
      {
        code: 'TENANT_NOT_FOUND',
      },
    );
  });

  it('keeps a membership atomic with the caller’s transaction', async () => {
    const tenantId = randomUUID();
    const user = newUser();
    await assert.rejects(
      context.db.transaction().execute(async (trx) => {
        await insertTenant(trx, { id: tenantId, name: 'T', createdAt: 1 });
        await insertUser(trx, user);
        await insertMembership(trx, { userId: user.id, tenantId, role: 'Administrator', createdAt: 1 });
        throw new Error('the request failed later');
      }),
      /failed later/,
    );
    assert.equal(await findUserById(context.db, user.id), undefined);
    assert.equal(await findMembership(context.db, { userId: user.id, tenantId }), undefined);
  });
});
