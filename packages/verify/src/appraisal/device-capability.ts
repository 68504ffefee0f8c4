import { canonicalJsonBytes, decodeBase64Url, isValidSignature, type PublicKey } from '@orbis/crypto';
import { compileSchemaCheck, SignedDeviceCapability, type DeviceCapability } from '@orbis/protocol';

export interface CapabilityContext {
  readonly deviceId: string;
  readonly tenantId: string;
  /** Seconds since the epoch. */
  readonly now: number;
  /**
   * The device's capability epoch: a root-of-trust counter bumped whenever a capability is
   * removed, so an older capability file cannot be replayed.
   */
  readonly epoch: number;
}

const signedCapabilitySchema = compileSchemaCheck(SignedDeviceCapability);

/**
 * Never throws: whether `value` is a device capability signed by the capability key, for this
 * device and tenant, unexpired, and of the device's current epoch. Returns the capability, or
 * undefined for anything else (the caller treats it as absent).
 */
export function checkDeviceCapability(
  value: unknown,
  capabilityKey: PublicKey,
  context: CapabilityContext,
): DeviceCapability | undefined {
  if (!signedCapabilitySchema.check(value)) return undefined;
  const { capability, signature } = value;
  let signatureBytes: Uint8Array;
  try {
    signatureBytes = decodeBase64Url(signature);
  } catch {
    return undefined;
  }
  if (!isValidSignature(capabilityKey, canonicalJsonBytes(capability), signatureBytes, 'p1363'))
    return undefined;
  const current =
    capability.deviceId === context.deviceId &&
    capability.tenantId === context.tenantId &&
    capability.issuedAt <= context.now &&
    context.now < capability.expiresAt &&
    capability.epoch === context.epoch;
  return current ? capability : undefined;
}
