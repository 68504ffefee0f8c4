import { join } from 'node:path';

/**
 * Where the TPM backend keeps its files in a device directory: the same `rot/` folder as the
 * emulated backend (emulated/layout.ts), holding no secret in the clear. Keys are blobs that
 * load in this TPM only; counters are in the TPM's NV (tpm-counters.ts).
 *
 *   <dir>/lock               the directory lock (../directory-lock.ts)
 *   <dir>/rot/backend        the marker: which backend made this directory (TPM_BACKEND_MARKER)
 *   <dir>/rot/identity.pub   the identity key's TPM2B_PUBLIC (what the manufacturer's list carries)
 *   <dir>/rot/identity.priv  its TPM2B_PRIVATE, encrypted by this TPM's owner primary
 *   <dir>/rot/secret.pub     the device secret (an HMAC key in the TPM): TPM2B_PUBLIC
 *   <dir>/rot/secret.priv    and TPM2B_PRIVATE
 *   <dir>/rot/state.json     manufacturing state, floors, dbgstat, not-before, the wrapped
 *                            certificate key, counter bases; generation and MAC (tpm-state.ts)
 *   <dir>/rot/.work-*        scratch for one sequence of tpm2-tools commands, removed after it
 */
export const BACKEND_MARKER_NAME = 'backend';
/** The marker's whole content. The emulated backend writes no marker (its `uds.bin` tells it). */
export const TPM_BACKEND_MARKER = 'orbis root of trust: tpm2, format 1\n';

export interface TpmRotPaths {
  readonly directory: string;
  readonly marker: string;
  readonly identityPublic: string;
  readonly state: string;
}

/** The paths of the TPM backend's files in `rotDirectory` (the `rot/` folder itself). */
export function tpmRotPathsIn(rotDirectory: string): TpmRotPaths {
  return {
    directory: rotDirectory,
    marker: join(rotDirectory, BACKEND_MARKER_NAME),
    identityPublic: join(rotDirectory, 'identity.pub'),
    state: join(rotDirectory, 'state.json'),
  };
}
