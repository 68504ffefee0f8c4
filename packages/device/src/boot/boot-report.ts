import { join } from 'node:path';
import type { BootLogEntry } from '@orbis/protocol';
import type { BootError } from '../errors.ts';
import { writeFileAtomically } from '../rot/atomic-file.ts';
import type { BootSlot, BootStage } from './stages.ts';

/** Where the last boot's report lives in a device directory. */
export const BOOT_REPORT_PATH = join('boot', 'last-boot.json');

/** Why one slot was not booted. */
export interface SlotRefusal {
  readonly slot: BootSlot;
  readonly code: BootError['code'];
  /** The reason, with the image error's code first when the package itself was refused. */
  readonly detail: string;
}

/** What happened to one boot stage. */
export interface StageReport {
  readonly stage: BootStage;
  /** The slot the active marker named, tried first. */
  readonly active: BootSlot;
  /** The slot that booted, or null when neither verified (the device halted here). */
  readonly slot: BootSlot | null;
  /** True when the stage booted from the other slot because the active one was refused. */
  readonly fellBack: boolean;
  /** Every slot refused before one booted (or both, when the stage halted). */
  readonly refused: readonly SlotRefusal[];
  /** The boot-log entry measured for this stage, or null when it halted. */
  readonly measured: BootLogEntry | null;
}

/**
 * The record of one boot, written to `<dir>/boot/last-boot.json` whether the device booted or
 * halted, so that an operator (and the next attestation's failure report) can see why.
 */
export interface BootReport {
  readonly bootcount: number;
  /** The stages tried, in boot order; a halted stage is the last. */
  readonly stages: readonly StageReport[];
  /** The stage the device halted at, or null when every stage booted. */
  readonly halted: BootStage | null;
  /** The measurement register after the last stage measured, lowercase hex. */
  readonly measurementRegister: string;
}

/** Writes the report durably (temporary file, fsync, rename), so a crash never leaves half of one. */
export async function writeBootReport(dir: string, report: BootReport): Promise<void> {
  await writeFileAtomically(join(dir, BOOT_REPORT_PATH), `${JSON.stringify(report, null, 2)}\n`);
}
