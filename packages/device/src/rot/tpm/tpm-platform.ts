import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RootOfTrustError } from '../../errors.ts';
import { tpm2, TPM_COMMAND_TIMEOUT_MS, type TpmConnection } from './tpm2-tools.ts';
import { readMeasurementPcr } from './tpm-measurement.ts';

/*
 * The start of a measured boot. A boot log replays from 32 zero bytes, so the measurement PCR
 * must be at its reset value when a boot begins, and only a platform reset (TPM2_Startup(CLEAR)
 * after TPM_Init) resets PCR 8. A real TPM is reset by the machine's power-on, never by us: if
 * PCR 8 is not zero, the TPM has not been reset since the last boot and the boot is refused
 * (ROT_TPM_PCR_NOT_RESET). swtpm has no machine around it, so for a `swtpm:` TCTI beginning a
 * boot does what a power cycle does, through swtpm's control channel (the TCTI's port + 1).
 *
 * Found by hand on swtpm 0.7.1 with tpm2-tools 5.4: `swtpm_ioctl --tcp host:ctrlport -i` sends
 * TPM_Init, after which the TPM answers TPM_RC_INITIALIZE until `tpm2_startup -c`; PCRs then
 * read zero, and NV (the counters) is kept. tpm2_shutdown -c first makes the power cycle an
 * orderly one, as a clean power-off is: a TPM counts disorderly resets against its
 * dictionary-attack lockout.
 */

const SWTPM_DEFAULT_HOST = 'localhost';
const SWTPM_DEFAULT_PORT = 2321;
const SHA256_BYTES = 32;

export interface SwtpmControl {
  readonly host: string;
  readonly controlPort: number;
}

function invalidTcti(tcti: string): RangeError {
  return new RangeError(`TCTI ${JSON.stringify(tcti)} is not swtpm:host=…,port=…`);
}

/**
 * swtpm's control channel for a `swtpm:` TCTI (tpm2-tss's syntax: `swtpm:host=H,port=P`, either
 * optional); undefined for any other TCTI. Throws RangeError for a swtpm TCTI it cannot read.
 */
export function swtpmControlOf(tcti: string): SwtpmControl | undefined {
  if (tcti !== 'swtpm' && !tcti.startsWith('swtpm:')) return undefined;
  let host = SWTPM_DEFAULT_HOST;
  let port = SWTPM_DEFAULT_PORT;
  const config = tcti.slice('swtpm:'.length);
  for (const pair of config === '' ? [] : config.split(',')) {
    const [key, value, ...rest] = pair.split('=');
    if (rest.length > 0 || value === undefined || value === '') throw invalidTcti(tcti);
    if (key === 'host' && /^[0-9A-Za-z.:-]+$/.test(value)) host = value;
    else if (key === 'port' && /^[1-9][0-9]{0,4}$/.test(value) && Number(value) < 65_535)
      port = Number(value);
    else throw invalidTcti(tcti);
  }
  return { host, controlPort: port + 1 };
}

function swtpmIoctl(control: SwtpmControl, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'swtpm_ioctl',
      ['--tcp', `${control.host}:${control.controlPort}`, ...args],
      { timeout: TPM_COMMAND_TIMEOUT_MS },
      (error, _stdout, stderr) => {
        if (error === null) resolve();
        else {
          reject(
            new RootOfTrustError('ROT_TPM_UNAVAILABLE', `swtpm_ioctl ${args.join(' ')}: ${stderr.trim()}`, {
              cause: error,
            }),
          );
        }
      },
    );
  });
}

/** Power-cycles swtpm: orderly shutdown, TPM_Init, TPM2_Startup(CLEAR). */
async function powerCycleSwtpm(control: SwtpmControl, tpm: TpmConnection, cwd: string): Promise<void> {
  await tpm2('tpm2_shutdown', ['-c'], tpm, cwd);
  await swtpmIoctl(control, ['-i']);
  await tpm2('tpm2_startup', ['-c'], tpm, cwd);
}

/**
 * Prepares the TPM for a new boot: resets swtpm as a power-on would, then checks that the
 * measurement PCR is at its reset value (ROT_TPM_PCR_NOT_RESET otherwise).
 */
export async function startMeasuredBoot(tpm: TpmConnection, cwd: string): Promise<void> {
  const control = swtpmControlOf(tpm.tcti);
  if (control !== undefined) await powerCycleSwtpm(control, tpm, cwd);
  const pcr = await readMeasurementPcr(tpm, cwd);
  if (pcr.some((byte) => byte !== 0)) {
    throw new RootOfTrustError(
      'ROT_TPM_PCR_NOT_RESET',
      'PCR 8 is not zero: the TPM has not been reset since the last boot, so a new boot log would not replay to it',
    );
  }
}

/** `length` random bytes from the TPM's generator (TPM2_GetRandom). */
export async function tpmRandom(tpm: TpmConnection, length: number, cwd: string): Promise<Uint8Array> {
  if (!Number.isInteger(length) || length < 1 || length > SHA256_BYTES) {
    throw new RangeError(`TPM2_GetRandom gives 1 to ${SHA256_BYTES} bytes here`);
  }
  await tpm2('tpm2_getrandom', [String(length), '-o', 'random.bin'], tpm, cwd);
  const bytes = new Uint8Array(await readFile(join(cwd, 'random.bin')));
  if (bytes.byteLength !== length) {
    throw new RootOfTrustError('ROT_TPM_UNAVAILABLE', `TPM2_GetRandom returned ${bytes.byteLength} bytes`);
  }
  return bytes;
}
