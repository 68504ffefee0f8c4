import { decodeBase64Url, encodeBase64Url, type Signer } from '@orbis/crypto';
import type { DeviceEvidence } from '@orbis/protocol';
import { tpmQualifyingData } from '@orbis/verify';
import { composeClaims, signEvidence, type EvidenceInputs } from '../emulated/evidence.ts';
import type { TpmConnection } from './tpm2-tools.ts';
import { assertQuoteOfRegister, quoteMeasurements } from './tpm-measurement.ts';

/**
 * The TPM backend's evidence (ARCHITECTURE.md, Attestation step 2, "With the TPM backend"): the
 * same EAT as the emulated backend, signed by the TPM identity key through a TPM2_Hash ticket,
 * and a quote of PCR 8 by the same key whose qualifying data binds the nonce, the certificate
 * key and the EAT payload exactly as signed (tpmQualifyingData, shared with the service).
 */
export interface TpmEvidenceInputs extends EvidenceInputs {
  /** `rot/`, where the identity key's blobs are. */
  readonly directory: string;
  readonly tpm: TpmConnection;
  /** The identity key as a Signer (createTpmIdentitySigner). */
  readonly identity: Signer;
  /** This boot's measurement register, which PCR 8 must equal. */
  readonly register: Uint8Array;
}

export async function createTpmEvidence(inputs: TpmEvidenceInputs): Promise<DeviceEvidence> {
  const evidence = await signEvidence(inputs.identity, composeClaims(inputs));
  // The JWS's payload segment decoded: the claims' bytes as the identity key signed them.
  const payload = decodeBase64Url(evidence.split('.')[1] ?? '');
  const qualifying = tpmQualifyingData(inputs.nonce, inputs.certificateKey, payload);
  const quote = await quoteMeasurements(inputs.directory, inputs.tpm, qualifying);
  assertQuoteOfRegister(quote.message, inputs.register);
  return {
    evidence,
    tpmQuote: { attest: encodeBase64Url(quote.message), signature: encodeBase64Url(quote.signature) },
  };
}
