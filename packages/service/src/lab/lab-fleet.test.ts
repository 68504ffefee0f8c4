import assert from 'node:assert/strict';
import { it } from 'node:test';
import { generateSoftwareSigner } from '@orbis/crypto';
import { createFleetIdentities } from '../crash/fleet.ts';
import { forEachBackend } from '../db/test-databases.ts';
import { latestOsSecurityVersion, listOsReleases } from '../os-releases/os-releases.repo.ts';
import { findDevice } from '../registry/registry.repo.ts';
import { LAB_OS_RELEASE_VERSION, packLabOsRelease, prepareLabFleet, type LabPki } from './lab-fleet.ts';

/** The lab fleet's seeding (`orbis start`), on both storage backends. */
forEachBackend('the lab fleet', (context) => {
  const signer = generateSoftwareSigner().signer;
  const created: string[] = [];
  const pki: LabPki = {
    createTenantCa: (_db, tenantId) => {
      created.push(tenantId);
      return Promise.resolve(undefined);
    },
  };

  it('registers the OS release, a lab tenant with its CA, and claims the devices, once however often it starts', async () => {
    const release = { images: await packLabOsRelease(signer), signer };
    const devices = createFleetIdentities(3);
    const tenantId = await prepareLabFleet(context.db, pki, release, devices, 1000);
    assert.deepEqual(created, [tenantId]);
    for (const device of devices) {
      const stored = await findDevice(context.db, device.deviceId);
      assert.equal(stored?.tenantId, tenantId);
      assert.notEqual(stored.groupId, null);
    }
    // A restart: the same tenant, nothing registered twice, one more device joins.
    const more = [...devices, ...createFleetIdentities(1)];
    assert.equal(await prepareLabFleet(context.db, pki, release, more, 2000), tenantId);
    assert.equal((await findDevice(context.db, more[3]?.deviceId ?? ''))?.tenantId, tenantId);
    assert.deepEqual(created, [tenantId]);
    const releases = (await listOsReleases(context.db)).filter(
      (entry) => entry.version === LAB_OS_RELEASE_VERSION,
    );
    assert.equal(releases.length, 1);
    assert.equal(await latestOsSecurityVersion(context.db), 1);
  });
});
