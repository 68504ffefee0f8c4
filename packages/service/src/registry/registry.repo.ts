import type { Kysely, Selectable, Transaction } from 'kysely';
import { encodeHex, sha256 } from '@orbis/crypto';
import { ServiceError } from '../errors.ts';
import { MAX_BOUND_PARAMETERS, chunked, withTransaction } from '../db/backend.ts';
import { isUniqueViolation, withDatabaseErrors, type DatabaseFailure } from '../db/database-errors.ts';
import { assertPageLimit } from '../db/paging.ts';
import type { CertificateResultClass, Database, DevicesTable, ManufacturersTable } from '../db/schema.ts';

/** Most devices one registration list may hold (a larger upload is split by the caller). */
export const MAX_REGISTRY_BATCH_DEVICES = 10_000;
/** Most devices one claim may name. */
export const MAX_CLAIM_BATCH_DEVICES = 10_000;
/** Most devices one listing returns. */
export const MAX_DEVICE_PAGE = 1000;

/** Devices per INSERT: six bound values each. */
const DEVICES_PER_INSERT = Math.floor(MAX_BOUND_PARAMETERS / 6);

export interface Manufacturer {
  readonly id: string;
  readonly name: string;
  /** The key that signs this manufacturer's device lists: canonical P-256 SPKI, DER. */
  readonly publicKeySpki: Uint8Array;
  readonly createdAt: number;
}

/** One entry of a manufacturer's list, already parsed and checked by the caller. */
export interface DeviceRegistration {
  /** SHA-256 of identitySpki, 64 lowercase hex characters. */
  readonly deviceId: string;
  /** The canonical SPKI (DER) that packages/crypto's parsePublicKeySpki accepted. */
  readonly identitySpki: Uint8Array;
  /** The identity key's TPM2B_PUBLIC, as packages/verify checked it, for a TPM-resident key. */
  readonly tpmPublic?: Uint8Array | undefined;
  readonly model: string;
}

export interface RegisterDevicesInput {
  readonly manufacturerId: string;
  readonly registeredAt: number;
  readonly devices: readonly DeviceRegistration[];
}

export interface Device {
  readonly deviceId: string;
  readonly identitySpki: Uint8Array;
  /** The identity key's TPM2B_PUBLIC when it lives in a TPM (attestation then demands a quote). */
  readonly identityTpmPublic: Uint8Array | null;
  readonly manufacturerId: string;
  readonly model: string;
  readonly registeredAt: number;
  /** Null until claimed; a claim is permanent. */
  readonly tenantId: string | null;
  readonly claimedAt: number | null;
  readonly disabled: boolean;
  readonly quarantined: boolean;
  readonly groupId: string | null;
  readonly lastBootcount: number | null;
  readonly lastBootseed: string | null;
  readonly lastAttestedAt: number | null;
  /** Issue time (ms) of the newest nonce an admitted attestation used (ADR 0009). */
  readonly lastNonceAt: number | null;
  /** The capability epoch the service holds for the device (raised when a capability is removed). */
  readonly capabilityEpoch: number;
  /** The certificate the device got at its last attestation; null before its first. */
  readonly certificate: DeviceCertificateRecord | null;
}

/** What the service keeps of a device's current certificate (the certificate itself names the device). */
export interface DeviceCertificateRecord {
  /** Lowercase hex. */
  readonly serial: string;
  readonly resultClass: CertificateResultClass;
  readonly notBefore: number;
  readonly notAfter: number;
}

function toManufacturer(row: Selectable<ManufacturersTable>): Manufacturer {
  return { id: row.id, name: row.name, publicKeySpki: row.public_key_spki, createdAt: row.created_at };
}

export function toDevice(row: Selectable<DevicesTable>): Device {
  return {
    deviceId: row.device_id,
    identitySpki: row.identity_spki,
    identityTpmPublic: row.identity_tpm_public,
    manufacturerId: row.manufacturer_id,
    model: row.model,
    registeredAt: row.registered_at,
    tenantId: row.tenant_id,
    claimedAt: row.claimed_at,
    disabled: row.disabled === 1,
    quarantined: row.quarantined === 1,
    groupId: row.group_id,
    lastBootcount: row.last_bootcount,
    lastBootseed: row.last_bootseed,
    lastAttestedAt: row.last_attested_at,
    lastNonceAt: row.last_nonce_at,
    capabilityEpoch: row.capability_epoch,
    certificate:
      row.certificate_serial === null ||
      row.certificate_result_class === null ||
      row.certificate_not_before === null ||
      row.certificate_not_after === null
        ? null
        : {
            serial: row.certificate_serial,
            resultClass: row.certificate_result_class,
            notBefore: row.certificate_not_before,
            notAfter: row.certificate_not_after,
          },
  };
}

