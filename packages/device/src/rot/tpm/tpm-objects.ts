import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RootOfTrustError } from '../../errors.ts';
import { tpm2, TpmCommandError, type TpmConnection } from './tpm2-tools.ts';

/*
 * What every key the TPM backend keeps has in common. A key lives in the device directory as
 * two blobs, `<name>.pub` (TPM2B_PUBLIC) and `<name>.priv` (TPM2B_PRIVATE, encrypted by the
 * owner hierarchy's primary key). The primary is never stored: it is recreated from its
 * template each time, which gives the same key only on the TPM whose owner seed made it, so
 * blobs copied to another TPM load nowhere (ROT_TPM_KEY_UNLOADABLE).
 */

/** Prefix of the scratch directories commands run in; a crash can leave one behind. */
export const SCRATCH_PREFIX = '.work-';

/** A scratch directory for one sequence of commands (contexts, tickets), removed afterwards. */
export async function withScratch<T>(directory: string, work: (scratch: string) => Promise<T>): Promise<T> {
  const scratch = await mkdtemp(join(directory, SCRATCH_PREFIX));
  try {
    return await work(scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The owner hierarchy's ECC primary as `primary.ctx` in `scratch`: the same key on the same TPM. */
export async function createOwnerPrimary(tpm: TpmConnection, scratch: string): Promise<void> {
  await tpm2(
    'tpm2_createprimary',
    ['-C', 'o', '-g', 'sha256', '-G', 'ecc256', '-c', 'primary.ctx'],
    tpm,
    scratch,
  );
}

/**
 * Loads the key `<directory>/<name>.{pub,priv}` under `primary.ctx` as `<context>` in
 * `scratch`. ROT_TPM_KEY_UNLOADABLE if the TPM refuses it: the blobs belong to another TPM (or
 * were altered).
 */
export async function loadTpmKey(
  directory: string,
  name: string,
  tpm: TpmConnection,
  scratch: string,
  context: string,
): Promise<void> {
  try {
    await tpm2(
      'tpm2_load',
      [
        '-C',
        'primary.ctx',
        '-u',
        join(directory, `${name}.pub`),
        '-r',
        join(directory, `${name}.priv`),
        '-c',
        context,
      ],
      tpm,
      scratch,
    );
  } catch (error) {
    if (!(error instanceof TpmCommandError)) throw error;
    throw new RootOfTrustError(
      'ROT_TPM_KEY_UNLOADABLE',
      `the ${name} key does not load here: ${error.reason}`,
      {
        cause: error,
      },
    );
  }
}
