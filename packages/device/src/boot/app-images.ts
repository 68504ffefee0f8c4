import type { PublicKey } from '@orbis/crypto';
import { MAX_BOOT_LOG_ENTRIES, type AppImageHeader, type BootLogEntry } from '@orbis/protocol';
import { BootError } from '../errors.ts';
import type { BootRoot } from './boot-root.ts';
import {
  assertAboveFloor,
  bootLogEntryFor,
  verifySignedImage,
  type ImagePolicy,
} from './verify-boot-image.ts';

export interface VerifyAppImagesOptions {
  /** The tenant's app-signing keys (or a developer key on a device in development mode). */
  readonly trustedAppKeys: readonly PublicKey[];
  /** The tenant that claimed this device: the only tenant whose apps it runs. */
  readonly tenantId: string;
}

/** An app that verified and was measured; the runtime runs this payload, not a re-read of flash. */
export interface VerifiedApp {
  readonly header: AppImageHeader;
  readonly payload: Uint8Array;
  readonly entry: BootLogEntry;
}

/** Why the app image at `index` of the input was not measured and must not run. */
export interface AppRefusal {
  readonly index: number;
  readonly code: BootError['code'];
  readonly detail: string;
}

export interface AppImagesResult {
  readonly verified: readonly VerifiedApp[];
  readonly refused: readonly AppRefusal[];
}

/**
 * Decides whether `bytes` may run as an app on a device of `tenantId`: signed only by trusted
 * keys, an app (a boot stage is not an app), of this device's tenant (ARCHITECTURE.md: a device
 * refuses another tenant's app) and not below its anti-rollback floor. Pure, like verifyBootImage.
 */
export function verifyAppImage(
  bytes: Uint8Array,
  policy: ImagePolicy & { readonly tenantId: string },
): VerifiedApp {
  const verified = verifySignedImage(bytes, policy.trustedKeys);
  const { header } = verified;
  if (header.kind !== 'app') {
    throw new BootError('BOOT_IMAGE_WRONG_KIND', `an image of kind ${header.kind} is not an app`);
  }
  if (header.tenantId !== policy.tenantId) {
    throw new BootError(
      'BOOT_IMAGE_INVALID',
      `app of tenant ${header.tenantId}; this device belongs to tenant ${policy.tenantId}`,
    );
  }
  assertAboveFloor(header, policy.floors);
  return { header, payload: verified.payload, entry: bootLogEntryFor(bytes, verified) };
}

/**
 * Verifies app images after the OS stages booted and measures each one that passes, in order,
 * so the boot log attests exactly the apps that will run. A refused app is reported and left
 * out; it does not halt the device, whose OS is already trusted.
 */
export async function verifyAppImages(
  images: readonly Uint8Array[],
  root: BootRoot,
  options: VerifyAppImagesOptions,
): Promise<AppImagesResult> {
  assertReadyForApps(root, images.length);
  const policy = { trustedKeys: options.trustedAppKeys, tenantId: options.tenantId };
  const floors = await root.antiRollbackFloors();
  const verified: VerifiedApp[] = [];
  const refused: AppRefusal[] = [];
  for (const [index, bytes] of images.entries()) {
    try {
      const app = verifyAppImage(bytes, { ...policy, floors });
      assertNotMeasured(root, app.entry);
      await root.measure(app.entry);
      verified.push(app);
    } catch (error) {
      if (!(error instanceof BootError)) throw error;
      refused.push({ index, code: error.code, detail: error.message });
    }
  }
  return { verified, refused };
}

/** Apps are measured after the OS, never instead of it, and the boot log is bounded. */
function assertReadyForApps(root: BootRoot, count: number): void {
  const log = root.bootLog();
  if (!log.some((entry) => entry.kind === 'os')) {
    throw new BootError('BOOT_HALTED', 'apps are verified only after the OS stage has booted');
  }
  if (log.length + count > MAX_BOOT_LOG_ENTRIES) {
    throw new BootError('BOOT_IMAGE_INVALID', `more than ${MAX_BOOT_LOG_ENTRIES} boot-log entries`);
  }
}

/** One image per component per boot: a second would run two versions of the same app. */
function assertNotMeasured(root: BootRoot, entry: BootLogEntry): void {
  if (root.bootLog().some((measured) => measured.componentId === entry.componentId)) {
    throw new BootError('BOOT_IMAGE_INVALID', `component ${entry.componentId} is already measured`);
  }
}
