import {
  constantTimeEqual,
  deviceIdFromPublicKey,
  encodeBase64Url,
  isValidSignature,
  parsePublicKeyJwk,
  type DeviceId,
  type PublicKey,
} from '@orbis/crypto';
import { AttestationClaims, compileSchemaCheck, ORBIS_EAT_PROFILE, type TpmQuote } from '@orbis/protocol';
import { AttestationError } from '../errors.ts';
import { parseEvidenceJws, type EvidenceJws } from './evidence-jws.ts';
import { tpmQualifyingData } from './tpm-binding.ts';
import { verifyTpmQuote } from './tpm-quote.ts';
import type { TpmIdentityPublic, TpmQuoteAttest } from './tpm-structures.ts';

export interface VerifyEvidenceOptions {
  /** The identity key registered for the device that asked for the nonce. */
  readonly identityKey: PublicKey;
  /**
   * The nonce this attestation was issued, as text. Its MAC, age and single use are checked
   * by the caller (verifyNonce, then the database); here the evidence must carry exactly it.
   */
  readonly expectedNonce: string;
  /** Milliseconds since the Unix epoch, from the service's Clock. */
  readonly now: number;
  /** How far `iat` may be from `now`, either way, in seconds. */
  readonly maxClockSkewSeconds: number;
  /**
   * The TPM public area registered for the device (parseTpmIdentityPublic of the device list's
   * tpmPublic), when its identity key lives in a TPM: then the evidence must carry a quote.
   */
  readonly tpmIdentity?: TpmIdentityPublic | undefined;
  /** The quote that came with the evidence, if any (DeviceEvidence.tpmQuote). */
  readonly tpmQuote?: TpmQuote | undefined;
}

/** Evidence whose signature, device, nonce, time and certificate key all check out. */
export interface VerifiedEvidence {
  readonly deviceId: DeviceId;
  /** The claims as the root of trust signed them; appraising them is the service's policy. */
  readonly claims: AttestationClaims;
  /** `cnf.jwk`: the key the device certificate will certify. */
  readonly certificateKey: PublicKey;
  /** For a TPM-resident identity key: the verified quote's attestation (its clock, its counters). */
  readonly tpmQuote?: TpmQuoteAttest;
}

interface TpmEvidence {
  readonly identity: TpmIdentityPublic;
  readonly quote: TpmQuote;
}

const claimsSchema = compileSchemaCheck(AttestationClaims);
/** UEID type byte for a random identifier (RFC 9711 section 4.2.1.1). */
const UEID_TYPE_RAND = 0x01;

/** `ueid` for a device: base64url of 0x01 ‖ the 32-byte device ID. */
export function ueidForDevice(deviceId: DeviceId): string {
  return encodeBase64Url(Buffer.concat([Uint8Array.of(UEID_TYPE_RAND), Buffer.from(deviceId, 'hex')]));
}

function readClaims(payload: Uint8Array): AttestationClaims {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload));
  } catch (cause) {
    throw new AttestationError('ATTESTATION_CLAIMS_INVALID', 'the payload is not UTF-8 JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AttestationError('ATTESTATION_CLAIMS_INVALID', 'the payload is not a JSON object');
  }
  // Checked before the schema so that evidence under a future profile gets a clear answer.
  if ((value as Record<string, unknown>)['eat_profile'] !== ORBIS_EAT_PROFILE) {
    throw new AttestationError('ATTESTATION_PROFILE_UNSUPPORTED', `eat_profile is not ${ORBIS_EAT_PROFILE}`);
  }
  if (!claimsSchema.check(value)) {
    throw new AttestationError('ATTESTATION_CLAIMS_INVALID', `claims ${claimsSchema.describe(value)}`);
  }
  return value;
}

function readCertificateKey(claims: AttestationClaims, identityKey: PublicKey): PublicKey {
  let key: PublicKey;
  try {
    key = parsePublicKeyJwk(claims.cnf.jwk);
  } catch (cause) {
    throw new AttestationError('ATTESTATION_CNF_INVALID', 'cnf.jwk is not a P-256 public key', { cause });
  }
  // The identity key signs evidence only; certifying it for TLS would expose it to other uses.
  if (key.keyId === identityKey.keyId) {
    throw new AttestationError('ATTESTATION_CNF_INVALID', 'cnf.jwk is the identity key');
  }
  return key;
}

