import type { Signer } from '@orbis/crypto';

/**
 * Key custody. The CA and the service reach keys only through this interface, as handles that
 * sign; private-key bytes leave a KeyStore only through `exportKey`, for an operator moving an
 * offline key to an HSM or an offline ceremony. Implementations live in packages/service:
 * encrypted key files by default, PKCS#11 for an HSM.
 */
export interface KeyStore {
  /** Creates a new ECDSA P-256 key under `name`; refuses a name already in use. */
  createSigningKey(name: string): Promise<Signer>;
  /** The signing handle for `name`; rejects if there is no such key. */
  getSigner(name: string): Promise<Signer>;
  /** A secret for HMAC (nonces, signed URLs), created on first use, 32 bytes. */
  getHmacSecret(name: string): Promise<Uint8Array>;
  has(name: string): Promise<boolean>;
  list(): Promise<readonly KeyStoreEntry[]>;
  /** PKCS#8 DER of a signing key, for moving it offline. */
  exportKey(name: string): Promise<Uint8Array>;
  /**
   * Deletes the key and remembers that it was taken offline, so the name is never given to a
   * new key: after an export, this is what makes a key offline.
   */
  removeKey(name: string): Promise<void>;
}

export interface KeyStoreEntry {
  readonly name: string;
  readonly kind: 'signing' | 'hmac';
  /** Key ID (SHA-256 of the SPKI) for signing keys. */
  readonly keyId?: string;
  readonly createdAt: number;
  /** Removed from the KeyStore (exported first, one hopes): it signs nothing here any more. */
  readonly offline: boolean;
}

/**
 * The names of the keys ARCHITECTURE.md calls offline: what devices install is signed by
 * these, so a compromise of the running service must not reach them. The embedded default
 * keeps them as separate entries that `orbis keys export` and `orbis keys remove` take offline.
 */
export const OFFLINE_KEY_NAMES = [
  'platform-root-ca',
  'os-release',
  'image-repo-root',
  'image-repo-targets',
  'director-root',
] as const;

/** Key names: lowercase words and digits joined by hyphens or dots (e.g. `tenant-ca.<uuid>.1`). */
export const KEY_NAME_PATTERN = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/;
