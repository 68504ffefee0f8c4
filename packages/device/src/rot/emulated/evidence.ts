import {
  canonicalJsonBytes,
  deviceIdFromPublicKey,
  encodeBase64Url,
  publicKeyToJwk,
  type PublicKey,
  type Signer,
} from '@orbis/crypto';
import {
  AttestationClaims,
  compileSchemaCheck,
  EAT_JWT_TYPE,
  ORBIS_EAT_PROFILE,
  type BootLogEntry,
  type SignedDeviceCapability,
} from '@orbis/protocol';
import { ueidForDevice } from '@orbis/verify';
import type { BootIdentity } from '../root-of-trust.ts';

/**
 * The evidence the root of trust composes and signs itself (ARCHITECTURE.md, Attestation step
 * 2): an EAT (RFC 9711) as a compact JWS (RFC 7515), ES256 with an r ‖ s signature, exactly as
 * packages/verify parses it. Every value comes from the root of trust's own state except the
 * nonce, the time and the capabilities; `cnf` is always the root of trust's own certificate key.
 */
export interface EvidenceInputs {
  readonly nonce: string;
  readonly nowMs: number;
  readonly identityKey: PublicKey;
  readonly boot: BootIdentity;
  readonly bootLog: readonly BootLogEntry[];
  readonly debugStatus: number;
  readonly antiRollback: Readonly<Record<string, number>>;
  readonly capabilityEpoch: number;
  readonly capabilities: readonly SignedDeviceCapability[];
  readonly certificateKey: PublicKey;
}

/** The protected header verify-evidence accepts: exactly these two members. */
const PROTECTED_HEADER = { alg: 'ES256', typ: EAT_JWT_TYPE } as const;
const claimsSchema = compileSchemaCheck(AttestationClaims);

/**
 * The claims for `inputs`, checked against the evidence schema before anything is signed.
 * Throws RangeError when the caller's part (nonce, time, capabilities) would not verify.
 */
export function composeClaims(inputs: EvidenceInputs): AttestationClaims {
  const claims = {
    eat_nonce: inputs.nonce,
    ueid: ueidForDevice(deviceIdFromPublicKey(inputs.identityKey)),
    eat_profile: ORBIS_EAT_PROFILE,
    iat: Math.floor(inputs.nowMs / 1000),
    bootcount: inputs.boot.bootcount,
    bootseed: inputs.boot.bootseed,
    dbgstat: inputs.debugStatus,
    orbis_boot_log: inputs.bootLog.map((entry) => ({ ...entry })),
    orbis_counters: { antiRollback: { ...inputs.antiRollback }, capabilityEpoch: inputs.capabilityEpoch },
    // A deep copy, so the capabilities checked are the ones signed.
    orbis_capabilities: structuredClone(inputs.capabilities) as SignedDeviceCapability[],
    cnf: { jwk: publicKeyToJwk(inputs.certificateKey) },
  };
  if (!claimsSchema.check(claims)) throw new RangeError(`evidence claims ${claimsSchema.describe(claims)}`);
  return claims;
}

function segment(value: unknown): string {
  return encodeBase64Url(canonicalJsonBytes(value));
}

/** Signs `claims` with the identity key handle: BASE64URL(header).BASE64URL(claims).BASE64URL(r ‖ s). */
export async function signEvidence(identity: Signer, claims: AttestationClaims): Promise<string> {
  const signingInput = `${segment(PROTECTED_HEADER)}.${segment(claims)}`;
  const signature = await identity.sign(new TextEncoder().encode(signingInput), 'p1363');
  return `${signingInput}.${encodeBase64Url(signature)}`;
}
