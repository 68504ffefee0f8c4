import { encodeHex, type PublicKey } from '@orbis/crypto';
import { BootError } from '../errors.ts';
import type { BootRoot } from './boot-root.ts';
import { writeBootReport, type BootReport, type SlotRefusal, type StageReport } from './boot-report.ts';
import { readActiveSlot, readSlot } from './flash.ts';
import { BOOT_STAGES, otherSlot, type BootStage } from './stages.ts';
import { verifyBootImage, type ImagePolicy } from './verify-boot-image.ts';

export interface SecureBootOptions {
  /** The OS-release keys written at manufacture: the only keys boot stages may be signed by. */
  readonly trustedOsKeys: readonly PublicKey[];
}

/**
 * Secure and measured boot of a device directory (ARCHITECTURE.md, "Attestation" step 2 and
 * "Apps and the device OS"). For each stage in order, the active slot and then the other are
 * verified (signature by an OS-release key, the right kind, not below the anti-rollback floor);
 * the first that passes is measured into the root of trust before the next stage is considered,
 * as a real boot measures each stage before jumping to it. A stage with no slot that passes
 * halts the device: the report is written first, then BOOT_HALTED is thrown.
 *
 * The caller starts the boot (`beginBoot`) first; boot measures into that boot's empty log.
 */
export async function secureBoot(
  dir: string,
  root: BootRoot,
  options: SecureBootOptions,
): Promise<BootReport> {
  const { bootcount } = root.currentBoot();
  assertUnmeasured(root, bootcount);
  const policy: ImagePolicy = { trustedKeys: options.trustedOsKeys, floors: await root.antiRollbackFloors() };
  const stages: StageReport[] = [];
  for (const stage of BOOT_STAGES) {
    const report = await bootStage(dir, stage, policy);
    stages.push(report);
    if (report.measured === null) {
      await writeBootReport(dir, reportOf(root, bootcount, stages, stage));
      throw new BootError('BOOT_HALTED', haltMessage(stage, report.refused));
    }
    await root.measure(report.measured);
  }
  const report = reportOf(root, bootcount, stages, null);
  await writeBootReport(dir, report);
  return report;
}

/**
 * A boot measures into a fresh log exactly once: measuring the chain again would attest a boot
 * sequence that never happened.
 */
function assertUnmeasured(root: BootRoot, bootcount: number): void {
  const measured = root.bootLog().length;
  if (measured !== 0) {
    throw new BootError('BOOT_HALTED', `boot ${bootcount} already measured ${measured} components`);
  }
}

/** Tries the active slot, then the other, and returns the first that verifies with what refused. */
async function bootStage(dir: string, stage: BootStage, policy: ImagePolicy): Promise<StageReport> {
  const active = await readActiveSlot(dir, stage);
  const refused: SlotRefusal[] = [];
  for (const slot of [active, otherSlot(active)]) {
    try {
      const bytes = await readSlot(dir, stage, slot);
      const { entry } = verifyBootImage(bytes, stage, policy);
      return { stage, active, slot, fellBack: slot !== active, refused, measured: entry };
    } catch (error) {
      refused.push(refusalOf(slot, error));
    }
  }
  return { stage, active, slot: null, fellBack: false, refused, measured: null };
}

/** A BootError is a verdict on the slot; anything else is a bug and must not be swallowed. */
function refusalOf(slot: SlotRefusal['slot'], error: unknown): SlotRefusal {
  if (!(error instanceof BootError)) throw error;
  return { slot, code: error.code, detail: error.message };
}

function reportOf(
  root: BootRoot,
  bootcount: number,
  stages: readonly StageReport[],
  halted: BootStage | null,
): BootReport {
  return { bootcount, stages, halted, measurementRegister: encodeHex(root.measurementRegister()) };
}

function haltMessage(stage: BootStage, refused: readonly SlotRefusal[]): string {
  const reasons = refused.map(({ slot, code, detail }) => `slot ${slot}: ${code} (${detail})`);
  return `no slot of the ${stage} stage verifies; ${reasons.join('; ')}`;
}
