import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { packImage } from '@orbis/ca';
import { generateSoftwareSigner, type Signer } from '@orbis/crypto';
import type { PlatformImageHeader } from '@orbis/protocol';
import { withTransaction } from '../db/backend.ts';
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import { createDefaultProduct, findDefaultGroup, setDevicesGroup } from '../groups/groups.repo.ts';
import type { FileKeyStore } from '../keys/file-key-store.ts';
import type { ServicePki } from '../pki/service-pki.ts';
import { insertOsRelease, listOsReleases } from '../os-releases/os-releases.repo.ts';
import {
  claimDevices,
  findDevice,
  findManufacturer,
  insertManufacturer,
  registerDevices,
} from '../registry/registry.repo.ts';
import { getSetting, putSetting } from '../db/settings.repo.ts';
import { findTenant, insertTenant } from '../tenants/tenants.repo.ts';

/*
 * The lab's simulated fleet, seen from the service (`orbis start`): an OS release signed with
 * the KeyStore's os-release key (created for a lab that has none), a lab manufacturer, and a
 * "Lab" tenant that claims the simulated devices into its default group. Everything goes
 * through the repositories, as an operator's API calls would; the manufacturer's list is not
 * signed, because the lab is its own factory. `orbis serve` (production) never does this.
 */

export const LAB_OS_RELEASE_VERSION = '26.11.0';
const OS_RELEASE_KEY = 'os-release';
const SETTING_TENANT = 'lab.tenant-id';
const SETTING_MANUFACTURER = 'lab.manufacturer-id';

type Stage = PlatformImageHeader['kind'];
const STAGES: readonly { kind: Stage; componentId: string; imageId: string; name: string; size: number }[] = [
  {
    kind: 'bootloader',
    componentId: '5c1d3e7a-2b4f-4a6c-8d0e-1f3a5b7c9d21',
    imageId: '0a2c4e6f-8b1d-4f3a-9c5e-7d9f1b3a5c72',
    name: 'Lab bootloader',
    size: 16 * 1024,
  },
  {
    kind: 'security-monitor',
    componentId: '7e9f1a3c-5d7b-4c9e-a1f3-5b7d9f1a3c43',
    imageId: '2c4e6a8c-0d2f-4a4c-8e6a-0c2e4a6c8e94',
    name: 'Lab security monitor',
    size: 32 * 1024,
  },
  {
    kind: 'os',
    componentId: '9a1b3c5d-7e9f-4b1d-b3f5-7a9c1e3b5d65',
    imageId: '4e6a8c0e-2f4a-4c6e-9a0c-2e4a6c8e0a16',
    name: 'Lab OS',
    size: 256 * 1024,
  },
];

/** The lab's OS-release key: the KeyStore's, created for a lab that has none. */
export async function labOsReleaseSigner(keyStore: FileKeyStore): Promise<Signer> {
  return (await keyStore.has(OS_RELEASE_KEY))
    ? keyStore.getSigner(OS_RELEASE_KEY)
    : keyStore.createSigningKey(OS_RELEASE_KEY);
}

/** The lab OS release's images, one per boot stage, signed by `signer`; deterministic payloads. */
export async function packLabOsRelease(signer: Signer): Promise<Record<Stage, Uint8Array>> {
  const images: Partial<Record<Stage, Uint8Array>> = {};
  for (const [index, stage] of STAGES.entries()) {
    images[stage.kind] = await packImage({
      header: {
        kind: stage.kind,
        componentId: stage.componentId,
        imageId: stage.imageId,
        name: stage.name,
        version: LAB_OS_RELEASE_VERSION,
        securityVersion: 1,
      },
      payload: new Uint8Array(stage.size).fill(0x30 + index),
      signers: [signer],
    });
  }
  return images as Record<Stage, Uint8Array>;
}

