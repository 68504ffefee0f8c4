import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCertificate, parseNonce } from '@orbis/verify';
import { attest, issueChallenge } from '../attestation/attestation.service.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { BACKENDS, createTestDatabase, isPostgresSkipped, type Backend } from '../db/test-databases.ts';
import type { SoftwareDevice } from '../testing/software-device.ts';
import {
  createFleetAttestationDeps,
  createFleetDevices,
  seedAttestableFleet,
  type PresignedAttestation,
} from './fleet.ts';
import { progressOf, runAndKill, assertKilledMidway } from './kill-child.ts';
import { assertStorageIntact, reopenAfterCrash } from './restart.ts';

/**
 * SIGKILL while the service attests devices and issues their certificates: after a restart
 * every issued certificate has its nonce recorded and its device's boot state moved forward,
 * no nonce is recorded without its certificate, every attestation the service answered for is
 * durable, and the device whose attestation was cut off attests again with a fresh nonce.
 */
const DEVICES = 600;
const CHILD = fileURLToPath(new URL('children/attest-devices.ts', import.meta.url));

interface Persisted {
  readonly devices: Map<
    string,
    {
      last_nonce_at: number | null;
      last_bootcount: number | null;
      last_bootseed: string | null;
      last_attested_at: number | null;
      certificate_serial: string | null;
      certificate_result_class: string | null;
    }
  >;
}

async function readPersisted(handle: DatabaseHandle): Promise<Persisted> {
  const { db } = handle;
  const devices = await db
    .selectFrom('devices')
    .select([
      'device_id',
      'last_nonce_at',
      'last_bootcount',
      'last_bootseed',
      'last_attested_at',
      'certificate_serial',
      'certificate_result_class',
    ])
    .execute();
  // Spread into plain objects: node:sqlite returns rows without a prototype.
  return {
    devices: new Map(devices.map(({ device_id, ...row }) => [device_id, { ...row }])),
  };
}

/** Devices whose row holds a certificate. */
function certified(persisted: Persisted): number {
  return [...persisted.devices.values()].filter((row) => row.certificate_serial !== null).length;
}

/**
 * The invariants of attest()'s writes, for devices[0..attested) attested once each with
 * `attestations[i]` and the rest never: returns how many were attested.
 */
function assertAtomic(
  persisted: Persisted,
  devices: readonly SoftwareDevice[],
  attestations: readonly PresignedAttestation[],
): number {
  const attested = devices.findIndex(
    (device) => persisted.devices.get(device.deviceId)?.certificate_serial == null,
  );
  const count = attested === -1 ? devices.length : attested;
  for (const [index, device] of devices.entries()) {
    const row = persisted.devices.get(device.deviceId);
    if (index < count) {
      assert.ok(row?.certificate_serial != null, `device ${index} has no certificate`);
      assert.equal(row.certificate_result_class, 'trusted');
      // The nonce's use is the device's high-water mark at that nonce's issue time (ADR 0009).
      assert.equal(
        row.last_nonce_at,
        parseNonce(attestations[index]?.nonce ?? '').time,
        `device ${index}: certificate without its nonce`,
      );
      assert.deepEqual(
        [row.last_bootcount, row.last_bootseed],
        [device.bootcount, device.bootseed],
        `device ${index}: certificate without its boot state`,
      );
    } else {
      assert.deepEqual(row, {
        last_nonce_at: null,
        last_bootcount: null,
        last_bootseed: null,
        last_attested_at: null,
        certificate_serial: null,
        certificate_result_class: null,
      });
    }
  }
  assert.equal(certified(persisted), count);
  return count;
}

