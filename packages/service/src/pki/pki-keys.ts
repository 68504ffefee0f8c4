import type { KeyStore } from '@orbis/ca';
import type { Signer } from '@orbis/crypto';
import { OrbisError } from '@orbis/protocol';
import { ServiceError } from '../errors.ts';

/**
 * KeyStore access for the PKI. The key of a CA is looked up by name each time a CA is loaded;
 * the KeyStore caches the signing handle. Whether a key is present is asked of the store
 * itself (`has`), never of a cache, so a key taken offline by `orbis keys remove` counts as
 * offline from then on.
 */

/** The key named `name`, created if absent (a new CA, or one whose row a crash lost before it was written). */
export async function getOrCreateSigner(keyStore: KeyStore, name: string): Promise<Signer> {
  if (await keyStore.has(name)) return keyStore.getSigner(name);
  try {
    return await keyStore.createSigningKey(name);
  } catch (error) {
    // Another replica sharing the KeyStore created it first: use that key.
    if (error instanceof OrbisError && error.code === 'KEYSTORE_KEY_EXISTS') return keyStore.getSigner(name);
    throw error;
  }
}

/** The key of an existing CA; PKI_CA_KEY_MISSING when the KeyStore no longer holds it. */
export async function requireSigner(keyStore: KeyStore, name: string): Promise<Signer> {
  if (!(await keyStore.has(name))) {
    throw new ServiceError('PKI_CA_KEY_MISSING', `the KeyStore holds no key ${name}`);
  }
  return keyStore.getSigner(name);
}

/** The key if the KeyStore holds it now, else undefined (an offline key). */
export async function findSigner(keyStore: KeyStore, name: string): Promise<Signer | undefined> {
  return (await keyStore.has(name)) ? keyStore.getSigner(name) : undefined;
}
