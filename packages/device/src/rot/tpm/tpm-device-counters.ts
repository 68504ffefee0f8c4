import { RootOfTrustError } from '../../errors.ts';
import type { CounterName } from '../root-of-trust.ts';
import { assertCounterMayMoveTo } from '../emulated/counters.ts';
import { MAX_COUNTER_VALUE } from '../emulated/state-file.ts';
import type { TpmConnection } from './tpm2-tools.ts';
import { incrementTpmCounter, readTpmCounter, type TpmCounterIndices } from './tpm-counters.ts';
import { withScratch } from './tpm-objects.ts';

/**
 * Most a counter moves in one advanceCounter call: each step is one TPM2_NV_Increment (about
 * 20 ms on swtpm), so this bounds a call to about 20 s. The emulated backend jumps anywhere in
 * uint32 at once; a TPM counter has no such command, so a larger move is refused (RangeError)
 * rather than left running for hours.
 */
export const MAX_COUNTER_ADVANCE = 1024;
const COUNTER_NAMES: readonly string[] = ['bootcount', 'capabilityEpoch'];

/**
 * The interface's named counters (bootcount, capabilityEpoch) over the device's NV counters. A
 * counter reads as its TPM value less its value at manufacture (a new TPM counter does not
 * always start at 1), and must be an unsigned 32-bit integer, as the evidence schema says.
 */
export class TpmDeviceCounters {
  readonly #directory: string;
  readonly #tpm: TpmConnection;
  readonly #indices: TpmCounterIndices;
  readonly #bases: Readonly<Record<CounterName, number>>;

  constructor(
    directory: string,
    tpm: TpmConnection,
    indices: TpmCounterIndices,
    bases: Readonly<Record<CounterName, number>>,
  ) {
    this.#directory = directory;
    this.#tpm = tpm;
    this.#indices = indices;
    this.#bases = Object.freeze({ ...bases });
  }

  async read(name: CounterName): Promise<number> {
    const index = this.#indexOf(name);
    return this.valueOf(name, await withScratch(this.#directory, (s) => readTpmCounter(this.#tpm, index, s)));
  }

  /** Increments `name` until it reads `to`: never down (ROT_COUNTER_BACKWARDS), at most MAX_COUNTER_ADVANCE steps. */
  async advance(name: CounterName, to: number): Promise<void> {
    const current = await this.read(name);
    assertCounterMayMoveTo(name, current, to);
    if (to - current > MAX_COUNTER_ADVANCE) {
      throw new RangeError(
        `${name} is ${current}: a TPM counter moves at most ${MAX_COUNTER_ADVANCE} per call, not to ${to}`,
      );
    }
    const index = this.#indexOf(name);
    await withScratch(this.#directory, async (scratch) => {
      for (let value = current; value < to; value += 1) await incrementTpmCounter(this.#tpm, index, scratch);
    });
  }

  /** Counts a boot in `scratch` (inside a sequence of commands) and returns the new bootcount. */
  async countBoot(scratch: string): Promise<number> {
    await incrementTpmCounter(this.#tpm, this.#indices.bootcount, scratch);
    return this.valueOf('bootcount', await readTpmCounter(this.#tpm, this.#indices.bootcount, scratch));
  }

  /** A counter's value from its TPM value; ROT_STATE_INVALID outside uint32. */
  valueOf(name: CounterName, raw: number): number {
    const value = raw - this.#bases[name];
    if (!Number.isInteger(value) || value < 0 || value > MAX_COUNTER_VALUE) {
      throw new RootOfTrustError('ROT_STATE_INVALID', `the ${name} counter reads ${value}, outside uint32`);
    }
    return value;
  }

  #indexOf(name: CounterName): number {
    // An untyped caller must not reach another NV index through the name.
    if (!COUNTER_NAMES.includes(name)) throw new RangeError(`no counter named ${name}`);
    return this.#indices[name];
  }
}
