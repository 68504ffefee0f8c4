import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RootOfTrustError } from '../../errors.ts';
import { tpm2, TpmCommandError, type TpmConnection } from './tpm2-tools.ts';

/*
 * Monotonic counters in the TPM: NV indices of type counter (TPM_NT_COUNTER), which the TPM
 * only lets go up, one TPM2_NV_Increment at a time, written to NV before the command returns
 * (they are not TPMA_NV_ORDERLY, so no increment waits for an orderly shutdown). A counter
 * index that is deleted and defined again starts from the highest value any counter on the TPM
 * has held (TPM 2.0 Part 1, NV counters), so re-creating one cannot take it back either.
 *
 * Each device uses three: bootcount, capabilityEpoch, and the generation of its state file (see
 * tpm-root-of-trust.ts). Their handles derive from the device ID, in the owner's range of the
 * TCG handle registry (0x01800000–0x01BFFFFF): four handles per device at 0x01800000 + 4 × (the
 * first 20 bits of the device ID), the fourth left free. Two devices on one TPM collide with a
 * chance of one in 2^20, and manufacture then fails (the index is already defined) rather than
 * share a counter. Devices can share a TPM's NV (swtpm 0.7.1 took 600 counters by hand; a
 * hardware TPM has far less), but not its PCR 8, which beginBoot resets for the whole platform:
 * in practice one TPM holds one device.
 */

export type TpmCounterRole = 'bootcount' | 'capabilityEpoch' | 'stateGeneration';
export type TpmCounterIndices = Readonly<Record<TpmCounterRole, number>>;

const OWNER_NV_FIRST = 0x0180_0000;
const HANDLES_PER_DEVICE = 4;
const SLOT_HEX_DIGITS = 5;
const ROLE_OFFSETS: Readonly<Record<TpmCounterRole, number>> = {
  bootcount: 0,
  capabilityEpoch: 1,
  stateGeneration: 2,
};
const COUNTER_BYTES = 8;

/**
 * TPMA_NV attributes: a counter (TPM_NT_COUNTER) read and incremented with its own (empty)
 * authorization, readable by the owner for diagnosis, outside dictionary-attack lockout.
 */
export const COUNTER_ATTRIBUTES = 'nt=counter|ownerread|authread|authwrite|no_da';
/** The same as a TPMA_NV value once written (TPMA_NV_WRITTEN, bit 29), as tpm2_nvreadpublic prints it. */
const WRITTEN_COUNTER_ATTRIBUTES =
  0x0000_0004 | 0x0000_0010 | 0x0002_0000 | 0x0004_0000 | 0x0200_0000 | 0x2000_0000;

/** The device's three counter handles. `deviceId` is 64 lowercase hex characters. */
export function tpmCounterIndices(deviceId: string): TpmCounterIndices {
  const slot = Number.parseInt(deviceId.slice(0, SLOT_HEX_DIGITS), 16);
  if (!Number.isInteger(slot)) throw new RangeError('a device ID is hex');
  const first = OWNER_NV_FIRST + slot * HANDLES_PER_DEVICE;
  return {
    bootcount: first + ROLE_OFFSETS.bootcount,
    capabilityEpoch: first + ROLE_OFFSETS.capabilityEpoch,
    stateGeneration: first + ROLE_OFFSETS.stateGeneration,
  };
}

export function formatNvIndex(index: number): string {
  return `0x${index.toString(16).padStart(8, '0')}`;
}

