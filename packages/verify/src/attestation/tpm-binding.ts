import { canonicalJsonBytes, decodeBase64Url, sha256, type PublicKey } from '@orbis/crypto';
import type { BootLogEntry } from '@orbis/protocol';

/*
 * What ties a TPM quote to the rest of the evidence (ARCHITECTURE.md, Attestation step 2, "With
 * the TPM backend"). The device computes these to ask the TPM for a quote; the service computes
 * them again to check it. One definition serves both.
 */

/** The PCR that boot measurements extend (sha256 bank): 8, the first of those reserved for the OS. */
export const TPM_MEASUREMENT_PCR = 8;

const SHA256_BYTES = 32;

/**
 * The quote's qualifying data: SHA-256(nonce bytes ‖ certificate-key SPKI ‖ SHA-256(EAT payload
 * bytes)). `nonce` is the attestation nonce as text (strict base64url of its 38 bytes); the EAT
 * payload is the decoded middle segment of the evidence JWS, the claims as the device signed them.
 */
export function tpmQualifyingData(
  nonce: string,
  certificateKey: PublicKey,
  eatPayload: Uint8Array,
): Uint8Array {
  const nonceBytes = decodeBase64Url(nonce);
  const payloadDigest = sha256(eatPayload);
  const input = new Uint8Array(nonceBytes.byteLength + certificateKey.spki.byteLength + SHA256_BYTES);
  input.set(nonceBytes, 0);
  input.set(certificateKey.spki, nonceBytes.byteLength);
  input.set(payloadDigest, nonceBytes.byteLength + certificateKey.spki.byteLength);
  return sha256(input);
}

/** PCR extend with SHA-256: SHA-256(register ‖ digest), as TPM2_PCR_Extend computes it. */
export function extendRegister(register: Uint8Array, digest: Uint8Array): Uint8Array {
  const input = new Uint8Array(register.byteLength + digest.byteLength);
  input.set(register, 0);
  input.set(digest, register.byteLength);
  return sha256(input);
}

/**
 * The measurement register a boot log produces: from 32 zero bytes (a PCR after reset), each
 * entry extends it with SHA-256 of its RFC 8785 canonical JSON, in log order. Both backends keep
 * this register (the TPM in PCR 8); the service replays the log in the evidence to get it.
 */
export function replayBootLog(log: readonly BootLogEntry[]): Uint8Array {
  let register: Uint8Array = new Uint8Array(SHA256_BYTES);
  for (const entry of log) register = extendRegister(register, sha256(canonicalJsonBytes(entry)));
  return register;
}
