import { RootOfTrustError } from '../../errors.ts';
import type { CounterName } from '../root-of-trust.ts';
import { isCounterValue, type EmulatedRotState } from './state-file.ts';

const COUNTER_NAMES: readonly string[] = ['bootcount', 'capabilityEpoch'];

/**
 * The value of a named monotonic counter. Throws RangeError for a name that is not one, so an
 * untyped caller cannot write an unknown member into the state file.
 */
export function readCounter(state: EmulatedRotState, name: CounterName): number {
  if (!COUNTER_NAMES.includes(name)) throw new RangeError(`no counter named ${name}`);
  return state[name];
}

/**
 * Monotonic counters and anti-rollback floors only go up (ROT_COUNTER_BACKWARDS otherwise); a
 * value equal to the current one is allowed and changes nothing.
 */
export function assertCounterMayMoveTo(what: string, current: number, to: number): void {
  if (!isCounterValue(to)) throw new RangeError(`${what}: ${String(to)} is not an unsigned 32-bit integer`);
  if (to < current) {
    throw new RootOfTrustError('ROT_COUNTER_BACKWARDS', `${what} is ${current}; it cannot go back to ${to}`);
  }
}