/** Registers a manufacturer; REGISTRY_MANUFACTURER_EXISTS if its ID or name is taken. */
export async function insertManufacturer(
  db: Kysely<Database>,
  manufacturer: Manufacturer,
): Promise<Manufacturer> {
  const row = await withDatabaseErrors(
    () =>
      db
        .insertInto('manufacturers')
        .values({
          id: manufacturer.id,
          name: manufacturer.name,
          public_key_spki: manufacturer.publicKeySpki,
          created_at: manufacturer.createdAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    (failure) =>
      isUniqueViolation(failure, 'manufacturers', ['id']) ||
      isUniqueViolation(failure, 'manufacturers', ['name'])
        ? new ServiceError(
            'REGISTRY_MANUFACTURER_EXISTS',
            'a manufacturer with that ID or name already exists',
          )
        : undefined,
  );
  return toManufacturer(row);
}

export async function findManufacturer(db: Kysely<Database>, id: string): Promise<Manufacturer | undefined> {
  const row = await withDatabaseErrors(() =>
    db.selectFrom('manufacturers').selectAll().where('id', '=', id).executeTakeFirst(),
  );
  return row === undefined ? undefined : toManufacturer(row);
}

function registrationConflict(failure: DatabaseFailure): ServiceError | undefined {
  // Reached only when another transaction registered the same device between our checks and
  // our insert (PostgreSQL, read committed); the checks below give the precise message.
  if (isUniqueViolation(failure, 'devices', ['device_id'])) {
    return new ServiceError('REGISTRY_DEVICE_EXISTS', 'a device in the list is already registered');
  }
  if (isUniqueViolation(failure, 'devices', ['identity_spki'])) {
    return new ServiceError(
      'REGISTRY_KEY_ALREADY_REGISTERED',
      'an identity key in the list is already registered',
    );
  }
  return undefined;
}

/** Checks what can be checked without the database: sizes, ID = SHA-256(key), no repeats. */
function assertRegistrationList(devices: readonly DeviceRegistration[]): void {
  if (devices.length > MAX_REGISTRY_BATCH_DEVICES) {
    throw new ServiceError(
      'REGISTRY_BATCH_TOO_LARGE',
      `a registration list may hold at most ${MAX_REGISTRY_BATCH_DEVICES} devices`,
    );
  }
  const seen = new Set<string>();
  for (const device of devices) {
    // Self-certifying IDs (ARCHITECTURE.md, "Identities and keys"): store no row whose ID
    // another key could claim.
    if (device.deviceId !== encodeHex(sha256(device.identitySpki))) {
      throw new ServiceError(
        'REGISTRY_DEVICE_ID_MISMATCH',
        `device ${device.deviceId.slice(0, 64)} is not the SHA-256 of the identity key listed with it`,
      );
    }
    if (seen.has(device.deviceId)) {
      throw new ServiceError('REGISTRY_DEVICE_EXISTS', `device ${device.deviceId} is listed twice`);
    }
    seen.add(device.deviceId);
  }
}

async function assertNotRegistered(
  trx: Transaction<Database>,
  devices: readonly DeviceRegistration[],
): Promise<void> {
  const existingId = await trx
    .selectFrom('devices')
    .select('device_id')
    .where(
      'device_id',
      'in',
      devices.map((device) => device.deviceId),
    )
    .orderBy('device_id')
    .executeTakeFirst();
  if (existingId !== undefined) {
    throw new ServiceError('REGISTRY_DEVICE_EXISTS', `device ${existingId.device_id} is already registered`);
  }
  // The registry refuses a key already registered under any ID (ARCHITECTURE.md).
  const existingKey = await trx
    .selectFrom('devices')
    .select('device_id')
    .where(
      'identity_spki',
      'in',
      devices.map((device) => device.identitySpki),
    )
    .orderBy('device_id')
    .executeTakeFirst();
  if (existingKey !== undefined) {
    throw new ServiceError(
      'REGISTRY_KEY_ALREADY_REGISTERED',
      `an identity key in the list is already registered as device ${existingKey.device_id}`,
    );
  }
}

/**
 * Registers a manufacturer's devices, all or none, in one transaction. Refuses the whole list
 * if any device ID does not match its key (REGISTRY_DEVICE_ID_MISMATCH), is listed twice or is
 * already registered (REGISTRY_DEVICE_EXISTS), or if a key is already registered under
 * another ID (REGISTRY_KEY_ALREADY_REGISTERED). Returns how many devices were registered.
 */
export async function registerDevices(db: Kysely<Database>, input: RegisterDevicesInput): Promise<number> {
  assertRegistrationList(input.devices);
  if (input.devices.length === 0) return 0;
  return withDatabaseErrors(
    () =>
      withTransaction(db, async (trx) => {
        const manufacturer = await trx
          .selectFrom('manufacturers')
          .select('id')
          .where('id', '=', input.manufacturerId)
          .executeTakeFirst();
        if (manufacturer === undefined) {
          throw new ServiceError('REGISTRY_MANUFACTURER_NOT_FOUND', 'no manufacturer has that ID');
        }
        for (const chunk of chunked(input.devices, MAX_BOUND_PARAMETERS))
          await assertNotRegistered(trx, chunk);
        for (const chunk of chunked(input.devices, DEVICES_PER_INSERT)) {
          await trx
            .insertInto('devices')
            .values(
              chunk.map((device) => ({
                device_id: device.deviceId,
                identity_spki: device.identitySpki,
                identity_tpm_public: device.tpmPublic ?? null,
                manufacturer_id: input.manufacturerId,
                model: device.model,
                registered_at: input.registeredAt,
              })),
            )
            .execute();
        }
        return input.devices.length;
      }),
    registrationConflict,
  );
}

/** Any registered device, claimed or not (attestation looks devices up by the ID they present). */
export async function findDevice(db: Kysely<Database>, deviceId: string): Promise<Device | undefined> {
  const row = await withDatabaseErrors(() =>
    db.selectFrom('devices').selectAll().where('device_id', '=', deviceId).executeTakeFirst(),
  );
  return row === undefined ? undefined : toDevice(row);
}

/** The device registered with this identity key (canonical SPKI, DER), if any. */
export async function findDeviceByIdentityKey(
  db: Kysely<Database>,
  identitySpki: Uint8Array,
): Promise<Device | undefined> {
  const row = await withDatabaseErrors(() =>
    db.selectFrom('devices').selectAll().where('identity_spki', '=', identitySpki).executeTakeFirst(),
  );
  return row === undefined ? undefined : toDevice(row);
}

/** A device as a tenant addresses it: only devices the tenant has claimed are visible. */
export interface TenantDeviceKey {
  readonly tenantId: string;
  readonly deviceId: string;
}

/** A device the tenant has claimed; undefined for unclaimed devices and other tenants' devices. */
export async function findTenantDevice(
  db: Kysely<Database>,
  key: TenantDeviceKey,
): Promise<Device | undefined> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('devices')
      .selectAll()
      .where('device_id', '=', key.deviceId)
      .where('tenant_id', '=', key.tenantId)
      .executeTakeFirst(),
  );
  return row === undefined ? undefined : toDevice(row);
}

