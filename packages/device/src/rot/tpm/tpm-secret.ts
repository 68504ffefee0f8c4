import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RootOfTrustError } from '../../errors.ts';
import { tpm2, type TpmConnection } from './tpm2-tools.ts';
import { createOwnerPrimary, loadTpmKey, withScratch } from './tpm-objects.ts';

/*
 * The device-unique secret of the TPM backend: an HMAC-SHA256 key generated inside the TPM
 * (sensitiveDataOrigin) that never leaves it (fixedTPM, fixedParent). It plays the part of the
 * emulated backend's UDS: the state file's MAC and the sealing keys are HMACs under it,
 * computed by the TPM, each over its own label so no two uses share an input. The device
 * directory keeps only its blobs (`secret.pub`, `secret.priv`), which load in this TPM only.
 *
 * What it cannot stop: code on the device that can talk to the TPM can ask for the same HMACs
 * (the key needs no authorization beyond the TPM connection). It stops a device directory
 * copied elsewhere, or edited offline, from being forged.
 */

export const SECRET_KEY_NAME = 'secret';
/** The key's TPMA_OBJECT attributes, as tpm2-tools names them. */
export const SECRET_KEY_ATTRIBUTES = [
  'fixedtpm',
  'fixedparent',
  'sensitivedataorigin',
  'userwithauth',
  'sign',
] as const;
export const TPM_HMAC_BYTES = 32;
/** Largest HMAC input: one TPM2_HMAC command's buffer (TPM2_PT_INPUT_BUFFER is 1024 on swtpm). */
export const MAX_TPM_HMAC_INPUT_BYTES = 1024;

const HMAC_HEX = new RegExp(`^[0-9a-f]{${TPM_HMAC_BYTES * 2}}$`);

function parseHmacOutput(printed: string): Uint8Array {
  const hex = printed.trim().toLowerCase();
  if (!HMAC_HEX.test(hex))
    throw new RootOfTrustError('ROT_TPM_UNAVAILABLE', 'tpm2_hmac printed no SHA-256 HMAC');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Creates the secret in the TPM, keeping its blobs in `directory`. */
export async function createTpmDeviceSecret(directory: string, tpm: TpmConnection): Promise<void> {
  await withScratch(directory, async (scratch) => {
    await createOwnerPrimary(tpm, scratch);
    await tpm2(
      'tpm2_create',
      [
        '-C',
        'primary.ctx',
        '-G',
        'hmac',
        '-a',
        SECRET_KEY_ATTRIBUTES.join('|'),
        '-u',
        join(directory, `${SECRET_KEY_NAME}.pub`),
        '-r',
        join(directory, `${SECRET_KEY_NAME}.priv`),
      ],
      tpm,
      scratch,
    );
  });
}

/** HMAC-SHA256 under the loaded secret; the result goes through stdout, never a file. */
export type TpmHmac = (input: Uint8Array) => Promise<Uint8Array>;

/**
 * Runs `work` with an HMAC under the secret. The secret is loaded on the first HMAC (so inputs
 * can be checked before the TPM is asked) and once only, so several HMACs cost one load;
 * ROT_TPM_KEY_UNLOADABLE on another TPM. Results never touch the disk: tpm2_hmac prints them.
 */
export function withTpmDeviceSecret<T>(
  directory: string,
  tpm: TpmConnection,
  work: (hmac: TpmHmac) => Promise<T>,
): Promise<T> {
  return withScratch(directory, async (scratch) => {
    let loaded = false;
    let inputs = 0;
    return work(async (input) => {
      if (input.byteLength === 0 || input.byteLength > MAX_TPM_HMAC_INPUT_BYTES) {
        throw new RangeError(`a TPM HMAC input is 1 to ${MAX_TPM_HMAC_INPUT_BYTES} bytes`);
      }
      if (!loaded) {
        await createOwnerPrimary(tpm, scratch);
        await loadTpmKey(directory, SECRET_KEY_NAME, tpm, scratch, 'secret.ctx');
        loaded = true;
      }
      const file = `input-${inputs++}.bin`;
      await writeFile(join(scratch, file), input);
      return parseHmacOutput(
        await tpm2('tpm2_hmac', ['-c', 'secret.ctx', '-g', 'sha256', '--hex', file], tpm, scratch),
      );
    });
  });
}

/*
 * What the secret derives, each from its own label. Every label ends in NUL and none is a
 * prefix of another, so the inputs of two uses never coincide.
 */
const encoder = new TextEncoder();
const STATE_MAC_LABEL = encoder.encode('orbis tpm rot state mac v1\0');
/** Passed to emulated/sealing.ts sealingKeyInfo, which appends the authority and the floor. */
export const SEALING_LABEL = encoder.encode('orbis tpm rot sealing v1\0');
const CERTIFICATE_KEY_LABEL = encoder.encode('orbis tpm rot certificate key v1\0');

/** The state file's MAC input: label ‖ SHA-256 of the state's canonical JSON (32 bytes). */
export function stateMacInput(stateDigest: Uint8Array): Uint8Array {
  if (stateDigest.byteLength !== 32) throw new RangeError('the state digest is SHA-256');
  return new Uint8Array(Buffer.concat([STATE_MAC_LABEL, stateDigest]));
}

/** The input of the key that encrypts the certificate key at rest. */
export function certificateKeyInput(): Uint8Array {
  return Uint8Array.from(CERTIFICATE_KEY_LABEL);
}