/** Registers the lab OS release as reference values, once. */
async function registerLabRelease(
  db: Kysely<Database>,
  images: Record<Stage, Uint8Array>,
  signer: Signer,
  now: number,
) {
  const releases = await listOsReleases(db);
  if (releases.some((release) => release.version === LAB_OS_RELEASE_VERSION)) return;
  await insertOsRelease(db, {
    version: LAB_OS_RELEASE_VERSION,
    registeredAt: now,
    stages: STAGES.map((stage) => ({
      kind: stage.kind,
      componentId: stage.componentId,
      version: LAB_OS_RELEASE_VERSION,
      securityVersion: 1,
      sha256: createHash('sha256').update(images[stage.kind]).digest('hex'),
      signer: signer.publicKey.keyId,
    })),
  });
}

async function labTenant(db: Kysely<Database>, pki: LabPki, now: number): Promise<string> {
  const known = await getSetting(db, SETTING_TENANT);
  if (known !== undefined && (await findTenant(db, known)) !== undefined) return known;
  const id = randomUUID();
  await withTransaction(db, async (trx) => {
    await insertTenant(trx, { id, name: `Lab ${id.slice(0, 8)}`, createdAt: now });
    await createDefaultProduct(trx, id, now);
    // As the tenant route does: the tenant's CA in the same transaction.
    await pki.createTenantCa(trx, id, now);
    await putSetting(trx, SETTING_TENANT, id);
  });
  return id;
}

async function labManufacturer(db: Kysely<Database>, now: number): Promise<string> {
  const known = await getSetting(db, SETTING_MANUFACTURER);
  if (known !== undefined && (await findManufacturer(db, known)) !== undefined) return known;
  const id = randomUUID();
  await withTransaction(db, async (trx) => {
    await insertManufacturer(trx, {
      id,
      name: `Orbis lab factory ${id.slice(0, 8)}`,
      // The lab registers its devices itself; this key signs nothing and is not kept.
      publicKeySpki: generateSoftwareSigner().signer.publicKey.spki,
      createdAt: now,
    });
    await putSetting(trx, SETTING_MANUFACTURER, id);
  });
  return id;
}

/** What the lab needs of the service's PKI: a CA for the lab tenant. */
export type LabPki = Pick<ServicePki, 'createTenantCa'>;

export interface LabDevice {
  readonly deviceId: string;
  readonly identitySpki: Uint8Array;
}

/**
 * Makes the service ready for the lab fleet: the OS release registered, the lab tenant, and
 * `devices` registered and claimed into its default group (those not yet registered; a device
 * registered elsewhere refuses with REGISTRY_DEVICE_EXISTS). Returns the tenant's ID.
 */
export async function prepareLabFleet(
  db: Kysely<Database>,
  pki: LabPki,
  release: { readonly images: Record<Stage, Uint8Array>; readonly signer: Signer },
  devices: readonly LabDevice[],
  now: number,
): Promise<string> {
  await registerLabRelease(db, release.images, release.signer, now);
  const tenantId = await labTenant(db, pki, now);
  const manufacturerId = await labManufacturer(db, now);
  const fresh: LabDevice[] = [];
  for (const device of devices) {
    const known = await findDevice(db, device.deviceId);
    if (known === undefined) fresh.push(device);
    else if (known.tenantId !== tenantId) {
      throw new ServiceError('REGISTRY_DEVICE_EXISTS', `lab device ${device.deviceId} belongs elsewhere`);
    }
  }
  if (fresh.length === 0) return tenantId;
  await withTransaction(db, async (trx) => {
    await registerDevices(trx, {
      manufacturerId,
      registeredAt: now,
      devices: fresh.map((device) => ({ ...device, model: 'orbis-lab-device' })),
    });
    const ids = fresh.map((device) => device.deviceId);
    await claimDevices(trx, tenantId, ids, now);
    await setDevicesGroup(trx, tenantId, ids, (await findDefaultGroup(trx, tenantId)).id);
  });
  return tenantId;
}
