import { canonicalize } from '@tufjs/canonical-json';
import { Key, Signature, type Metadata, type Root } from '@tufjs/models';
import { decodePem, encodeHex, encodePem, sha256, type PublicKey, type Signer } from '@orbis/crypto';

/**
 * TUF metadata as the service writes it (ARCHITECTURE.md, "Security renewal"), with
 * @tufjs/models. Keys are KeyStore handles that sign asynchronously, and the models' own
 * `Metadata.sign` takes a synchronous signer, so signing is done here the way the models verify:
 * over the canonical JSON (@tufjs/canonical-json, the OLPC form TUF specifies, not RFC 8785)
 * of `signed`, with the signature appended to `signatures`.
 */

/** TUF's names for ECDSA P-256 with SHA-256, as python-tuf and tuf-js read them. */
export const TUF_KEY_TYPE = 'ecdsa';
export const TUF_KEY_SCHEME = 'ecdsa-sha2-nistp256';
/** The TUF specification version the metadata claims; @tufjs/models accepts any 1.x. */
export const TUF_SPEC_VERSION = '1.0.31';

/**
 * A P-256 public key as a TUF key: keyval.public is the SPKI in PEM. Its key ID is, as TUF
 * specifies, the SHA-256 (hex) of the canonical JSON of the key object.
 */
export function tufKeyOf(publicKey: PublicKey): Key {
  const keyVal = { public: encodePem(publicKey.spki, 'PUBLIC KEY') };
  const body = { keytype: TUF_KEY_TYPE, scheme: TUF_KEY_SCHEME, keyval: keyVal };
  const keyID = encodeHex(sha256(new TextEncoder().encode(canonicalize(body))));
  return new Key({ keyID, keyType: TUF_KEY_TYPE, scheme: TUF_KEY_SCHEME, keyVal });
}

/** SHA-256 (hex) of the SPKI in a TUF key's PEM: the KeyStore's key ID; undefined if not one PEM key. */
export function spkiKeyIdOf(pem: string): string | undefined {
  try {
    return encodeHex(sha256(decodePem(pem, 'PUBLIC KEY')));
  } catch {
    return undefined;
  }
}

/** The bytes a TUF signature covers: the canonical JSON of `signed`. */
export function tufSignedBytes(metadata: Metadata<Root>): Uint8Array {
  return new TextEncoder().encode(canonicalize(metadata.signed.toJSON()));
}

/** Signs `metadata` with each signer (DER signatures, hex, as TUF writes ECDSA), appending. */
export async function signTufMetadata(metadata: Metadata<Root>, signers: readonly Signer[]): Promise<void> {
  const bytes = tufSignedBytes(metadata);
  for (const signer of signers) {
    const sig = encodeHex(await signer.sign(bytes, 'der'));
    const keyID = tufKeyOf(signer.publicKey).keyID;
    metadata.signatures[keyID] = new Signature({ keyID, sig });
  }
}

/** A TUF `expires` value: ISO 8601 in UTC to the second, "YYYY-MM-DDTHH:MM:SSZ" (TUF 4.2). */
export function tufExpiry(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
