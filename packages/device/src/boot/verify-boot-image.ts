import { encodeHex, sha256, type PublicKey } from '@orbis/crypto';
import type { BootLogEntry, ImageHeader } from '@orbis/protocol';
import { ImageError, verifyImage, type VerifiedImage } from '@orbis/verify';
import { BootError } from '../errors.ts';
import type { BootStage } from './stages.ts';

/**
 * The trusted part of secure boot: pure, synchronous checks on bytes already read from flash.
 * No file system and no root of trust here, so the decision to run an image can be audited
 * without reading any I/O code (STYLE.md, "Functional core, imperative shell").
 */

export interface ImagePolicy {
  /** The keys allowed to sign this image: the OS-release keys for boot stages. */
  readonly trustedKeys: readonly PublicKey[];
  /** Anti-rollback floors by component ID, as the root of trust holds them. */
  readonly floors: Readonly<Record<string, number>>;
}

/** An image that passed every check, and the boot-log entry that measures it. */
export interface MeasuredImage {
  readonly header: ImageHeader;
  readonly payload: Uint8Array;
  readonly entry: BootLogEntry;
}

/**
 * Checks the signatures (docs/formats/image-package.md, "How a reader checks a package"). Any
 * refusal becomes BOOT_IMAGE_INVALID and keeps the image error's code in its message, so the
 * boot report says exactly which check failed.
 */
export function verifySignedImage(bytes: Uint8Array, trustedKeys: readonly PublicKey[]): VerifiedImage {
  try {
    return verifyImage(bytes, { trustedKeys });
  } catch (error) {
    if (!(error instanceof ImageError)) throw error;
    throw new BootError('BOOT_IMAGE_INVALID', `${error.code}: ${error.message}`, { cause: error });
  }
}

/** A device refuses an image below its counter, so a signed but vulnerable old image cannot come back. */
export function assertAboveFloor(header: ImageHeader, floors: Readonly<Record<string, number>>): void {
  const floor = floors[header.componentId] ?? 0;
  if (header.securityVersion < floor) {
    throw new BootError(
      'BOOT_IMAGE_ROLLBACK',
      `security version ${header.securityVersion} of component ${header.componentId} is below its floor ${floor}`,
    );
  }
}

/**
 * The measurement of a verified image: SHA-256 of the whole package (so the service can match it
 * against the release it knows byte for byte) and the key that signed it.
 */
export function bootLogEntryFor(bytes: Uint8Array, verified: VerifiedImage): BootLogEntry {
  // verifyImage accepts only packages with at least one signature, every one by a trusted key;
  // the first signer names the signing authority (what sealing binds to).
  const signer = verified.signerKeyIds[0];
  if (signer === undefined) throw new BootError('BOOT_IMAGE_INVALID', 'the image has no signer');
  const { kind, componentId, version, securityVersion } = verified.header;
  return { kind, componentId, version, securityVersion, sha256: encodeHex(sha256(bytes)), signer };
}

/**
 * Decides whether `bytes` may run as boot stage `stage`: signed only by trusted keys, an image
 * of that stage (a validly signed bootloader must not run as the OS), and not below the
 * anti-rollback floor. Returns what to measure; throws BootError with the reason otherwise.
 */
export function verifyBootImage(bytes: Uint8Array, stage: BootStage, policy: ImagePolicy): MeasuredImage {
  const verified = verifySignedImage(bytes, policy.trustedKeys);
  if (verified.header.kind !== stage) {
    throw new BootError(
      'BOOT_IMAGE_WRONG_KIND',
      `the ${stage} slot holds an image of kind ${verified.header.kind}`,
    );
  }
  assertAboveFloor(verified.header, policy.floors);
  return { header: verified.header, payload: verified.payload, entry: bootLogEntryFor(bytes, verified) };
}