async function crashDuringIssuance(backend: Backend, diagnostic: (message: string) => void): Promise<void> {
  const database = await createTestDatabase(backend);
  const scratch = mkdtempSync(join(tmpdir(), 'orbis-crash-attest-'));
  let handle: DatabaseHandle | undefined;
  try {
    handle = await openDatabase({ url: database.url });
    const devices = createFleetDevices(DEVICES);
    await seedAttestableFleet(handle.db, devices, Date.now());
    const nonceKey = randomBytes(32);
    const deps = await createFleetAttestationDeps(handle.db, nonceKey);
    // The devices' side, done here: each answers its own challenge with signed evidence.
    const attestations: PresignedAttestation[] = devices.map((device) => {
      const { nonce } = issueChallenge(deps, device.deviceId);
      return { deviceId: device.deviceId, nonce, evidence: device.evidence(nonce, Date.now()) };
    });
    writeFileSync(join(scratch, 'attestations.json'), JSON.stringify(attestations));
    await handle.close();
    handle = undefined;

    const killAfter = randomInt(10, DEVICES / 4);
    const delayMs = randomInt(0, 5);
    diagnostic(`SIGKILL ${delayMs} ms after attestation ${killAfter} of ${DEVICES} is answered`);
    const child = await runAndKill({
      script: CHILD,
      env: {
        ORBIS_CRASH_DATABASE_URL: database.url,
        ORBIS_CRASH_NONCE_KEY: Buffer.from(nonceKey).toString('hex'),
        ORBIS_CRASH_ATTESTATIONS: join(scratch, 'attestations.json'),
      },
      killAfter: (line) => line === `attested ${killAfter}`,
      delayMs,
      timeoutMs: 30_000,
    });
    assertKilledMidway(child, `attestation ${killAfter}`);

    handle = await reopenAfterCrash(database);
    await assertStorageIntact(handle);
    const attested = assertAtomic(await readPersisted(handle), devices, attestations);
    const answered = Math.max(...progressOf(child.lines, 'attested'));
    const cutOff = Math.max(...progressOf(child.lines, 'attesting'));
    diagnostic(`answered: ${answered + 1}; started: ${cutOff + 1}; durable after restart: ${attested}`);
    assert.ok(attested >= answered + 1 && attested <= cutOff + 1, `${attested} attestations durable`);
    const refusals = await handle.db.selectFrom('security_events').select('code').execute();
    assert.deepEqual(refusals, []);

    // The restarted service keeps its nonce key (it lives in the KeyStore): an attestation the
    // killed process answered, sent again word for word, is a replay and is refused.
    const restarted = await createFleetAttestationDeps(handle.db, nonceKey);
    const replayed = attestations[0] as PresignedAttestation;
    await assert.rejects(attest(restarted, { ...replayed, source: '127.0.0.1' }), {
      code: 'ATTESTATION_NONCE_REPLAYED',
    });
    // The device cut off mid-attestation asks again, as a device does after a lost answer.
    const device = devices[cutOff] as SoftwareDevice;
    const { nonce } = issueChallenge(restarted, device.deviceId);
    const response = await attest(restarted, {
      deviceId: device.deviceId,
      nonce,
      evidence: device.evidence(nonce, Date.now()),
      source: '127.0.0.1',
    });
    assert.equal(response.resultClass, 'trusted');
    const after = await readPersisted(handle);
    // Every device up to the one cut off now holds a certificate, the cut-off one the new one
    // (whether or not its interrupted attestation had become durable).
    assert.equal(certified(after), cutOff + 1);
    const issued = parseCertificate(new Uint8Array(Buffer.from(response.certificate, 'base64')));
    assert.equal(after.devices.get(device.deviceId)?.certificate_serial, issued.serialNumber);
    assert.equal(after.devices.get(device.deviceId)?.last_nonce_at, parseNonce(nonce).time);
  } finally {
    await handle?.close();
    await database.drop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

for (const backend of BACKENDS) {
  const skip = backend === 'postgres' && isPostgresSkipped() ? 'ORBIS_TEST_SKIP_POSTGRES=1' : false;
  describe(`crash during certificate issuance (${backend})`, { skip }, () => {
    it(`leaves no certificate without its nonce and boot state after SIGKILL during issuance, and refuses a nonce replayed after the restart (${backend})`, (t) =>
      crashDuringIssuance(backend, (message) => t.diagnostic(message)));
  });
}
