import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { generateSoftwareSigner } from '@orbis/crypto';
import type { BootLogEntry } from '@orbis/protocol';
import { createAttestationDeps, type AttestationDeps } from '../attestation/attestation.service.ts';
import { chunked, withTransaction } from '../db/backend.ts';
import type { Database } from '../db/schema.ts';
import { createDefaultProduct, findDefaultGroup, setDevicesGroup } from '../groups/groups.repo.ts';
import { insertOsRelease, type OsReleaseStage } from '../os-releases/os-releases.repo.ts';
import {
  MAX_REGISTRY_BATCH_DEVICES,
  claimDevices,
  insertManufacturer,
  registerDevices,
} from '../registry/registry.repo.ts';
import { insertTenant } from '../tenants/tenants.repo.ts';
import { createSoftwareDevice, type SoftwareDevice } from '../testing/software-device.ts';
import { createTestPki, testRandom, type TestPki } from '../testing/test-pki.ts';

/**
 * Test and benchmark support: a fleet of software devices set up straight through the
 * repositories (no HTTP, no people), as attestation.test.ts sets it up through the API: one
 * registered OS release, a manufacturer, its registered devices, and a tenant that has claimed
 * them into its default group. Used by the crash tests and by bench/attestation.ts.
 */
const hex = (digit: string) => digit.repeat(64);

function stage(kind: OsReleaseStage['kind'], index: number, sha256: string): BootLogEntry & OsReleaseStage {
  return {
    kind,
    componentId: `0000000${index}-0000-4000-8000-000000000000`,
    version: '26.3.0',
    securityVersion: 3,
    sha256,
    signer: hex('e'),
  };
}

/** The boot stages every fleet device measures, registered as OS release 26.3.0. */
export const FLEET_BOOT_LOG: readonly (BootLogEntry & OsReleaseStage)[] = [
  stage('bootloader', 1, hex('1')),
  stage('security-monitor', 2, hex('2')),
  stage('os', 3, hex('3')),
];

/** `count` software devices booting FLEET_BOOT_LOG (two P-256 key pairs each). */
export function createFleetDevices(count: number): SoftwareDevice[] {
  return Array.from({ length: count }, () => createSoftwareDevice([...FLEET_BOOT_LOG]));
}

/** What registration needs of a device: its ID and identity key (SPKI), without keeping the private key. */
export type FleetIdentity = Pick<SoftwareDevice, 'deviceId' | 'identitySpki'>;

/** `count` fresh P-256 identity keys as registration sees them (one key pair each: cheaper than devices). */
export function createFleetIdentities(count: number): FleetIdentity[] {
  return Array.from({ length: count }, () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const identitySpki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    return { deviceId: createHash('sha256').update(identitySpki).digest('hex'), identitySpki };
  });
}

/** Registers the OS release and a manufacturer with these devices; returns the manufacturer's ID. */
export async function registerFleet(
  db: Kysely<Database>,
  devices: readonly FleetIdentity[],
  now: number,
): Promise<string> {
  await insertOsRelease(db, { version: '26.3.0', stages: FLEET_BOOT_LOG, registeredAt: now });
  const manufacturerId = randomUUID();
  await insertManufacturer(db, {
    id: manufacturerId,
    name: `Fleet maker ${manufacturerId}`,
    // Stored only: the list is registered through the repository, without its signature check.
    publicKeySpki: generateSoftwareSigner().signer.publicKey.spki,
    createdAt: now,
  });
  for (const chunk of chunked(devices, MAX_REGISTRY_BATCH_DEVICES)) {
    await registerDevices(db, {
      manufacturerId,
      registeredAt: now,
      devices: chunk.map((device) => ({
        deviceId: device.deviceId,
        identitySpki: device.identitySpki,
        model: 'orbis-devkit',
      })),
    });
  }
  return manufacturerId;
}

/** A tenant with its default product and groups, as the tenant route creates it (minus audit). */
export async function createFleetTenant(db: Kysely<Database>, now: number): Promise<string> {
  const id = randomUUID();
  await withTransaction(db, async (trx) => {
    await insertTenant(trx, { id, name: `Fleet tenant ${id}`, createdAt: now });
    await createDefaultProduct(trx, id, now);
  });
  return id;
}

/** Claims devices into the tenant's default group, in one transaction, as the claim route does (minus audit). */
export async function claimFleet(
  db: Kysely<Database>,
  tenantId: string,
  deviceIds: readonly string[],
  now: number,
): Promise<void> {
  await withTransaction(db, async (trx) => {
    await claimDevices(trx, tenantId, deviceIds, now);
    await setDevicesGroup(trx, tenantId, deviceIds, (await findDefaultGroup(trx, tenantId)).id);
  });
}

/** All of the above: registered, claimed devices ready to attest; returns the tenant's ID. */
export async function seedAttestableFleet(
  db: Kysely<Database>,
  devices: readonly FleetIdentity[],
  now: number,
): Promise<string> {
  await registerFleet(db, devices, now);
  const tenantId = await createFleetTenant(db, now);
  await claimFleet(
    db,
    tenantId,
    devices.map((device) => device.deviceId),
    now,
  );
  return tenantId;
}

/** An attestation the device prepared beforehand: the nonce the service issued, and the evidence signed over it. */
export interface PresignedAttestation {
  readonly deviceId: string;
  readonly nonce: string;
  readonly evidence: string;
}

/**
 * In-process attestation deps as attestation.test.ts builds them: the test PKI (tenant and
 * update CAs in memory), the service clock, 24-hour certificates.
 */
export async function createFleetAttestationDeps(
  db: Kysely<Database>,
  nonceKey: Uint8Array,
  now: () => number = Date.now,
): Promise<AttestationDeps & { readonly pki: TestPki }> {
  const pki = await createTestPki(now());
  return {
    ...createAttestationDeps({
      db,
      pki,
      nonceKey,
      capabilityKey: generateSoftwareSigner().signer.publicKey,
      random: testRandom,
      now,
      certificateLifetimeSeconds: 86_400,
    }),
    pki,
  };
}
