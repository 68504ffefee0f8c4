import { canonicalJsonBytes, encodeBase64Url, type Signer } from '@orbis/crypto';
import type { DeviceCapability, SignedDeviceCapability } from '@orbis/protocol';

/**
 * Signs a device capability with the capability key: ES256 (IEEE P1363) over its RFC 8785
 * canonical JSON. Devices check it against the capability public key written at manufacture;
 * the service checks it in appraisal (checkDeviceCapability in packages/verify).
 */
export async function signDeviceCapability(
  capability: DeviceCapability,
  capabilityKey: Signer,
): Promise<SignedDeviceCapability> {
  const signature = await capabilityKey.sign(canonicalJsonBytes(capability), 'p1363');
  return { capability, signature: encodeBase64Url(signature) };
}
