import {
  MAX_ECDSA_P256_DER_SIGNATURE_BYTES,
  MAX_IMAGE_HEADER_BYTES,
  MAX_IMAGE_PAYLOAD_BYTES,
  MAX_IMAGE_SIGNATURES,
} from './limits.ts';

/**
 * The image-package container, format version 1 (docs/formats/image-package.md):
 *
 *   preamble (16 bytes): magic "OIMG" ‖ version u16 ‖ flags u16 ‖ header length u32 ‖ payload length u32
 *   header (canonical JSON) ‖ payload                      ← everything up to here is signed
 *   signature count u8 ‖ { key ID (32) ‖ algorithm u8 ‖ length u8 ‖ signature } × count
 *
 * All integers are big-endian. Packing lives in packages/ca, parsing and verification in
 * packages/verify; both read their layout from here.
 */

/** "OIMG": Orbis IMaGe. */
export const IMAGE_MAGIC: readonly number[] = Object.freeze([0x4f, 0x49, 0x4d, 0x47]);
export const IMAGE_FORMAT_VERSION = 1;
/** Flags are reserved in version 1: every bit must be zero. */
export const IMAGE_FLAGS_NONE = 0;
export const IMAGE_PREAMBLE_BYTES = 16;
/** A key ID is the SHA-256 of the signer's canonical SubjectPublicKeyInfo. */
export const IMAGE_KEY_ID_BYTES = 32;
/** Key ID, algorithm, signature length. */
export const IMAGE_SIGNATURE_FIXED_BYTES = IMAGE_KEY_ID_BYTES + 2;

export const IMAGE_SIGNATURE_ALGORITHMS = {
  /** ECDSA over P-256 with SHA-256, signature in DER (so `openssl dgst -verify` reads it). */
  ecdsaP256Sha256: 1,
} as const;

/** The largest image package any version-1 reader accepts, in bytes. */
export const MAX_IMAGE_PACKAGE_BYTES =
  IMAGE_PREAMBLE_BYTES +
  MAX_IMAGE_HEADER_BYTES +
  MAX_IMAGE_PAYLOAD_BYTES +
  1 +
  MAX_IMAGE_SIGNATURES * (IMAGE_SIGNATURE_FIXED_BYTES + MAX_ECDSA_P256_DER_SIGNATURE_BYTES);
