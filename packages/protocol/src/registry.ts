import Type from 'typebox';
import { Base64Url, Base64UrlUpTo, DeviceId, Uuid } from './ids.ts';
import { MAX_TPM_PUBLIC_BYTES } from './limits.ts';

/**
 * The manufacturing registry: a silicon maker signs lists of the devices it made, each with
 * its identity public key, and uploads them. Only listed devices can be claimed.
 */

/** Most devices in one signed list; larger batches are split into several lists. */
export const MAX_DEVICE_LIST_ENTRIES = 10_000;
/** Largest signed device list, in bytes, as accepted by the service. */
export const MAX_DEVICE_LIST_BYTES = 4 * 1024 * 1024;
export const DEVICE_LIST_FORMAT_VERSION = 1;

/** The canonical P-256 SubjectPublicKeyInfo is 91 bytes. */
const IdentityKey = Base64Url(91);

export const DeviceListEntry = Type.Object(
  {
    deviceId: DeviceId,
    /** The identity key's canonical SPKI, base64url; the device ID must be its SHA-256. */
    identityKey: IdentityKey,
    model: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' }),
    /**
     * For a TPM-resident identity key: its TPM2B_PUBLIC, base64url, so the service can check
     * that the key is restricted, fixedTPM, fixedParent and sensitiveDataOrigin, and can compute
     * its TPM name (the quote's qualifiedSigner). Its point must be `identityKey`.
     */
    tpmPublic: Type.Optional(Base64UrlUpTo(MAX_TPM_PUBLIC_BYTES)),
  },
  { additionalProperties: false },
);

export const DeviceList = Type.Object(
  {
    formatVersion: Type.Literal(DEVICE_LIST_FORMAT_VERSION),
    /** The manufacturer's ID, as the platform operator registered it. */
    manufacturerId: Uuid,
    /** Unique per list, so the same list uploaded twice is recognised. */
    listId: Uuid,
    /** When the manufacturer signed it, in seconds since the epoch. */
    issuedAt: Type.Integer({ minimum: 0 }),
    devices: Type.Array(DeviceListEntry, { minItems: 1, maxItems: MAX_DEVICE_LIST_ENTRIES }),
  },
  { additionalProperties: false },
);

/** `signature` is ES256 (IEEE P1363, base64url) over the RFC 8785 canonical JSON of `list`. */
export const SignedDeviceList = Type.Object(
  { list: DeviceList, signature: Base64Url(64) },
  { additionalProperties: false, $id: 'SignedDeviceList' },
);

export type DeviceListEntry = Type.Static<typeof DeviceListEntry>;
export type DeviceList = Type.Static<typeof DeviceList>;
export type SignedDeviceList = Type.Static<typeof SignedDeviceList>;
