import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, it } from 'node:test';
import { signDeviceList } from '@orbis/ca';
import { encodeBase64Url, generateSoftwareSigner, type Signer } from '@orbis/crypto';
import type { DeviceList } from '@orbis/protocol';
import { forEachBackend } from '../db/test-databases.ts';
import { createServiceFixture, type ServiceFixture } from '../testing/service-fixture.ts';

/** The manufacturing registry and claiming, over the HTTP API, on both storage backends. */
forEachBackend('registry and claiming', (context) => {
  let fixture: ServiceFixture;
  let manufacturerId = '';
  const manufacturerKey = generateSoftwareSigner().signer;
  const devices = Array.from({ length: 6 }, () => generateSoftwareSigner().signer);
  const ids = devices.map((device) => device.publicKey.keyId);

  function listOf(members: readonly Signer[]): DeviceList {
    return {
      formatVersion: 1,
      manufacturerId,
      listId: randomUUID(),
      issuedAt: 1_795_000_000,
      devices: members.map((device) => ({
        deviceId: device.publicKey.keyId,
        identityKey: encodeBase64Url(device.publicKey.spki),
        model: 'orbis-devkit',
      })),
    };
  }

  before(async () => {
    fixture = await createServiceFixture(context);
  });

  it('registers a manufacturer and imports its signed device list', async () => {
    const { call, tokens } = fixture;
    const created = await call('POST', '/api/v1/manufacturers', tokens['operator'], {
      name: 'Silicon Co',
      publicKey: encodeBase64Url(manufacturerKey.publicKey.spki),
    });
    assert.equal(created.status, 201);
    assert.equal(created.body['keyId'], manufacturerKey.publicKey.keyId);
    manufacturerId = created.body['id'] as string;
    const signed = await signDeviceList(listOf(devices.slice(0, 5)), manufacturerKey);
    const imported = await call(
      'POST',
      `/api/v1/manufacturers/${manufacturerId}/device-lists`,
      tokens['operator'],
      signed,
    );
    assert.deepEqual([imported.status, imported.body['registered']], [201, 5]);
  });

  it('rejects a device list signed by another key', async () => {
    const forged = await signDeviceList(listOf(devices.slice(5)), generateSoftwareSigner().signer);
    const response = await fixture.call(
      'POST',
      `/api/v1/manufacturers/${manufacturerId}/device-lists`,
      fixture.tokens['operator'],
      forged,
    );
    assert.equal(response.body['code'], 'REGISTRY_LIST_SIGNATURE_INVALID');
  });

  it('refuses to register a key already registered (one key, one device)', async () => {
    const again = await signDeviceList(listOf([devices[0] as Signer, devices[5] as Signer]), manufacturerKey);
    const response = await fixture.call(
      'POST',
      `/api/v1/manufacturers/${manufacturerId}/device-lists`,
      fixture.tokens['operator'],
      again,
    );
    assert.equal(response.status, 409);
    assert.match(String(response.body['code']), /^REGISTRY_(DEVICE_EXISTS|KEY_ALREADY_REGISTERED)$/);
  });

  it('refuses manufacturers and device lists from anyone but a platform operator', async () => {
    const manufacturer = await fixture.call(
      'POST',
      '/api/v1/manufacturers',
      fixture.tokens['A-Administrator'],
      {
        name: 'Rogue',
        publicKey: encodeBase64Url(generateSoftwareSigner().signer.publicKey.spki),
      },
    );
    assert.equal(manufacturer.body['code'], 'AUTH_FORBIDDEN');
  });

  it('lets an Administrator claim devices in bulk, permanently, visible only to that tenant', async () => {
    const { call, tokens, tenants } = fixture;
    const claimed = await call(
      'POST',
      `/api/v1/tenants/${tenants.A}/devices/claims`,
      tokens['A-Administrator'],
      {
        deviceIds: ids.slice(0, 3),
      },
    );
    assert.deepEqual([claimed.status, claimed.body['claimed']], [201, 3]);
    const listed = await call('GET', `/api/v1/tenants/${tenants.A}/devices`, tokens['A-Reader']);
    assert.equal((listed.body['devices'] as unknown[]).length, 3);
    const foreign = await call(
      'GET',
      `/api/v1/tenants/${tenants.A}/devices/${ids[0] ?? ''}`,
      tokens['B-Administrator'],
    );
    assert.equal(foreign.status, 404);
    const ownView = await call(
      'GET',
      `/api/v1/tenants/${tenants.B}/devices/${ids[0] ?? ''}`,
      tokens['B-Administrator'],
    );
    assert.equal(ownView.status, 404);
  });

  it('refuses to claim a device another tenant claimed', async () => {
    const { call, tokens, tenants } = fixture;
    const stolen = await call(
      'POST',
      `/api/v1/tenants/${tenants.B}/devices/claims`,
      tokens['B-Administrator'],
      {
        deviceIds: [ids[0]],
      },
    );
    assert.equal(stolen.body['code'], 'CLAIM_DEVICE_ALREADY_CLAIMED');
  });

  it('refuses to claim an unregistered device, and claims nothing of a batch that has one', async () => {
    const { call, tokens, tenants } = fixture;
    const unregistered = devices[5]?.publicKey.keyId ?? '';
    const batch = await call(
      'POST',
      `/api/v1/tenants/${tenants.B}/devices/claims`,
      tokens['B-Administrator'],
      {
        deviceIds: [ids[3], unregistered],
      },
    );
    assert.equal(batch.body['code'], 'CLAIM_DEVICE_NOT_REGISTERED');
    const listed = await call('GET', `/api/v1/tenants/${tenants.B}/devices`, tokens['B-Administrator']);
    assert.deepEqual(listed.body['devices'], []);
  });

  it('lets a Contributor disable and enable a device, but not a Reader, and not claim', async () => {
    const { call, tokens, tenants } = fixture;
    const url = `/api/v1/tenants/${tenants.A}/devices/${ids[1] ?? ''}`;
    assert.equal((await call('POST', `${url}/disable`, tokens['A-Reader'])).body['code'], 'AUTH_FORBIDDEN');
    assert.equal((await call('POST', `${url}/disable`, tokens['A-Contributor'])).body['disabled'], true);
    assert.equal((await call('POST', `${url}/enable`, tokens['A-Contributor'])).body['disabled'], false);
    const claim = await call('POST', `/api/v1/tenants/${tenants.A}/devices/claims`, tokens['A-Contributor'], {
      deviceIds: [ids[4]],
    });
    assert.equal(claim.body['code'], 'AUTH_FORBIDDEN');
  });

  it('answers malformed device IDs and oversized claim batches with a code', async () => {
    const { call, tokens, tenants } = fixture;
    const upper = await call(
      'POST',
      `/api/v1/tenants/${tenants.A}/devices/claims`,
      tokens['A-Administrator'],
      {
        deviceIds: [(ids[4] ?? '').toUpperCase()],
      },
    );
    assert.equal(upper.body['code'], 'REQUEST_INVALID');
    const empty = await call(
      'POST',
      `/api/v1/tenants/${tenants.A}/devices/claims`,
      tokens['A-Administrator'],
      { deviceIds: [] },
    );
    assert.equal(empty.body['code'], 'REQUEST_INVALID');
  });
});
