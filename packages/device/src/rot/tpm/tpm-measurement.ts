import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeHex, sha256 } from '@orbis/crypto';
import { RootOfTrustError } from '../../errors.ts';
import { tpm2, type TpmConnection } from './tpm2-tools.ts';
import { withLoadedIdentity } from './tpm-identity.ts';

/*
 * Measured boot in the TPM: each verified component's digest (SHA-256 of its boot-log entry's
 * canonical JSON, as the emulated backend computes it) extends one PCR, so PCR = SHA-256(PCR ‖
 * digest) from 32 zero bytes, the same register the emulated backend keeps and the service
 * replays from the boot log. A quote by the identity key signs that PCR with qualifying data
 * the caller chooses (the evidence binds nonce, certificate key and EAT payload into it).
 */

/** The PCR boot measurements extend: 8, the first of those reserved for the OS (not resettable). */
export const MEASUREMENT_PCR = 8;
const PCR_SELECTION = `sha256:${MEASUREMENT_PCR}`;

/** Extends the measurement PCR with a 32-byte digest. */
export async function extendMeasurementPcr(
  tpm: TpmConnection,
  digest: Uint8Array,
  cwd: string,
): Promise<void> {
  if (digest.byteLength !== 32) throw new RangeError('a SHA-256 digest is 32 bytes');
  await tpm2('tpm2_pcrextend', [`${MEASUREMENT_PCR}:sha256=${encodeHex(digest)}`], tpm, cwd);
}

/** The measurement PCR's current value. */
export async function readMeasurementPcr(tpm: TpmConnection, cwd: string): Promise<Uint8Array> {
  await tpm2('tpm2_pcrread', [PCR_SELECTION, '-o', 'pcr.bin'], tpm, cwd);
  const value = new Uint8Array(await readFile(join(cwd, 'pcr.bin')));
  if (value.byteLength !== 32)
    throw new RootOfTrustError('ROT_TPM_UNAVAILABLE', 'the TPM returned no SHA-256 PCR');
  return value;
}

/** A TPM quote as tpm2-tools writes it: TPMS_ATTEST, TPMT_SIGNATURE and the quoted PCR values. */
export interface MeasurementQuote {
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly pcrs: Uint8Array;
}

/** The identity key quotes the measurement PCR over `qualifyingData` (at most 64 bytes). */
export function quoteMeasurements(
  directory: string,
  tpm: TpmConnection,
  qualifyingData: Uint8Array,
): Promise<MeasurementQuote> {
  if (qualifyingData.byteLength === 0 || qualifyingData.byteLength > 64) {
    throw new RangeError('qualifying data is 1 to 64 bytes');
  }
  return withLoadedIdentity(directory, tpm, async (scratch) => {
    await tpm2(
      'tpm2_quote',
      [
        '-c',
        'key.ctx',
        '-l',
        PCR_SELECTION,
        '-q',
        encodeHex(qualifyingData),
        '-g',
        'sha256',
        '-m',
        'quote.msg',
        '-s',
        'quote.sig',
        '-o',
        'quote.pcrs',
      ],
      tpm,
      scratch,
    );
    const read = async (name: string) => new Uint8Array(await readFile(join(scratch, name)));
    return {
      message: await read('quote.msg'),
      signature: await read('quote.sig'),
      pcrs: await read('quote.pcrs'),
    };
  });
}

const SHA256_BYTES = 32;

/**
 * Checks that a quote's TPMS_ATTEST covers PCR 8 at `register`: its last member (for a quote,
 * TPMS_QUOTE_INFO.pcrDigest, a TPM2B_DIGEST) is SHA-256 of the quoted PCR values, here PCR 8
 * alone. A PCR that something else extended would give evidence whose log does not replay to
 * its quote, so it is refused on the device, with a reason (ROT_TPM_PCR_NOT_RESET).
 */
export function assertQuoteOfRegister(attest: Uint8Array, register: Uint8Array): void {
  const sizeAt = attest.byteLength - SHA256_BYTES - 2;
  const quoted =
    sizeAt >= 0 && attest[sizeAt] === 0 && attest[sizeAt + 1] === SHA256_BYTES
      ? attest.subarray(sizeAt + 2)
      : undefined;
  if (quoted === undefined || !Buffer.from(quoted).equals(sha256(register))) {
    throw new RootOfTrustError(
      'ROT_TPM_PCR_NOT_RESET',
      "PCR 8 no longer matches this boot's log: something besides the root of trust extended it",
    );
  }
}