/** The tenant's devices, by device ID, a page at a time. */
export async function listTenantDevices(
  db: Kysely<Database>,
  tenantId: string,
  options: { readonly afterDeviceId?: string; readonly limit: number },
): Promise<Device[]> {
  assertPageLimit(options.limit, MAX_DEVICE_PAGE);
  const rows = await withDatabaseErrors(() => {
    let query = db
      .selectFrom('devices')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('device_id')
      .limit(options.limit);
    if (options.afterDeviceId !== undefined) query = query.where('device_id', '>', options.afterDeviceId);
    return query.execute();
  });
  return rows.map(toDevice);
}

async function claimChunk(
  trx: Transaction<Database>,
  tenantId: string,
  deviceIds: readonly string[],
  claimedAt: number,
): Promise<void> {
  const rows = await trx
    .selectFrom('devices')
    .select(['device_id', 'tenant_id'])
    .where('device_id', 'in', deviceIds)
    .execute();
  const found = new Map(rows.map((row) => [row.device_id, row.tenant_id]));
  const unregistered = deviceIds.find((deviceId) => !found.has(deviceId));
  if (unregistered !== undefined) {
    throw new ServiceError('CLAIM_DEVICE_NOT_REGISTERED', `device ${unregistered} is not registered`);
  }
  // The same answer whichever tenant holds the device: nothing about other tenants leaks.
  const claimed = rows.find((row) => row.tenant_id !== null);
  if (claimed !== undefined) {
    throw new ServiceError('CLAIM_DEVICE_ALREADY_CLAIMED', `device ${claimed.device_id} is already claimed`);
  }
  // `tenant_id is null` again: a concurrent claim (PostgreSQL) that committed after the check
  // above makes this update skip the row, and the count gives it away.
  const result = await trx
    .updateTable('devices')
    .set({ tenant_id: tenantId, claimed_at: claimedAt })
    .where('device_id', 'in', deviceIds)
    .where('tenant_id', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows !== BigInt(deviceIds.length)) {
    throw new ServiceError(
      'CLAIM_DEVICE_ALREADY_CLAIMED',
      'a device in the list was claimed at the same time',
    );
  }
}

