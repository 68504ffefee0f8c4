import { randomBytes, type KeyObject } from 'node:crypto';
import { RootOfTrustError } from '../../errors.ts';
import type { SealingPolicy } from '../root-of-trust.ts';
import { encodePkcs8, parseP256Pkcs8 } from '../emulated/key-files.ts';
import {
  assertSealable,
  sealedFloorUnder,
  sealingKeyInfo,
  sealWithKey,
  SEALING_IV_BYTES,
  unsealWithKey,
} from '../emulated/sealing.ts';
import { certificateKeyInput, SEALING_LABEL, type TpmHmac } from './tpm-secret.ts';

/*
 * Sealing with the TPM backend: the emulated backend's format and floor rule
 * (emulated/sealing.ts), with keys the TPM derives. The sealing key for (authority, floor) is
 * HMAC(device secret, label ‖ authority ‖ floor) computed in the TPM, so it depends on a
 * secret that never leaves this TPM, on the boot chain's signing authority and on the floor;
 * code at floor N derives the key of any floor ≤ N. Derived keys live in process only while a
 * blob is sealed or opened, and are zeroed afterwards.
 */

async function withDerivedKey<T>(hmac: TpmHmac, input: Uint8Array, use: (key: Uint8Array) => T): Promise<T> {
  const key = await hmac(input);
  try {
    return use(key);
  } finally {
    key.fill(0);
  }
}

/** Seals `data` at the policy's floor. Throws RangeError on a bad policy or size, before the TPM is asked. */
export async function sealInTpm(hmac: TpmHmac, data: Uint8Array, policy: SealingPolicy): Promise<Uint8Array> {
  const iv = new Uint8Array(randomBytes(SEALING_IV_BYTES));
  assertSealable(data, policy, iv);
  const floor = policy.securityVersionFloor;
  const input = sealingKeyInfo(SEALING_LABEL, policy.signingAuthority, floor);
  return withDerivedKey(hmac, input, (key) => sealWithKey(key, data, floor, iv));
}

/** Opens a blob under the running code's policy; ROT_UNSEAL_FAILED as the emulated backend. */
export async function unsealInTpm(
  hmac: TpmHmac,
  sealed: Uint8Array,
  policy: SealingPolicy,
): Promise<Uint8Array> {
  const floor = sealedFloorUnder(sealed, policy);
  const input = sealingKeyInfo(SEALING_LABEL, policy.signingAuthority, floor);
  return withDerivedKey(hmac, input, (key) => unsealWithKey(key, sealed));
}

/**
 * The certificate key at rest: its PKCS#8, encrypted (in the sealed-blob format, floor 0) with
 * a key the TPM derives for this purpose alone. Node's TLS needs the key in process, so this is
 * as far as a TPM can keep it: off the disk in the clear, and useless on another TPM.
 */
export async function wrapCertificateKey(hmac: TpmHmac, privateKey: KeyObject): Promise<Uint8Array> {
  const pkcs8 = encodePkcs8(privateKey);
  try {
    const iv = new Uint8Array(randomBytes(SEALING_IV_BYTES));
    return await withDerivedKey(hmac, certificateKeyInput(), (key) => sealWithKey(key, pkcs8, 0, iv));
  } finally {
    pkcs8.fill(0);
  }
}

/** The certificate key from its wrapped form; ROT_STATE_INVALID if it does not open or parse. */
export async function unwrapCertificateKey(hmac: TpmHmac, wrapped: Uint8Array): Promise<KeyObject> {
  let pkcs8: Uint8Array;
  try {
    pkcs8 = await withDerivedKey(hmac, certificateKeyInput(), (key) => unsealWithKey(key, wrapped));
  } catch (cause) {
    if (!(cause instanceof RootOfTrustError) || cause.code !== 'ROT_UNSEAL_FAILED') throw cause;
    throw new RootOfTrustError('ROT_STATE_INVALID', 'the certificate key does not open with this TPM', {
      cause,
    });
  }
  try {
    return parseP256Pkcs8(pkcs8, 'the certificate key');
  } finally {
    pkcs8.fill(0);
  }
}
