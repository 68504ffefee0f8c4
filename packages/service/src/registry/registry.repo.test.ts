import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { before, it } from 'node:test';
import { openDatabase } from '../db/database.ts';
import { forEachBackend } from '../db/test-databases.ts';
import { insertTenant } from '../tenants/tenants.repo.ts';
import {
  MAX_CLAIM_BATCH_DEVICES,
  MAX_REGISTRY_BATCH_DEVICES,
  claimDevice,
  claimDevices,
  findDevice,
  findDeviceByIdentityKey,
  findManufacturer,
  findTenantDevice,
  insertManufacturer,
  listTenantDevices,
  registerDevices,
  setDeviceDisabled,
  setDeviceQuarantined,
  type DeviceRegistration,
} from './registry.repo.ts';

const NOW = 1_700_000_000_000;

/** A stand-in identity: the repository stores keys, it does not parse them (the caller does). */
function identity(model = 'mt-1'): DeviceRegistration {
  const identitySpki = new Uint8Array(randomBytes(91));
  return { deviceId: createHash('sha256').update(identitySpki).digest('hex'), identitySpki, model };
}

forEachBackend('registry.repo', (context) => {
  const manufacturerId = randomUUID();
  const tenantA = randomUUID();
  const tenantB = randomUUID();

  before(async () => {
    await insertManufacturer(context.db, {
      id: manufacturerId,
      name: 'Silicon Co',
      publicKeySpki: new Uint8Array(randomBytes(91)),
      createdAt: NOW,
    });
    await insertTenant(context.db, { id: tenantA, name: 'A', createdAt: NOW });
    await insertTenant(context.db, { id: tenantB, name: 'B', createdAt: NOW });
  });

  const register = (devices: DeviceRegistration[]) =>
    registerDevices(context.db, { manufacturerId, registeredAt: NOW, devices });

  it('stores and finds a manufacturer; refuses a second with the same name', async () => {
    const found = await findManufacturer(context.db, manufacturerId);
    assert.equal(found?.name, 'Silicon Co');
    assert.ok(found.publicKeySpki instanceof Uint8Array);
    await assert.rejects(
      insertManufacturer(context.db, {
        id: randomUUID(),
        name: 'Silicon Co',
        publicKeySpki: Uint8Array.of(1),
        createdAt: NOW,
      }),
      { code: 'REGISTRY_MANUFACTURER_EXISTS' },
    );
  });

  it('registers a list of devices, unclaimed and enabled', async () => {
    const devices = [identity(), identity()];
    assert.equal(await register(devices), 2);
    const device = await findDevice(context.db, devices[0]!.deviceId);
    assert.deepEqual(
      { ...device, identitySpki: [...(device?.identitySpki ?? [])] },
      {
        deviceId: devices[0]!.deviceId,
        identitySpki: [...devices[0]!.identitySpki],
        identityTpmPublic: null,
        manufacturerId,
        model: 'mt-1',
        registeredAt: NOW,
        tenantId: null,
        claimedAt: null,
        disabled: false,
        quarantined: false,
        groupId: null,
        lastBootcount: null,
        lastBootseed: null,
        lastAttestedAt: null,
        lastNonceAt: null,
        capabilityEpoch: 0,
        certificate: null,
      },
    );
    assert.equal(
      (await findDeviceByIdentityKey(context.db, devices[1]!.identitySpki))?.deviceId,
      devices[1]!.deviceId,
    );
    assert.equal(await findDevice(context.db, identity().deviceId), undefined);
  });

  it('keeps the TPM public area of a device whose identity key lives in a TPM', async () => {
    const device = { ...identity(), tpmPublic: Uint8Array.of(0, 3, 1, 2, 3) };
    assert.equal(await register([device]), 1);
    assert.deepEqual(
      [...((await findDevice(context.db, device.deviceId))?.identityTpmPublic ?? [])],
      [0, 3, 1, 2, 3],
    );
  });

  it('registers a list larger than one statement holds, in one transaction', async () => {
    const devices = Array.from({ length: 1200 }, () => identity('bulk'));
    assert.equal(await register(devices), 1200);
    assert.equal((await findDevice(context.db, devices[1199]!.deviceId))?.model, 'bulk');
  });

  it('refuses an already registered device, and registers nothing of that list', async () => {
    const existing = identity();
    await register([existing]);
    const fresh = identity();
    await assert.rejects(register([fresh, existing]), { code: 'REGISTRY_DEVICE_EXISTS' });
    assert.equal(await findDevice(context.db, fresh.deviceId), undefined);
  });

  it('refuses a device listed twice', async () => {
    const device = identity();
    await assert.rejects(register([device, device]), { code: 'REGISTRY_DEVICE_EXISTS' });
    assert.equal(await findDevice(context.db, device.deviceId), undefined);
  });

  it('refuses a device ID that is not the SHA-256 of its key (one key, two IDs)', async () => {
    const device = identity();
    await assert.rejects(register([{ ...device, deviceId: identity().deviceId }]), {
      code: 'REGISTRY_DEVICE_ID_MISMATCH',
    });
    await assert.rejects(register([{ ...device, deviceId: device.deviceId.toUpperCase() }]), {
      code: 'REGISTRY_DEVICE_ID_MISMATCH',
    });
  });

  it('refuses a key already registered under another ID, even one stored by other means', async () => {
    // A row that bypassed this repository (an import, an older version): the key is already
    // taken under an ID that is not its hash. Registering the key under its real ID must fail.
    const device = identity();
    await context.db
      .insertInto('devices')
      .values({
        device_id: 'f'.repeat(64),
        identity_spki: device.identitySpki,
        manufacturer_id: manufacturerId,
        model: 'legacy',
        registered_at: NOW,
      })
      .execute();
    await assert.rejects(register([device]), { code: 'REGISTRY_KEY_ALREADY_REGISTERED' });
  });

  it('refuses an unknown manufacturer and oversized lists', async () => {
    await assert.rejects(
      registerDevices(context.db, { manufacturerId: randomUUID(), registeredAt: NOW, devices: [identity()] }),
      {
        code: 'REGISTRY_MANUFACTURER_NOT_FOUND',
      },
    );
    const tooMany = Array.from({ length: MAX_REGISTRY_BATCH_DEVICES + 1 }, () => identity());
    await assert.rejects(register(tooMany), { code: 'REGISTRY_BATCH_TOO_LARGE' });
    const claimTooMany = Array.from({ length: MAX_CLAIM_BATCH_DEVICES + 1 }, (_, index) => String(index));
    await assert.rejects(claimDevices(context.db, tenantA, claimTooMany, NOW), {
      code: 'REGISTRY_BATCH_TOO_LARGE',
    });
    assert.equal(await register([]), 0);
  });

  it('claims registered devices for a tenant, permanently', async () => {
    const devices = [identity(), identity()];
    await register(devices);
    const ids = devices.map((device) => device.deviceId);
    await claimDevices(context.db, tenantA, [...ids, ids[0]!], NOW + 1);
    for (const id of ids) {
      const device = await findTenantDevice(context.db, { tenantId: tenantA, deviceId: id });
      assert.equal(device?.tenantId, tenantA);
      assert.equal(device.claimedAt, NOW + 1);
    }
    // Neither the other tenant nor the same one can claim it again.
    await assert.rejects(claimDevice(context.db, tenantB, ids[0]!, NOW + 2), {
      code: 'CLAIM_DEVICE_ALREADY_CLAIMED',
    });
    await assert.rejects(claimDevice(context.db, tenantA, ids[0]!, NOW + 2), {
      code: 'CLAIM_DEVICE_ALREADY_CLAIMED',
    });
    assert.equal(await findTenantDevice(context.db, { tenantId: tenantB, deviceId: ids[0]! }), undefined);
  });

  it('claims all of a list or none of it', async () => {
    const free = identity();
    const taken = identity();
    await register([free, taken]);
    await claimDevice(context.db, tenantB, taken.deviceId, NOW);
    await assert.rejects(claimDevices(context.db, tenantA, [free.deviceId, taken.deviceId], NOW), {
      code: 'CLAIM_DEVICE_ALREADY_CLAIMED',
    });
    await assert.rejects(claimDevices(context.db, tenantA, [free.deviceId, identity().deviceId], NOW), {
      code: 'CLAIM_DEVICE_NOT_REGISTERED',
    });
    assert.equal((await findDevice(context.db, free.deviceId))?.tenantId, null);
    await assert.rejects(claimDevice(context.db, randomUUID(), free.deviceId, NOW), {
      code: 'TENANT_NOT_FOUND',
    });
  });

  it('claims a list larger than one statement holds', async () => {
    const devices = Array.from({ length: 1000 }, () => identity('claim-bulk'));
    await register(devices);
    await claimDevices(
      context.db,
      tenantB,
      devices.map((device) => device.deviceId),
      NOW,
    );
    assert.equal((await findDevice(context.db, devices[999]!.deviceId))?.tenantId, tenantB);
  });

  it('lets only one of two concurrent claims of a device win', async () => {
    const device = identity();
    await register([device]);
    const results = await Promise.allSettled([
      claimDevice(context.db, tenantA, device.deviceId, NOW),
      claimDevice(context.db, tenantB, device.deviceId, NOW),
    ]);
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
    const failure = results.find((result) => result.status === 'rejected');
    assert.equal((failure?.reason as { code?: string }).code, 'CLAIM_DEVICE_ALREADY_CLAIMED');
  });

  it('disables and quarantines only devices the tenant has claimed', async () => {
    const device = identity();
    await register([device]);
    const key = { tenantId: tenantA, deviceId: device.deviceId };
    await assert.rejects(setDeviceDisabled(context.db, key, true), { code: 'REGISTRY_DEVICE_NOT_FOUND' });
    await claimDevice(context.db, tenantA, device.deviceId, NOW);
    assert.equal((await setDeviceDisabled(context.db, key, true)).disabled, true);
    assert.equal((await setDeviceQuarantined(context.db, key, true)).quarantined, true);
    assert.equal((await setDeviceDisabled(context.db, key, false)).disabled, false);
    const stored = await findDevice(context.db, device.deviceId);
    assert.deepEqual([stored?.disabled, stored?.quarantined], [false, true]);
    await assert.rejects(setDeviceQuarantined(context.db, { ...key, tenantId: tenantB }, false), {
      code: 'REGISTRY_DEVICE_NOT_FOUND',
    });
  });

  it("lists a tenant's devices by ID, a page at a time", async () => {
    const tenantId = randomUUID();
    await insertTenant(context.db, { id: tenantId, name: 'Lister', createdAt: NOW });
    const devices = [identity(), identity(), identity()];
    await register(devices);
    await claimDevices(
      context.db,
      tenantId,
      devices.map((device) => device.deviceId),
      NOW,
    );
    const sorted = devices.map((device) => device.deviceId).sort();
    const first = await listTenantDevices(context.db, tenantId, { limit: 2 });
    assert.deepEqual(
      first.map((device) => device.deviceId),
      sorted.slice(0, 2),
    );
    const rest = await listTenantDevices(context.db, tenantId, { afterDeviceId: sorted[1]!, limit: 2 });
    assert.deepEqual(
      rest.map((device) => device.deviceId),
      sorted.slice(2),
    );
  });

  if (context.backend === 'postgres') {
    it('lets only one of two replicas claim a device (two pools)', async () => {
      const other = await openDatabase({ url: context.url });
      try {
        for (let round = 0; round < 5; round++) {
          const device = identity();
          await register([device]);
          const results = await Promise.allSettled([
            claimDevice(context.db, tenantA, device.deviceId, NOW),
            claimDevice(other.db, tenantB, device.deviceId, NOW),
          ]);
          assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
          const failure = results.find((result) => result.status === 'rejected');
          assert.equal((failure?.reason as { code?: string }).code, 'CLAIM_DEVICE_ALREADY_CLAIMED');
        }
      } finally {
        await other.close();
      }
    });
  }
});
