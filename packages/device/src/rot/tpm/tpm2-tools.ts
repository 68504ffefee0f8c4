import { execFile } from 'node:child_process';
import { RootOfTrustError } from '../../errors.ts';

/*
 * The TPM 2.0 backend talks to the TPM through Debian's tpm2-tools (Node has no TSS), over a
 * TCTI: `swtpm:host=…,port=…` for swtpm, `device:/dev/tpmrm0` for a real TPM behind the kernel's
 * resource manager. Found by hand on swtpm 0.7.1 and the tpm2-tools Debian ships:
 * - with no resource manager every call leaves its transient objects loaded, and the TPM runs
 *   out of object slots; so every call here is followed by `tpm2_flushcontext -t`;
 * - saved contexts do not survive a TPM restart: keys are kept as their public and private
 *   blobs and loaded under a primary recreated from its template each time.
 */

/** How long one tpm2-tools command may take, in ms. */
export const TPM_COMMAND_TIMEOUT_MS = 20_000;

export interface TpmConnection {
  /** The TCTI string, e.g. `swtpm:host=127.0.0.1,port=2321`. */
  readonly tcti: string;
}

function run(tool: string, args: readonly string[], tpm: TpmConnection, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      tool,
      args,
      {
        cwd,
        env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
        timeout: TPM_COMMAND_TIMEOUT_MS,
        maxBuffer: 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        // The tools print the TPM's response code on stderr; the first ERROR line says what failed.
        const reason = stderr.split('\n').find((line) => line.startsWith('ERROR')) ?? error.message;
        reject(new TpmCommandError(tool, reason, error));
      },
    );
  });
}

/** A tpm2-tools command failed; `reason` is the tool's own account (a TPM response code, mostly). */
export class TpmCommandError extends RootOfTrustError {
  readonly tool: string;
  readonly reason: string;

  constructor(tool: string, reason: string, cause: unknown) {
    super('ROT_TPM_UNAVAILABLE', `${tool}: ${reason}`, { cause });
    this.tool = tool;
    this.reason = reason;
  }
}

/** Runs one tpm2-tools command in `cwd`, then flushes the transient objects it left loaded. */
export async function tpm2(
  tool: string,
  args: readonly string[],
  tpm: TpmConnection,
  cwd: string,
): Promise<string> {
  try {
    return await run(tool, args, tpm, cwd);
  } finally {
    await run('tpm2_flushcontext', ['-t'], tpm, cwd).catch(() => undefined);
  }
}