/**
 * Whether this attestation is a TPM one, decided by the registry and never by the evidence: a
 * device registered with a TPM public area must send a quote, so that stripping the quote does
 * not downgrade it to the checks of a device without one, and a device registered without one
 * may not send a quote the service would otherwise have to judge.
 */
function readTpmEvidence(options: VerifyEvidenceOptions): TpmEvidence | undefined {
  const { tpmIdentity, tpmQuote } = options;
  if (tpmIdentity === undefined) {
    if (tpmQuote !== undefined) {
      throw new AttestationError(
        'ATTESTATION_TPM_QUOTE_UNEXPECTED',
        'the evidence carries a TPM quote and the device has no TPM key',
      );
    }
    return undefined;
  }
  if (tpmQuote === undefined) {
    throw new AttestationError(
      'ATTESTATION_TPM_QUOTE_MISSING',
      'the device has a TPM identity key and the evidence carries no quote',
    );
  }
  // One key signs both the EAT and the quote; a public area for another key would split them.
  if (tpmIdentity.publicKey.keyId !== options.identityKey.keyId) {
    throw new AttestationError(
      'ATTESTATION_TPM_QUOTE_SIGNER_MISMATCH',
      "the TPM public area is not the device's identity key",
    );
  }
  return { identity: tpmIdentity, quote: tpmQuote };
}

/**
 * The quote binds this evidence to the TPM's measurement register: its qualifying data commits
 * to the nonce, the certificate key and the EAT payload as signed, and PCR 8 to the boot log.
 */
function verifyQuoteFor(
  tpm: TpmEvidence,
  jws: EvidenceJws,
  claims: AttestationClaims,
  certificateKey: PublicKey,
  expectedNonce: string,
): TpmQuoteAttest {
  let qualifyingData: Uint8Array;
  try {
    qualifyingData = tpmQualifyingData(expectedNonce, certificateKey, jws.payload);
  } catch (cause) {
    throw new AttestationError('ATTESTATION_NONCE_MALFORMED', 'the nonce is not strict base64url', {
      cause,
    });
  }
  return verifyTpmQuote(tpm.quote, {
    identity: tpm.identity,
    qualifyingData,
    bootLog: claims.orbis_boot_log,
  });
}

/**
 * Verifies attestation evidence (ARCHITECTURE.md, Attestation step 3, the parts that need no
 * database): an EAT (RFC 9711) as an ES256 compact JWS signed by `identityKey`, naming that
 * device, carrying the expected nonce, made within the allowed skew of `now`, and proposing a
 * certificate key other than the identity key. The signature is checked before the payload is
 * parsed, so only the device's own root of trust can make this function read JSON. For a
 * device registered with a TPM identity key, the quote must then verify too (verifyTpmQuote).
 */
export function verifyEvidence(evidence: string, options: VerifyEvidenceOptions): VerifiedEvidence {
  const tpm = readTpmEvidence(options);
  const jws = parseEvidenceJws(evidence);
  if (!isValidSignature(options.identityKey, jws.signingInput, jws.signature, 'p1363')) {
    throw new AttestationError(
      'ATTESTATION_SIGNATURE_INVALID',
      "the evidence is not signed by the device's identity key",
    );
  }
  const claims = readClaims(jws.payload);
  const deviceId = deviceIdFromPublicKey(options.identityKey);
  if (claims.ueid !== ueidForDevice(deviceId)) {
    throw new AttestationError('ATTESTATION_UEID_MISMATCH', `ueid does not name device ${deviceId}`);
  }
  const encoder = new TextEncoder();
  if (!constantTimeEqual(encoder.encode(claims.eat_nonce), encoder.encode(options.expectedNonce))) {
    throw new AttestationError('ATTESTATION_NONCE_MISMATCH', 'eat_nonce is not the nonce issued');
  }
  // Negated so that a `now` or skew that is not a number (NaN) fails closed.
  if (!(Math.abs(claims.iat * 1000 - options.now) <= options.maxClockSkewSeconds * 1000)) {
    throw new AttestationError(
      'ATTESTATION_IAT_OUT_OF_RANGE',
      `iat ${claims.iat} is outside the allowed skew`,
    );
  }
  const certificateKey = readCertificateKey(claims, options.identityKey);
  if (tpm === undefined) return { deviceId, claims, certificateKey };
  const tpmQuote = verifyQuoteFor(tpm, jws, claims, certificateKey, options.expectedNonce);
  return { deviceId, claims, certificateKey, tpmQuote };
}
