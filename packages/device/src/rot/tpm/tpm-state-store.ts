import { writeFileAtomically } from '../atomic-file.ts';
import type { TpmConnection } from './tpm2-tools.ts';
import { incrementTpmCounter, readTpmCounter } from './tpm-counters.ts';
import { withScratch } from './tpm-objects.ts';
import { withTpmDeviceSecret } from './tpm-secret.ts';
import { encodeTpmStateFile, tpmStateMacInput, type TpmRotState } from './tpm-state.ts';

/*
 * The state file and the TPM NV counter that protects it from rollback (its generation).
 *
 * A commit writes the new state under generation g + 1 (g the counter's value), with the TPM's
 * MAC, then increments the counter to g + 1, and only then resolves. A crash between the two
 * leaves the file one ahead of the counter, so open accepts a file at the counter's value or
 * one above it, and nothing older (tpm-backend.ts assertCurrentGeneration).
 *
 * Two files under one generation would let the older state be put back, so:
 * - if a commit fails part-way (its file may be on disk, its increment may or may not have
 *   happened), the next commit first re-reads the counter and writes the current state again
 *   under its value + 1 (settle), so the failed write's file is outranked before anything newer
 *   is acknowledged;
 * - open does the same, after moving the counter up to a file one ahead of it (the write a
 *   crash interrupted then counts, and the file it replaced is refused from then on).
 * So a file at the counter's value is only ever the last acknowledged state, or that state plus
 * one change whose caller was told it failed.
 */

export interface TpmStateStoreParts {
  /** `rot/`, where the secret's blobs are and scratch directories go. */
  readonly directory: string;
  readonly statePath: string;
  readonly tpm: TpmConnection;
  /** The NV handle of the state-generation counter. */
  readonly counter: number;
  readonly state: TpmRotState;
  /** The counter's value, as last read. */
  readonly generation: number;
}

function freezeState(state: TpmRotState): TpmRotState {
  return Object.freeze({
    ...state,
    antiRollback: Object.freeze({ ...state.antiRollback }),
    counterBases: Object.freeze({ ...state.counterBases }),
  });
}

/** The state as last acknowledged, and the one way to change it. Not reentrant: its owner serializes calls. */
export class TpmStateStore {
  readonly #parts: TpmStateStoreParts;
  #state: TpmRotState;
  #generation: number;
  #inDoubt = false;

  constructor(parts: TpmStateStoreParts) {
    this.#parts = parts;
    this.#state = freezeState(parts.state);
    this.#generation = parts.generation;
  }

  /** Opening: takes over a file at `fileGeneration` (checked to be g or g + 1) and settles it. */
  static async resume(parts: TpmStateStoreParts, fileGeneration: number): Promise<TpmStateStore> {
    const store = new TpmStateStore(parts);
    if (fileGeneration === parts.generation + 1) await store.#incrementCounter();
    await store.#settle();
    return store;
  }

  get state(): TpmRotState {
    return this.#state;
  }

  /** Writes `next` durably under a new generation, and only then makes it the state. */
  async commit(next: TpmRotState): Promise<void> {
    const frozen = freezeState(next);
    if (this.#inDoubt) await this.#settle();
    try {
      await this.#writeUnderNextGeneration(frozen);
    } catch (error) {
      this.#inDoubt = true;
      throw error;
    }
    this.#state = frozen;
  }

  #inScratch<T>(work: (scratch: string) => Promise<T>): Promise<T> {
    return withScratch(this.#parts.directory, work);
  }

  #incrementCounter(): Promise<void> {
    return this.#inScratch((scratch) => incrementTpmCounter(this.#parts.tpm, this.#parts.counter, scratch));
  }

  /** Writes `state` under generation g + 1 with the TPM's MAC, then moves the counter to g + 1. */
  async #writeUnderNextGeneration(state: TpmRotState): Promise<void> {
    const { directory, statePath, tpm } = this.#parts;
    const generation = this.#generation + 1;
    const mac = await withTpmDeviceSecret(directory, tpm, (hmac) =>
      hmac(tpmStateMacInput(state, generation)),
    );
    await writeFileAtomically(statePath, encodeTpmStateFile(state, generation, mac));
    await this.#incrementCounter();
    this.#generation = generation;
  }

  /** Reads the counter's real value and writes the acknowledged state under the next generation. */
  async #settle(): Promise<void> {
    this.#inDoubt = true;
    this.#generation = await this.#inScratch((scratch) =>
      readTpmCounter(this.#parts.tpm, this.#parts.counter, scratch),
    );
    await this.#writeUnderNextGeneration(this.#state);
    this.#inDoubt = false;
  }
}
