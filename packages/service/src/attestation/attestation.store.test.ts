import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { before, it } from 'node:test';
import { encodeHex } from '@orbis/crypto';
import { forEachBackend } from '../db/test-databases.ts';
import {
  createFleetIdentities,
  FLEET_BOOT_LOG,
  seedAttestableFleet,
  type FleetIdentity,
} from '../crash/fleet.ts';
import { insertOsRelease } from '../os-releases/os-releases.repo.ts';
import { findDevice, setDeviceDisabled } from '../registry/registry.repo.ts';
import {
  AttestationRecorder,
  IdentityKeyCache,
  ReferenceMeasurements,
  readAttestationSubject,
  type AttestationRecord,
} from './attestation.store.ts';

const NOW = Date.UTC(2026, 10, 22, 12);

/** Attestation's storage (attestation.store.ts) on both backends, below attest(). */
forEachBackend('attestation storage', (context) => {
  let fleet: FleetIdentity[];
  let tenantId: string;
  let nextBootcount = 1;
  let nextNonceTime = NOW;

  before(async () => {
    fleet = createFleetIdentities(24);
    tenantId = await seedAttestableFleet(context.db, fleet, NOW);
  });

  const device = (index: number) => (fleet[index] as FleetIdentity).deviceId;

  function record(deviceIndex: number, changes: Partial<AttestationRecord> = {}): AttestationRecord {
    return {
      nonce: encodeHex(randomBytes(24)),
      nonceTime: (nextNonceTime += 1),
      deviceId: device(deviceIndex),
      tenantId,
      bootcount: (nextBootcount += 1),
      bootseed: 'seed',
      at: NOW,
      certificate: {
        serial: encodeHex(randomBytes(16)),
        resultClass: 'trusted',
        notBefore: NOW,
        notAfter: NOW + 86_400_000,
      },
      ...changes,
    };
  }

  /** Whether the device row holds this certificate as its current one. */
  async function holdsCertificate(record: AttestationRecord): Promise<boolean> {
    const row = await context.db
      .selectFrom('devices')
      .select('certificate_serial')
      .where('device_id', '=', record.deviceId)
      .executeTakeFirstOrThrow();
    return row.certificate_serial === record.certificate.serial;
  }

  it('commits the attestations in flight together (group commit), each with its nonce, boot state and certificate', async () => {
    const recorder = new AttestationRecorder(context.db);
    const records = [0, 1, 2, 3, 4, 5, 6, 7].map((index) => record(index));
    const outcomes = await Promise.all(records.map((each) => recorder.record(each)));
    assert.deepEqual(outcomes, Array(8).fill('recorded'));
    assert.equal(recorder.commits, 1);
    for (const each of records) {
      const subject = await readAttestationSubject(context.db, each.deviceId);
      assert.equal(subject?.device.lastNonceAt, each.nonceTime);
      assert.equal(subject.device.lastBootcount, each.bootcount);
      assert.deepEqual((await findDevice(context.db, each.deviceId))?.certificate, each.certificate);
    }
  });

  it('refuses a replayed nonce, in flight with its first use and later, and a nonce older than one spent', async () => {
    const recorder = new AttestationRecorder(context.db);
    const first = record(8);
    const replay = { ...record(8), nonce: first.nonce, nonceTime: first.nonceTime };
    assert.deepEqual(await Promise.all([recorder.record(first), recorder.record(replay)]), [
      'recorded',
      'nonce-replayed',
    ]);
    assert.equal(
      await recorder.record({ ...record(8), nonce: first.nonce, nonceTime: first.nonceTime }),
      'nonce-replayed',
    );
    assert.equal(await recorder.record(record(8, { nonceTime: first.nonceTime - 1 })), 'nonce-replayed');
    assert.equal(await holdsCertificate(replay), false);
  });

  it('refuses at commit a bootcount that went backwards, or one bootcount with another seed (a clone racing its original)', async () => {
    const recorder = new AttestationRecorder(context.db);
    const current = record(9);
    assert.equal(await recorder.record(current), 'recorded');
    const backwards = record(9, { bootcount: current.bootcount - 1 });
    const otherSeed = record(9, { bootcount: current.bootcount, bootseed: 'another seed' });
    assert.equal(await recorder.record(backwards), 'device-changed');
    // A refused attestation's nonce is spent all the same: not even a good boot state reuses it.
    assert.equal(
      await recorder.record(record(9, { bootcount: current.bootcount, nonceTime: backwards.nonceTime })),
      'nonce-replayed',
    );
    assert.equal(await recorder.record(otherSeed), 'device-changed');
    assert.equal(await holdsCertificate(backwards), false);
    // The same boot again (a renewal without a reboot) still moves nothing backwards.
    assert.equal(await recorder.record(record(9, { bootcount: current.bootcount })), 'recorded');
  });

  it('gives no certificate to a device disabled between appraisal and commit', async () => {
    const recorder = new AttestationRecorder(context.db);
    await setDeviceDisabled(context.db, { tenantId, deviceId: device(10) }, true);
    try {
      const late = record(10);
      assert.equal(await recorder.record(late), 'device-changed');
      assert.equal(await holdsCertificate(late), false);
    } finally {
      await setDeviceDisabled(context.db, { tenantId, deviceId: device(10) }, false);
    }
  });

  it('keeps a device’s attestations in the order they arrived, one per commit', async () => {
    const recorder = new AttestationRecorder(context.db);
    const older = record(11);
    const newer = record(11);
    assert.deepEqual(await Promise.all([recorder.record(older), recorder.record(newer)]), [
      'recorded',
      'recorded',
    ]);
    assert.equal(recorder.commits, 2);
    const subject = await readAttestationSubject(context.db, device(11));
    assert.equal(subject?.device.lastBootcount, newer.bootcount);
  });

  it('writes what is pending when it closes, then refuses new records with DB_UNAVAILABLE', async () => {
    const recorder = new AttestationRecorder(context.db);
    const pending = recorder.record(record(12));
    await recorder.close();
    assert.equal(await pending, 'recorded');
    await assert.rejects(recorder.record(record(13)), { code: 'DB_UNAVAILABLE' });
  });

  it('sees an OS release registered after it loaded: registering raises the revision in the same transaction', async () => {
    const measurements = new ReferenceMeasurements();
    const before = await readAttestationSubject(context.db, device(0));
    assert.ok(before !== undefined);
    const known = await measurements.lookup(context.db, before.referenceRevision);
    assert.equal(known((FLEET_BOOT_LOG[2] as { sha256: string }).sha256)?.securityVersion, 3);
    const sha256 = encodeHex(randomBytes(32));
    assert.equal(known(sha256), undefined);
    await insertOsRelease(context.db, {
      version: '26.12.0',
      registeredAt: NOW,
      stages: [
        {
          kind: 'os',
          componentId: '00000009-0000-4000-8000-000000000000',
          version: '26.12.0',
          securityVersion: 7,
          sha256,
          signer: 'e'.repeat(64),
        },
      ],
    });
    const after = await readAttestationSubject(context.db, device(0));
    assert.equal(after?.referenceRevision, before.referenceRevision + 1);
    assert.equal(after.latestOsSecurityVersion, 7);
    assert.equal(
      (await measurements.lookup(context.db, after.referenceRevision))(sha256)?.securityVersion,
      7,
    );
  });
});

it('never lets a cached identity key vouch for another key under the same device ID', () => {
  const cache = new IdentityKeyCache(2);
  const spkiOf = () =>
    new Uint8Array(
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
        format: 'der',
        type: 'spki',
      }),
    );
  const registered = spkiOf();
  const other = spkiOf();
  const first = cache.get('device-a', registered);
  assert.equal(cache.get('device-a', registered), first);
  const swapped = cache.get('device-a', other);
  assert.notEqual(swapped, first);
  assert.deepEqual(swapped.spki, other);
  cache.get('device-b', spkiOf());
  cache.get('device-c', spkiOf());
  assert.equal(cache.size, 2);
  assert.throws(() => cache.get('device-d', new Uint8Array(91)), { code: 'CRYPTO_KEY_INVALID' });
});
