import { canonicalJsonBytes, encodeBase64Url, type Signer } from '@orbis/crypto';
import type { DeviceList, SignedDeviceList } from '@orbis/protocol';

/**
 * Signs a manufacturer's device list: ES256 (IEEE P1363) over its RFC 8785 canonical JSON.
 * Used by `orbis device manufacture` and by tests; verifyDeviceList in packages/verify checks it.
 */
export async function signDeviceList(list: DeviceList, manufacturerKey: Signer): Promise<SignedDeviceList> {
  const signature = await manufacturerKey.sign(canonicalJsonBytes(list), 'p1363');
  return { list, signature: encodeBase64Url(signature) };
}
