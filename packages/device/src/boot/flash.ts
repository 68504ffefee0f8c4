import { join } from 'node:path';
import { MAX_IMAGE_PACKAGE_BYTES } from '@orbis/protocol';
import { BootError } from '../errors.ts';
import { readFileBounded, writeFileAtomically } from '../rot/atomic-file.ts';
import { isBootSlot, isBootStage, type BootSlot, type BootStage } from './stages.ts';

/**
 * A device's flash, inside its directory (ARCHITECTURE.md, "Apps and the device OS"):
 *
 *     <dir>/flash/<stage>/a.img     image package in slot A
 *     <dir>/flash/<stage>/b.img     image package in slot B
 *     <dir>/flash/<stage>/active    "a" or "b": the slot to try first (a when missing)
 *
 * Nothing here decides what is trusted: flash may hold anything, and boot verifies every image
 * it reads. The active marker is only a preference, since both slots are verified either way.
 */
export const FLASH_DIRECTORY = 'flash';
/** The active marker is one letter; anything longer is not a marker. */
const MAX_ACTIVE_MARKER_BYTES = 16;

/** What a stage's two slots hold; null for an empty slot. */
export interface SlotContents {
  readonly active: BootSlot;
  readonly a: Uint8Array | null;
  readonly b: Uint8Array | null;
}

/** Stage and slot become path segments, so they are checked at run time too, not only by type. */
function stageDirectory(dir: string, stage: BootStage): string {
  if (!isBootStage(stage)) throw new TypeError(`not a boot stage: ${String(stage)}`);
  return join(dir, FLASH_DIRECTORY, stage);
}

function slotPath(dir: string, stage: BootStage, slot: BootSlot): string {
  if (!isBootSlot(slot)) throw new TypeError(`not a boot slot: ${String(slot)}`);
  return join(stageDirectory(dir, stage), `${slot}.img`);
}

/** Writes an image package into a slot atomically, so a power cut mid-update leaves the old image. */
export async function writeSlot(
  dir: string,
  stage: BootStage,
  slot: BootSlot,
  bytes: Uint8Array,
): Promise<void> {
  if (bytes.byteLength > MAX_IMAGE_PACKAGE_BYTES) {
    throw new BootError(
      'BOOT_IMAGE_INVALID',
      `IMAGE_TOO_LARGE: larger than ${MAX_IMAGE_PACKAGE_BYTES} bytes`,
    );
  }
  await writeFileAtomically(slotPath(dir, stage, slot), bytes);
}

/** Makes `slot` the one a stage tries first; atomic, so the marker is never half-written. */
export async function setActiveSlot(dir: string, stage: BootStage, slot: BootSlot): Promise<void> {
  if (!isBootSlot(slot)) throw new TypeError(`not a boot slot: ${String(slot)}`);
  await writeFileAtomically(join(stageDirectory(dir, stage), 'active'), slot);
}

/**
 * The slot a stage tries first. A missing or unreadable marker means slot a rather than a halt:
 * the marker only orders the attempts, it does not make an image trusted.
 */
export async function readActiveSlot(dir: string, stage: BootStage): Promise<BootSlot> {
  const path = join(stageDirectory(dir, stage), 'active');
  try {
    const bytes = await readFileBounded(path, MAX_ACTIVE_MARKER_BYTES);
    const marker = bytes === null ? '' : new TextDecoder().decode(bytes).trim();
    return isBootSlot(marker) ? marker : 'a';
  } catch (error) {
    if (isFileSystemError(error)) return 'a';
    throw error;
  }
}

/**
 * Reads one slot's image package, bounded by MAX_IMAGE_PACKAGE_BYTES before any byte is read.
 * A slot that is missing or cannot be read holds no image this boot can use (BOOT_SLOT_EMPTY),
 * so boot moves on to the other slot instead of failing outright.
 */
export async function readSlot(dir: string, stage: BootStage, slot: BootSlot): Promise<Uint8Array> {
  const path = slotPath(dir, stage, slot);
  let bytes: Uint8Array | null;
  try {
    bytes = await readFileBounded(path, MAX_IMAGE_PACKAGE_BYTES);
  } catch (error) {
    if (!isFileSystemError(error)) throw error;
    const detail = error.code === 'ENOENT' ? 'no image' : `unreadable (${error.code})`;
    throw new BootError('BOOT_SLOT_EMPTY', `${stage} slot ${slot}: ${detail}`, { cause: error });
  }
  if (bytes === null) {
    throw new BootError(
      'BOOT_IMAGE_INVALID',
      `IMAGE_TOO_LARGE: larger than ${MAX_IMAGE_PACKAGE_BYTES} bytes`,
    );
  }
  return bytes;
}

/** Both slots of a stage and its active marker, for tools and tests; empty slots are null. */
export async function readSlots(dir: string, stage: BootStage): Promise<SlotContents> {
  const readOrNull = async (slot: BootSlot): Promise<Uint8Array | null> => {
    try {
      return await readSlot(dir, stage, slot);
    } catch (error) {
      if (error instanceof BootError && error.code === 'BOOT_SLOT_EMPTY') return null;
      throw error;
    }
  };
  return { active: await readActiveSlot(dir, stage), a: await readOrNull('a'), b: await readOrNull('b') };
}

/** An error from a file-system call (it names its syscall), as opposed to a bug. */
function isFileSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return (
    error instanceof Error && 'syscall' in error && typeof (error as NodeJS.ErrnoException).code === 'string'
  );
}