/** Defines a counter index (owner authorization, empty as tpm2-tools leaves it). */
export async function defineTpmCounter(tpm: TpmConnection, index: number, cwd: string): Promise<void> {
  const handle = formatNvIndex(index);
  try {
    await tpm2(
      'tpm2_nvdefine',
      [handle, '-C', 'o', '-s', String(COUNTER_BYTES), '-a', COUNTER_ATTRIBUTES],
      tpm,
      cwd,
    );
  } catch (error) {
    if (error instanceof TpmCommandError && /0x14c\b|already defined/i.test(error.reason)) {
      throw new RootOfTrustError(
        'ROT_TPM_UNAVAILABLE',
        `NV index ${handle} is already defined on this TPM: another device here uses it`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Increments a new counter once, since a counter cannot be read before its first increment,
 * and returns its value then: the base from which the device counts. It is not always 1: a new
 * counter starts from the highest value any counter on the TPM has held.
 */
export async function initializeTpmCounter(tpm: TpmConnection, index: number, cwd: string): Promise<number> {
  await incrementTpmCounter(tpm, index, cwd);
  return readTpmCounter(tpm, index, cwd);
}

/** Removes a counter index this process defined (a manufacture that failed part-way); never throws. */
export async function undefineTpmCounter(tpm: TpmConnection, index: number, cwd: string): Promise<void> {
  await tpm2('tpm2_nvundefine', [formatNvIndex(index), '-C', 'o'], tpm, cwd).catch(() => undefined);
}

export async function incrementTpmCounter(tpm: TpmConnection, index: number, cwd: string): Promise<void> {
  const handle = formatNvIndex(index);
  await tpm2('tpm2_nvincrement', [handle, '-C', handle], tpm, cwd);
}

/** A counter's value. Values past 2^53 (which no counter reaches by incrementing) are refused. */
export async function readTpmCounter(tpm: TpmConnection, index: number, cwd: string): Promise<number> {
  const handle = formatNvIndex(index);
  await tpm2(
    'tpm2_nvread',
    [handle, '-C', handle, '-s', String(COUNTER_BYTES), '-o', 'counter.bin'],
    tpm,
    cwd,
  );
  const bytes = await readFile(join(cwd, 'counter.bin'));
  if (bytes.byteLength !== COUNTER_BYTES) {
    throw new RootOfTrustError('ROT_TPM_UNAVAILABLE', `NV index ${handle} did not read as a counter`);
  }
  const value = bytes.readBigUInt64BE(0);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RootOfTrustError('ROT_STATE_INVALID', `NV counter ${handle} is past 2^53`);
  }
  return Number(value);
}

/** The TPMA_NV value of each defined NV index, from one tpm2_nvreadpublic listing. */
async function listNvAttributes(tpm: TpmConnection, cwd: string): Promise<Map<number, number>> {
  const printed = await tpm2('tpm2_nvreadpublic', [], tpm, cwd);
  const attributes = new Map<number, number>();
  // Each index is a block: "0x1800000:" then its name, hash algorithm, "attributes:" with a
  // friendly line and a "value: 0x…" line, and its size.
  for (const block of printed.split(/^(?=0x[0-9a-f]+:\s*$)/im)) {
    const handle = /^(0x[0-9a-f]+):/i.exec(block)?.[1];
    const value = /attributes:\s*\n\s*friendly:[^\n]*\n\s*value:\s*(0x[0-9a-f]+)/i.exec(block)?.[1];
    if (handle !== undefined && value !== undefined) attributes.set(Number(handle), Number(value));
  }
  return attributes;
}

/**
 * Checks that each of the device's counters exists in this TPM as the counter manufacture
 * defined: an index of another type or with other attributes under the same handle (deleted
 * and re-made by whoever holds owner authorization) could be set to any value. ROT_STATE_INVALID
 * otherwise.
 */
export async function assertTpmCounters(
  tpm: TpmConnection,
  indices: TpmCounterIndices,
  cwd: string,
): Promise<void> {
  const attributes = await listNvAttributes(tpm, cwd);
  for (const [role, index] of Object.entries(indices)) {
    const found = attributes.get(index);
    if (found === undefined) {
      throw new RootOfTrustError(
        'ROT_STATE_INVALID',
        `this TPM holds no ${role} counter (${formatNvIndex(index)}) for this device: another TPM, or its NV was cleared`,
      );
    }
    if (found !== WRITTEN_COUNTER_ATTRIBUTES) {
      throw new RootOfTrustError(
        'ROT_STATE_INVALID',
        `NV index ${formatNvIndex(index)} is not the ${role} counter manufacture defined (attributes 0x${found.toString(16)})`,
      );
    }
  }
}
