import { constantTimeEqual, decodeBase64Url, isValidSignature, sha256, SHA256_BYTES } from '@orbis/crypto';
import {
  MAX_TPM_ATTEST_BYTES,
  MAX_TPM_SIGNATURE_BYTES,
  type BootLogEntry,
  type TpmQuote,
} from '@orbis/protocol';
import { AttestationError } from '../errors.ts';
import { replayBootLog, TPM_MEASUREMENT_PCR } from './tpm-binding.ts';
import {
  assertRestrictedSigningKey,
  parseEcdsaSignature,
  parseQuoteAttest,
  TPM_ALG,
  type TpmIdentityPublic,
  type TpmQuoteAttest,
} from './tpm-structures.ts';

/** What a quote must show for this attestation. */
export interface ExpectedTpmQuote {
  /** The device's registered TPM public area: the key that must have signed. */
  readonly identity: TpmIdentityPublic;
  /** tpmQualifyingData for this attestation's nonce, certificate key and EAT payload. */
  readonly qualifyingData: Uint8Array;
  /** The measured-boot log in the evidence, whose replay the quoted PCR must equal. */
  readonly bootLog: readonly BootLogEntry[];
}

function malformed(reason: string, cause?: unknown): AttestationError {
  return new AttestationError('ATTESTATION_TPM_QUOTE_MALFORMED', `TPM quote: ${reason}`, { cause });
}

/** Strict base64url, bounded before it is decoded. */
function decodeField(text: string, maxBytes: number, what: string): Uint8Array {
  if (text.length > Math.ceil((maxBytes * 4) / 3))
    throw malformed(`${what} is longer than ${maxBytes} bytes`);
  try {
    return decodeBase64Url(text);
  } catch (cause) {
    throw malformed(`${what} is not strict base64url`, cause);
  }
}

/** Runs a TPM structure parser, re-coding what it refuses as a malformed quote. */
function readStructure<T>(parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    throw malformed(String(cause), cause);
  }
}

/**
 * TPM 2.0 Part 1, "Qualified Name": the TPM names the signer by its qualified name, nameAlg ‖ H(the
 * parent's qualified name ‖ Name). The parent here is the owner hierarchy's primary key, which
 * the TPM derives from its own seed and no device list records, so the value cannot be
 * recomputed from the public area. Nor does it need to be: the signature is checked with the
 * registered key, and a restricted key signs only attestations the TPM composed itself, naming
 * itself. What is checked is the one thing the public area fixes, the form: a key whose
 * nameAlg is SHA-256 has a SHA-256 qualified name.
 */
function checkSigner(qualifiedSigner: Uint8Array): void {
  if (
    qualifiedSigner.byteLength !== 2 + SHA256_BYTES ||
    qualifiedSigner[0] !== TPM_ALG.sha256 >> 8 ||
    qualifiedSigner[1] !== (TPM_ALG.sha256 & 0xff)
  ) {
    throw new AttestationError(
      'ATTESTATION_TPM_QUOTE_SIGNER_MISMATCH',
      "the quote's signer is not named with SHA-256, as the identity key is",
    );
  }
}

/**
 * The quote must cover exactly the measurement register, sha256 bank PCR 8, and its digest must
 * be SHA-256 of the register the boot log replays to (TPM 2.0 Part 3, 18.4: pcrDigest hashes
 * the selected PCR values, concatenated, with the signing scheme's hash). A quote of more PCRs
 * would do no harm today, but it would let the device choose what its quote means.
 */
function checkPcrs(attest: TpmQuoteAttest, bootLog: readonly BootLogEntry[]): void {
  const [bank, ...otherBanks] = attest.pcrSelection;
  const onlyPcr = bank?.pcrs.length === 1 ? bank.pcrs[0] : undefined;
  if (bank?.hash !== TPM_ALG.sha256 || otherBanks.length > 0 || onlyPcr !== TPM_MEASUREMENT_PCR) {
    throw new AttestationError(
      'ATTESTATION_TPM_PCR_MISMATCH',
      `the quote does not select exactly PCR ${TPM_MEASUREMENT_PCR} of the sha256 bank`,
    );
  }
  if (!constantTimeEqual(attest.pcrDigest, sha256(replayBootLog(bootLog)))) {
    throw new AttestationError(
      'ATTESTATION_TPM_PCR_MISMATCH',
      `the quoted PCR ${TPM_MEASUREMENT_PCR} is not the replay of the boot log`,
    );
  }
}

/**
 * Verifies a TPM quote (ARCHITECTURE.md, Attestation step 2, "With the TPM backend"): signed by
 * the device's registered identity key, which must be a restricted signing key; over the
 * qualifying data of this attestation; and quoting exactly PCR 8, whose value must be the
 * replay of the boot log the evidence carries. The signature is checked before the attestation
 * is read, so only the device's TPM can make this function parse more than its length.
 * Returns the quote's attestation.
 */
export function verifyTpmQuote(quote: TpmQuote, expected: ExpectedTpmQuote): TpmQuoteAttest {
  // A key that is not restricted signs any digest, so nothing it signed proves the TPM spoke.
  assertRestrictedSigningKey(expected.identity);
  const attest = decodeField(quote.attest, MAX_TPM_ATTEST_BYTES, 'attest');
  const signatureBytes = decodeField(quote.signature, MAX_TPM_SIGNATURE_BYTES, 'signature');
  const signature = readStructure(() => parseEcdsaSignature(signatureBytes));
  if (!isValidSignature(expected.identity.publicKey, attest, signature, 'p1363')) {
    throw new AttestationError(
      'ATTESTATION_TPM_QUOTE_SIGNATURE_INVALID',
      "the quote is not signed by the device's identity key",
    );
  }
  const parsed = readStructure(() => parseQuoteAttest(attest));
  checkSigner(parsed.qualifiedSigner);
  if (!constantTimeEqual(parsed.extraData, expected.qualifyingData)) {
    throw new AttestationError(
      'ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH',
      "the quote's qualifying data is not this attestation's",
    );
  }
  checkPcrs(parsed, expected.bootLog);
  return parsed;
}