/**
 * Claims registered, unclaimed devices for a tenant, permanently: all of them or, on any
 * refusal, none (CLAIM_DEVICE_NOT_REGISTERED, CLAIM_DEVICE_ALREADY_CLAIMED even if this tenant
 * holds it, TENANT_NOT_FOUND, REGISTRY_BATCH_TOO_LARGE). Repeated IDs count once.
 */
export async function claimDevices(
  db: Kysely<Database>,
  tenantId: string,
  deviceIds: readonly string[],
  claimedAt: number,
): Promise<void> {
  const unique = [...new Set(deviceIds)];
  if (unique.length > MAX_CLAIM_BATCH_DEVICES) {
    throw new ServiceError(
      'REGISTRY_BATCH_TOO_LARGE',
      `a claim may name at most ${MAX_CLAIM_BATCH_DEVICES} devices`,
    );
  }
  if (unique.length === 0) return;
  await withDatabaseErrors(() =>
    withTransaction(db, async (trx) => {
      const tenant = await trx
        .selectFrom('tenants')
        .select('id')
        .where('id', '=', tenantId)
        .executeTakeFirst();
      if (tenant === undefined) throw new ServiceError('TENANT_NOT_FOUND', 'no tenant has that ID');
      for (const chunk of chunked(unique, MAX_BOUND_PARAMETERS))
        await claimChunk(trx, tenantId, chunk, claimedAt);
    }),
  );
}

/** Claims one device; see claimDevices. */
export async function claimDevice(
  db: Kysely<Database>,
  tenantId: string,
  deviceId: string,
  claimedAt: number,
): Promise<void> {
  await claimDevices(db, tenantId, [deviceId], claimedAt);
}

async function setDeviceFlag(
  db: Kysely<Database>,
  key: TenantDeviceKey,
  flag: 'disabled' | 'quarantined',
  value: boolean,
): Promise<Device> {
  const bit = value ? 1 : 0;
  const row = await withDatabaseErrors(() =>
    db
      .updateTable('devices')
      .set(flag === 'disabled' ? { disabled: bit } : { quarantined: bit })
      .where('device_id', '=', key.deviceId)
      .where('tenant_id', '=', key.tenantId)
      .returningAll()
      .executeTakeFirst(),
  );
  if (row === undefined) {
    throw new ServiceError('REGISTRY_DEVICE_NOT_FOUND', 'no device with that ID is claimed by the tenant');
  }
  return toDevice(row);
}

/** Disables or re-enables a tenant's device; REGISTRY_DEVICE_NOT_FOUND if the tenant has not claimed it. */
export async function setDeviceDisabled(
  db: Kysely<Database>,
  key: TenantDeviceKey,
  disabled: boolean,
): Promise<Device> {
  return setDeviceFlag(db, key, 'disabled', disabled);
}

/** Quarantines or releases a tenant's device; REGISTRY_DEVICE_NOT_FOUND if the tenant has not claimed it. */
export async function setDeviceQuarantined(
  db: Kysely<Database>,
  key: TenantDeviceKey,
  quarantined: boolean,
): Promise<Device> {
  return setDeviceFlag(db, key, 'quarantined', quarantined);
}
