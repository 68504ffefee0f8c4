import {
  canonicalJsonBytes,
  constantTimeEqual,
  decodeBase64Url,
  isValidSignature,
  parsePublicKeySpki,
  type PublicKey,
} from '@orbis/crypto';
import {
  compileSchemaCheck,
  OrbisError,
  SignedDeviceList,
  type DeviceListEntry,
  type ErrorCodeOf,
} from '@orbis/protocol';
import {
  isRestrictedSigningKey,
  parseTpmIdentityPublic,
  type TpmIdentityPublic,
} from '../attestation/tpm-structures.ts';

export type RegistryErrorCode = ErrorCodeOf<'REGISTRY'>;

/** Why a manufacturer's device list was refused. */
export class RegistryError extends OrbisError<RegistryErrorCode> {}

export interface VerifiedDevice {
  readonly deviceId: string;
  readonly identityKey: PublicKey;
  readonly model: string;
  /** For a TPM-resident identity key: its TPM2B_PUBLIC, checked, for the registry to keep. */
  readonly tpmPublic?: Uint8Array;
}

export interface VerifiedDeviceList {
  readonly manufacturerId: string;
  readonly listId: string;
  readonly issuedAt: number;
  readonly devices: readonly VerifiedDevice[];
}

const signedListSchema = compileSchemaCheck(SignedDeviceList);

/** A non-canonical base64url signature decodes to nothing that can verify. */
function decodeSignature(text: string): Uint8Array {
  try {
    return decodeBase64Url(text);
  } catch {
    return new Uint8Array(0);
  }
}

/**
 * A TPM entry's public area must be a strict ECDSA P-256 TPM2B_PUBLIC of the entry's own
 * identity key (else a quote could be checked against one key while the EAT is checked against
 * another), and a restricted signing key that only its TPM holds (else it could sign a forged
 * quote).
 */
function readTpmPublic(text: string, identityKey: PublicKey, index: number): TpmIdentityPublic {
  let tpm: TpmIdentityPublic;
  try {
    tpm = parseTpmIdentityPublic(decodeBase64Url(text));
  } catch (cause) {
    throw new RegistryError(
      'REGISTRY_TPM_PUBLIC_INVALID',
      `entry ${index}: tpmPublic is not a strict ECDSA P-256 TPM2B_PUBLIC`,
      { cause },
    );
  }
  if (!constantTimeEqual(tpm.publicKey.spki, identityKey.spki)) {
    throw new RegistryError('REGISTRY_TPM_PUBLIC_INVALID', `entry ${index}: tpmPublic is another key's`);
  }
  if (!isRestrictedSigningKey(tpm)) {
    throw new RegistryError(
      'REGISTRY_TPM_KEY_NOT_RESTRICTED',
      `entry ${index}: the TPM key is not a restricted, fixed, TPM-generated signing key`,
    );
  }
  return tpm;
}

function readEntry(entry: DeviceListEntry, index: number): VerifiedDevice {
  let identityKey: PublicKey;
  try {
    identityKey = parsePublicKeySpki(decodeBase64Url(entry.identityKey));
  } catch (cause) {
    throw new RegistryError('REGISTRY_LIST_ENTRY_INVALID', `entry ${index}: not a canonical P-256 key`, {
      cause,
    });
  }
  if (identityKey.keyId !== entry.deviceId) {
    throw new RegistryError(
      'REGISTRY_LIST_ENTRY_INVALID',
      `entry ${index}: device ID is not SHA-256 of its key`,
    );
  }
  const device = { deviceId: entry.deviceId, identityKey, model: entry.model };
  if (entry.tpmPublic === undefined) return device;
  return { ...device, tpmPublic: readTpmPublic(entry.tpmPublic, identityKey, index).bytes };
}

/**
 * Checks a signed device list against its manufacturer's registered key: the schema, the
 * ES256 signature over the list's canonical JSON, and for every entry that the identity key is
 * canonical and the device ID is its SHA-256 (device IDs are self-certifying), with no device
 * listed twice, and that a TPM public area, where there is one, is that key's and restricted.
 * Whether a key is already registered elsewhere is the registry's database check.
 */
export function verifyDeviceList(value: unknown, manufacturerKey: PublicKey): VerifiedDeviceList {
  if (!signedListSchema.check(value)) {
    throw new RegistryError('REGISTRY_LIST_INVALID', `device list ${signedListSchema.describe(value)}`);
  }
  const { list, signature } = value;
  if (!isValidSignature(manufacturerKey, canonicalJsonBytes(list), decodeSignature(signature), 'p1363')) {
    throw new RegistryError('REGISTRY_LIST_SIGNATURE_INVALID', 'device list signature does not verify');
  }
  const seen = new Set<string>();
  const devices = list.devices.map((entry, index): VerifiedDevice => {
    const device = readEntry(entry, index);
    if (seen.has(device.deviceId)) {
      throw new RegistryError('REGISTRY_LIST_ENTRY_INVALID', `entry ${index}: device listed twice`);
    }
    seen.add(device.deviceId);
    return device;
  });
  return { manufacturerId: list.manufacturerId, listId: list.listId, issuedAt: list.issuedAt, devices };
}
