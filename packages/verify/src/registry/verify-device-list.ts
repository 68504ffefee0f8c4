import {
  canonicalJsonBytes,
  decodeBase64Url,
  isValidSignature,
  parsePublicKeySpki,
  type PublicKey,
} from '@orbis/crypto';
import { compileSchemaCheck, OrbisError, SignedDeviceList, type ErrorCodeOf } from '@orbis/protocol';

export type RegistryErrorCode = ErrorCodeOf<'REGISTRY'>;

/** Why a manufacturer's device list was refused. */
export class RegistryError extends OrbisError<RegistryErrorCode> {}

export interface VerifiedDevice {
  readonly deviceId: string;
  readonly identityKey: PublicKey;
  readonly model: string;
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
 * Checks a signed device list against its manufacturer's registered key: the schema, the
 * ES256 signature over the list's canonical JSON, and for every entry that the identity key is
 * canonical and the device ID is its SHA-256 (device IDs are self-certifying), with no device
 * listed twice. Whether a key is already registered elsewhere is the registry's database check.
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
    if (seen.has(entry.deviceId)) {
      throw new RegistryError('REGISTRY_LIST_ENTRY_INVALID', `entry ${index}: device listed twice`);
    }
    seen.add(entry.deviceId);
    return { deviceId: entry.deviceId, identityKey, model: entry.model };
  });
  return { manufacturerId: list.manufacturerId, listId: list.listId, issuedAt: list.issuedAt, devices };
}
