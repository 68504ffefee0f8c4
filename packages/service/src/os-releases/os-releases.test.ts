import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { forEachBackend } from '../db/test-databases.ts';
import { createServiceFixture, type Json, type ServiceFixture } from '../testing/service-fixture.ts';
import { getFeedPolicy, latestOsSecurityVersion } from './os-releases.repo.ts';

const hex = (digit: string) => digit.repeat(64);

/** OS releases, feed minimums and device groups over the API, on both storage backends. */
forEachBackend('OS releases and groups', (context) => {
  let fixture: ServiceFixture;
  const release = {
    version: '26.11.0',
    stages: (['bootloader', 'security-monitor', 'os'] as const).map((kind, index) => ({
      kind,
      componentId: `0000000${index}-0000-4000-8000-000000000000`,
      version: '26.11.0',
      securityVersion: 3,
      sha256: hex(String(index + 1)),
      signer: hex('e'),
    })),
  };

  before(async () => {
    fixture = await createServiceFixture(context);
  });

  it('lets a platform operator register an OS release, once', async () => {
    const created = await fixture.call('POST', '/api/v1/os-releases', fixture.tokens['operator'], release);
    assert.equal(created.status, 201);
    const again = await fixture.call('POST', '/api/v1/os-releases', fixture.tokens['operator'], release);
    assert.equal(again.body['code'], 'OS_RELEASE_EXISTS');
    assert.equal(await latestOsSecurityVersion(context.db), 3);
    const listed = await fixture.call('GET', '/api/v1/os-releases', fixture.tokens['A-Reader']);
    assert.equal((listed.body['releases'] as Json[])[0]?.['version'], '26.11.0');
  });

  it('refuses a release that does not list each boot stage once, and tenants registering releases', async () => {
    const twice = { ...release, stages: [release.stages[0], release.stages[0], release.stages[2]] };
    assert.equal(
      (await fixture.call('POST', '/api/v1/os-releases', fixture.tokens['operator'], twice)).body['code'],
      'OS_RELEASE_INVALID',
    );
    const byTenant = await fixture.call(
      'POST',
      '/api/v1/os-releases',
      fixture.tokens['A-Administrator'],
      release,
    );
    assert.equal(byTenant.body['code'], 'AUTH_FORBIDDEN');
  });

  it('sets a feed minimum with its grace period', async () => {
    const response = await fixture.call(
      'PUT',
      '/api/v1/os-feeds/Retail/minimum',
      fixture.tokens['operator'],
      {
        minimumSecurityVersion: 2,
        effectiveFrom: 1_800_000_000_000,
      },
    );
    assert.equal(response.status, 204);
    assert.deepEqual(await getFeedPolicy(context.db, 'Retail'), {
      feed: 'Retail',
      minSecurityVersion: 2,
      minEffectiveFrom: 1_800_000_000_000,
    });
    const unknownFeed = await fixture.call(
      'PUT',
      '/api/v1/os-feeds/Beta/minimum',
      fixture.tokens['operator'],
      {
        minimumSecurityVersion: 2,
        effectiveFrom: 0,
      },
    );
    assert.equal(unknownFeed.body['code'], 'REQUEST_INVALID');
  });

  it('gives every tenant a default product with the five default groups', async () => {
    const groups = (
      await fixture.call('GET', `/api/v1/tenants/${fixture.tenants.A}/groups`, fixture.tokens['A-Reader'])
    ).body['groups'] as Json[];
    assert.deepEqual(groups.map((group) => group['name']).sort(), [
      'Development',
      'Field Test',
      'Field Test OS Evaluation',
      'Production',
      'Production OS Evaluation',
    ]);
    const foreign = await fixture.call(
      'GET',
      `/api/v1/tenants/${fixture.tenants.A}/groups`,
      fixture.tokens['B-Administrator'],
    );
    assert.equal(foreign.status, 404);
  });

  it('lets a Contributor raise a group minimum, but not a Reader or another tenant', async () => {
    const groups = (
      await fixture.call('GET', `/api/v1/tenants/${fixture.tenants.A}/groups`, fixture.tokens['A-Reader'])
    ).body['groups'] as Json[];
    const production = groups.find((group) => group['name'] === 'Production')?.['id'] as string;
    const url = `/api/v1/tenants/${fixture.tenants.A}/groups/${production}/minimum-os-security-version`;
    assert.equal(
      (await fixture.call('PUT', url, fixture.tokens['A-Reader'], { minimumOsSecurityVersion: 3 })).body[
        'code'
      ],
      'AUTH_FORBIDDEN',
    );
    assert.equal(
      (await fixture.call('PUT', url, fixture.tokens['B-Administrator'], { minimumOsSecurityVersion: 3 }))
        .status,
      404,
    );
    const raised = await fixture.call('PUT', url, fixture.tokens['A-Contributor'], {
      minimumOsSecurityVersion: 3,
    });
    assert.equal(raised.body['minOsSecurityVersion'], 3);
    const otherTenantsGroup = `/api/v1/tenants/${fixture.tenants.B}/groups/${production}/minimum-os-security-version`;
    const crossed = await fixture.call('PUT', otherTenantsGroup, fixture.tokens['B-Administrator'], {
      minimumOsSecurityVersion: 1,
    });
    assert.equal(crossed.body['code'], 'GROUP_NOT_FOUND');
  });
});
