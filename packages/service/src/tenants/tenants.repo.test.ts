import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { forEachBackend } from '../db/test-databases.ts';
import { findTenant, getTenant, insertTenant, listTenants, renameTenant } from './tenants.repo.ts';

forEachBackend('tenants.repo', (context) => {
  it('inserts and finds a tenant', async () => {
    const tenant = { id: randomUUID(), name: 'Contoso', createdAt: 1_700_000_000_000 };
    assert.deepEqual(await insertTenant(context.db, tenant), tenant);
    assert.deepEqual(await findTenant(context.db, tenant.id), tenant);
    assert.deepEqual(await getTenant(context.db, tenant.id), tenant);
  });

  it('refuses a second tenant with the same ID with TENANT_EXISTS', async () => {
    const id = randomUUID();
    await insertTenant(context.db, { id, name: 'first', createdAt: 1 });
    await assert.rejects(insertTenant(context.db, { id, name: 'second', createdAt: 2 }), {
      code: 'TENANT_EXISTS',
    });
    assert.equal((await findTenant(context.db, id))?.name, 'first');
  });

  it('answers undefined or TENANT_NOT_FOUND for an unknown ID', async () => {
    assert.equal(await findTenant(context.db, randomUUID()), undefined);
    await assert.rejects(getTenant(context.db, randomUUID()), { code: 'TENANT_NOT_FOUND' });
    await assert.rejects(renameTenant(context.db, randomUUID(), 'x'), { code: 'TENANT_NOT_FOUND' });
  });

  it('renames a tenant', async () => {
    const id = randomUUID();
    await insertTenant(context.db, { id, name: 'old', createdAt: 5 });
    assert.deepEqual(await renameTenant(context.db, id, 'new'), { id, name: 'new', createdAt: 5 });
  });

  it('lists tenants by ID a page at a time, within the page limit', async () => {
    const ids = [
      '00000000-0000-4000-8000-000000000001',
      '00000000-0000-4000-8000-000000000002',
      '00000000-0000-4000-8000-000000000003',
    ];
    for (const id of ids) await insertTenant(context.db, { id, name: id, createdAt: 1 });
    const first = await listTenants(context.db, { limit: 2 });
    assert.deepEqual(
      first.map((tenant) => tenant.id),
      ids.slice(0, 2),
    );
    const next = await listTenants(context.db, { afterId: ids[1]!, limit: 1 });
    assert.deepEqual(
      next.map((tenant) => tenant.id),
      [ids[2]],
    );
    for (const limit of [0, 1001, 1.5]) {
      await assert.rejects(listTenants(context.db, { limit }), { code: 'REQUEST_INVALID' });
    }
  });
});
