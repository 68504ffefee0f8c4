/**
 * One storage backend for bench/attestation.ts: a fresh test database seeded with the fleet
 * (registered, claimed into the default group), the in-process attestation deps, and the
 * device side done before any timing (challenges and signed evidence).
 */
import { attest, issueChallenge } from '../packages/service/src/attestation/attestation.service.ts';
import {
  createFleetAttestationDeps,
  seedAttestableFleet,
  type PresignedAttestation,
} from '../packages/service/src/crash/fleet.ts';
import { openDatabase, type DatabaseHandle } from '../packages/service/src/db/database.ts';
import { createTestDatabase, type Backend } from '../packages/service/src/db/test-databases.ts';
import type { SoftwareDevice } from '../packages/service/src/testing/software-device.ts';

export interface BackendRun {
  readonly handle: DatabaseHandle;
  readonly deps: Awaited<ReturnType<typeof createFleetAttestationDeps>>;
  readonly tenantId: string;
  /** Closes the database and drops it. */
  close(): Promise<void>;
}

export async function openBackend(
  backend: Backend,
  devices: readonly SoftwareDevice[],
  nonceKey: Uint8Array,
): Promise<BackendRun> {
  const database = await createTestDatabase(backend);
  try {
    const handle = await openDatabase({ url: database.url });
    const tenantId = await seedAttestableFleet(handle.db, devices, Date.now());
    const deps = await createFleetAttestationDeps(handle.db, nonceKey);
    return {
      handle,
      deps,
      tenantId,
      close: async () => {
        await handle.close();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/**
 * `count` attestations made by the devices in turn: for each, a challenge from the service and
 * evidence signed over it. Nonces are stateless (an HMAC under the deps' nonce key), so every
 * backend opened with the same key accepts them.
 */
export function presignAttestations(
  run: BackendRun,
  devices: readonly SoftwareDevice[],
  count: number,
): PresignedAttestation[] {
  return Array.from({ length: count }, (_, index) => {
    const device = devices[index % devices.length] as SoftwareDevice;
    const { nonce } = issueChallenge(run.deps, device.deviceId);
    return { deviceId: device.deviceId, nonce, evidence: device.evidence(nonce, Date.now()) };
  });
}

/** The service's share of one attestation round trip: the challenge, then attest(). */
export async function attestPresigned(run: BackendRun, job: PresignedAttestation): Promise<void> {
  issueChallenge(run.deps, job.deviceId);
  const response = await attest(run.deps, { ...job, source: '127.0.0.1' });
  if (response.resultClass !== 'trusted') throw new Error(`unexpected result ${response.resultClass}`);
}
