import { isValidSignature, type PublicKey } from '@orbis/crypto';
import type { ImageHeader } from '@orbis/protocol';
import { ImageError } from '../errors.ts';
import { parseImage } from './parse-image.ts';

export interface VerifyImageOptions {
  /**
   * The keys allowed to sign this image: the OS-release key for boot stages, the tenant's
   * app-signing key (or a developer key, in development mode) for apps. Choosing them is the
   * caller's policy; this function only checks that the package matches it.
   */
  readonly trustedKeys: readonly PublicKey[];
}

/** An image package whose every signature is by a trusted key and verifies. */
export interface VerifiedImage {
  readonly header: ImageHeader;
  readonly payload: Uint8Array;
  /** Key IDs of the signers, in package order. */
  readonly signerKeyIds: readonly string[];
}

/**
 * Parses `bytes` strictly, then requires every signature to name a trusted key and to verify
 * over the signed bytes. A signature by any other key is refused rather than skipped, so no
 * byte of an accepted package is unauthenticated.
 */
export function verifyImage(bytes: Uint8Array, options: VerifyImageOptions): VerifiedImage {
  const parsed = parseImage(bytes);
  const trusted = new Map(options.trustedKeys.map((key) => [key.keyId, key]));
  for (const { keyId, signature } of parsed.signatures) {
    const key = trusted.get(keyId);
    if (key === undefined) {
      throw new ImageError(
        'IMAGE_SIGNATURE_UNKNOWN_KEY',
        `signed by key ${keyId}, which is not trusted here`,
      );
    }
    if (!isValidSignature(key, parsed.signedBytes, signature, 'der')) {
      throw new ImageError('IMAGE_SIGNATURE_INVALID', `signature by key ${keyId} does not verify`);
    }
  }
  return {
    header: parsed.header,
    payload: parsed.payload,
    signerKeyIds: parsed.signatures.map((entry) => entry.keyId),
  };
}
