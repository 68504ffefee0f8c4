import type { RootOfTrust } from '../rot/root-of-trust.ts';

/**
 * The part of the root of trust that secure boot uses: the boot in progress, the anti-rollback
 * floors, and the measurement register with its log. Boot takes no more than this, so it cannot
 * sign, seal or advance counters, and tests can run it against a small in-memory root.
 */
export type BootRoot = Pick<
  RootOfTrust,
  'measure' | 'bootLog' | 'measurementRegister' | 'antiRollbackFloors' | 'currentBoot'
>;
