import { P256_RAW_PUBLIC_KEY_BYTES, P256_SPKI_BYTES, sha256, type PublicKey } from '@orbis/crypto';

/** Key identifiers are 20 bytes, the length RFC 5280's method and RFC 7093's share. */
export const KEY_IDENTIFIER_BYTES = 20;
/** Where the subjectPublicKey BIT STRING's value (0x04 ‖ x ‖ y) starts in the canonical SPKI. */
const PUBLIC_KEY_BITS_OFFSET = P256_SPKI_BYTES - (1 + P256_RAW_PUBLIC_KEY_BYTES);

/**
 * The subjectKeyIdentifier of a CA key: RFC 7093 section 2, method 1, the leftmost 160 bits of
 * the SHA-256 of the subjectPublicKey BIT STRING's value (tag, length and unused-bits octet
 * excluded). It is RFC 5280 4.2.1.2's method 1 with SHA-256 in place of SHA-1, so the trusted
 * core needs no SHA-1; relying parties only compare the bytes, never recompute them.
 */
export function keyIdentifier(publicKey: PublicKey): Uint8Array {
  return sha256(publicKey.spki.subarray(PUBLIC_KEY_BITS_OFFSET)).slice(0, KEY_IDENTIFIER_BYTES);
}
