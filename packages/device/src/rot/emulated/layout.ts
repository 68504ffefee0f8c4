import { join } from 'node:path';

/**
 * Where the emulated root of trust keeps its state in a device directory. Its keys are these
 * files (ARCHITECTURE.md, "What the root of trust can and cannot promise"): the backend keeps
 * the key-handle discipline in process, but protects nothing from code that reads the files.
 *
 *   <dir>/lock                    the directory lock (../directory-lock.ts)
 *   <dir>/rot/uds.bin             the 32-byte unique device secret
 *   <dir>/rot/identity-key.der    the identity key, PKCS#8 DER
 *   <dir>/rot/certificate-key.der the current certificate key, PKCS#8 DER (after the first rotation)
 *   <dir>/rot/state.json          counters, floors, manufacturing state, dbgstat, not-before, MAC
 */
export const ROT_DIRECTORY_NAME = 'rot';

export interface RotPaths {
  readonly directory: string;
  readonly uds: string;
  readonly identityKey: string;
  readonly certificateKey: string;
  readonly state: string;
}

/** The paths of the root-of-trust files in `rotDirectory` (the `rot/` folder itself). */
export function rotPathsIn(rotDirectory: string): RotPaths {
  return {
    directory: rotDirectory,
    uds: join(rotDirectory, 'uds.bin'),
    identityKey: join(rotDirectory, 'identity-key.der'),
    certificateKey: join(rotDirectory, 'certificate-key.der'),
    state: join(rotDirectory, 'state.json'),
  };
}

/** The `rot/` folder of a device directory. */
export function rotDirectoryOf(deviceDirectory: string): string {
  return join(deviceDirectory, ROT_DIRECTORY_NAME);
}
