import {
  constantTimeEqual,
  deviceIdFromPublicKey,
  encodeBase64Url,
  isValidSignature,
  parsePublicKeyJwk,
  type DeviceId,
  type PublicKey,
} from '@orbis/crypto';
import { AttestationClaims, compileSchemaCheck, ORBIS_EAT_PROFILE } from '@orbis/protocol';
import { AttestationError } from '../errors.ts';
import { parseEvidenceJws } from './evidence-jws.ts';

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
}

/** Evidence whose signature, device, nonce, time and certificate key all check out. */
export interface VerifiedEvidence {
  readonly deviceId: DeviceId;
  /** The claims as the root of trust signed them; appraising them is the service's policy. */
  readonly claims: AttestationClaims;
  /** `cnf.jwk`: the key the device certificate will certify. */
  readonly certificateKey: PublicKey;
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
 * Verifies attestation evidence (ARCHITECTURE.md, Attestation step 3, the parts that need no
 * database): an EAT (RFC 9711) as an ES256 compact JWS signed by `identityKey`, naming that
 * device, carrying the expected nonce, made within the allowed skew of `now`, and proposing a
 * certificate key other than the identity key. The signature is checked before the payload is
 * parsed, so only the device's own root of trust can make this function read JSON.
 */
export function verifyEvidence(evidence: string, options: VerifyEvidenceOptions): VerifiedEvidence {
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
  return { deviceId, claims, certificateKey };
}
